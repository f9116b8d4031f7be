/**
 * Compose's `setup` service with exactly compose's environment: `npx session-keeper setup`, the
 * setup service's variables from docker-compose.yml (no codec keys; only the address replaced by a
 * reachable one that the encryption policy still counts as non-local: this machine's own
 * non-loopback address, with a Temporal dev server listening on it and no search attributes yet)
 * exits 0 and registers the keeper's search attributes. With the same environment a command that
 * sends payloads (`rotate`) is still refused.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { readComposeFacts } from '../../deploy/local-cluster/compose-source';
import { setupEnvironment, withoutKeeperVariables } from '../../deploy/local-cluster/local-cluster';
import { decideEncryption, isLoopbackHost, UnencryptedPayloadsRefused } from '../../src/codec/policy';
import { SEARCH_ATTRIBUTE_TYPES } from '../../src/shared/search-attributes';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server';

const REPO = path.resolve(__dirname, '..', '..');
const facts = readComposeFacts();

/** This machine's first non-loopback IPv4 address (what a container address is to the policy). */
function nonLoopbackAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? [])
      if (a.family === 'IPv4' && !a.internal && !isLoopbackHost(a.address)) return a.address;
  }
  throw new Error('this machine has no non-loopback IPv4 address for the dev server to listen on');
}

function npx(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['session-keeper', ...args], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

let server: DevServer;
let address: string;

before(async () => {
  server = await startDevServer({ ip: nonLoopbackAddress(), searchAttributes: false });
  address = server.address;
});

after(async () => {
  await server?.stop();
});

async function customSearchAttributes(): Promise<Record<string, number>> {
  const connection = await Connection.connect({ address });
  try {
    const res = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    return Object.fromEntries(Object.entries(res.customAttributes ?? {}).map(([k, v]) => [k, Number(v)]));
  } finally {
    await connection.close();
  }
}

test("compose's setup environment: no codec keys, a Temporal the policy counts as non-local", () => {
  assert.equal(facts.setupEnv.TEMPORAL_ADDRESS, 'temporal:7233');
  for (const name of Object.keys(facts.setupEnv)) assert.doesNotMatch(name, /CODEC|ALLOW_UNENCRYPTED/, name);
  // The address the test uses instead is just as non-local to the policy as temporal:7233.
  for (const a of [facts.setupEnv.TEMPORAL_ADDRESS, address]) {
    assert.throws(
      () => decideEncryption({ keysConfigured: false, temporalAddress: a, allowInsecure: false }),
      UnencryptedPayloadsRefused,
      a,
    );
  }
});

test("npx session-keeper setup with compose's setup environment exits 0 and registers the search attributes", async () => {
  const env = setupEnvironment(facts, process.env, address, facts.setupEnv.TEMPORAL_NAMESPACE ?? 'default');
  // Exactly compose's variables, the address replaced; nothing of the keeper's from this shell.
  const keeperVars = Object.fromEntries(
    Object.entries(env).filter(([k]) => /^(TEMPORAL_|LIT_NETWORKS|SESSION_KEEPER_)/.test(k)),
  );
  assert.deepEqual(keeperVars, { ...facts.setupEnv, TEMPORAL_ADDRESS: address });
  assert.deepEqual(
    Object.keys(await customSearchAttributes()).filter((k) => k in SEARCH_ATTRIBUTE_TYPES),
    [],
  );

  const run = await npx(['setup'], env);
  assert.equal(run.code, 0, `setup failed:\n${run.stderr}${run.stdout}`);
  assert.match(run.stdout, /registered 5 search attribute\(s\) on namespace default/);
  assert.doesNotMatch(run.stderr, /warning/);

  const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
  const want: Record<string, number> = {
    Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  };
  const registered = await customSearchAttributes();
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES)) {
    assert.equal(registered[name], want[type], `${name} registered as ${type}`);
  }

  // Run again (compose restarts it on failure; a second run must be harmless).
  const again = await npx(['setup'], env);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already has every search attribute/);
});

test('with the same environment, a command that sends payloads is still refused', async () => {
  const env = setupEnvironment(facts, process.env, address, 'default');
  const run = await npx(['rotate', 'compose-setup-agent'], env);
  assert.notEqual(run.code, 0);
  assert.match(
    run.stderr,
    new RegExp(
      `refusing to send unencrypted payloads to the non-local Temporal at ${address.replace(/\./g, '\\.')}`,
    ),
  );
  // withoutKeeperVariables is what strips this shell's settings for both.
  assert.equal(
    withoutKeeperVariables({ SESSION_KEEPER_CODEC_KEYS: 'k1:x', PATH: '/bin' }).SESSION_KEEPER_CODEC_KEYS,
    undefined,
  );
});
