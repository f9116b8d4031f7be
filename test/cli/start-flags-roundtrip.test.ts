/**
 * Every flag of `agent start`, through the command a user runs (`npx session-keeper agent start
 * …` from the repository root) against a real Temporal dev server, read back from what Temporal
 * stored: the workflow's start input. A flag that commander stores under one name and the spec
 * builder reads under another (as `--lit-action-file` once was) fails here, and a flag added
 * without a row here fails the coverage check.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import { register } from '../../src/cli/commands/agent';
import { writeNewSessionKeyFile } from '../../src/client/session-key-file';
import type { AgentSpec } from '../../src/shared/types';
import { type Harness, runCli, startHarness } from '../client/harness';

const PKP = `0x04${'cd'.repeat(64)}`;
const CID = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG';
const ACTION = '(async () => { Lit.Actions.setResponse({ response: "true" }); })();\n';

/** Flags of `agent start` that say how to start, not what to store. */
const NOT_STORED = new Set(['--replace', '--worker-elsewhere', '--concurrency', '--output']);

function startFlagNames(): string[] {
  const program = new Command();
  register(program);
  const start = program.commands
    .find((c) => c.name() === 'agent')
    ?.commands.find((c) => c.name() === 'start');
  assert.ok(start, 'agent start is registered');
  const connection = new Set([
    '--address',
    '--profile',
    '--config-file',
    '--namespace',
    '--tls',
    '--tls-cert-path',
    '--tls-key-path',
    '--tls-ca-path',
    '--tls-server-name',
    '--api-key',
    '--allow-unencrypted',
    '--connect-timeout',
  ]);
  return start.options.map((o) => o.long as string).filter((f) => !connection.has(f) && !NOT_STORED.has(f));
}

describe('agent start: every flag reaches the stored spec', () => {
  let h: Harness;
  let dir: string;
  let actionFile: string;
  const flagsUsed = new Set<string>();
  const cli = (...args: string[]) => {
    for (const a of args) if (a.startsWith('--')) flagsUsed.add(a);
    return runCli([...args, '--address', h.address], h.childEnv);
  };
  const stored = async (agentId: string): Promise<AgentSpec> => {
    const running = await h.keeper.runningSpec(agentId);
    assert.ok(running, `agent ${agentId} runs`);
    return running.spec;
  };

  before(async () => {
    // No worker: what is checked is what Temporal stored, before anything mints.
    h = await startHarness({ withWorker: false });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'start-flags-'));
    actionFile = path.join(dir, 'auth-action.js');
    fs.writeFileSync(actionFile, ACTION);
  });
  after(async () => {
    await h?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('one row per way of starting an agent', async () => {
    const [a1, a2, a3, cap, a4, a5] = h.newAgents('flags', 6);
    const sessionPub = 'a1'.repeat(32);
    const keyFile = path.join(dir, 'agent.session-key');
    const keyPair = writeNewSessionKeyFile(keyFile);
    const rows: { args: string[]; agentId: string; expect: Partial<AgentSpec> }[] = [
      {
        agentId: a1.agentId,
        args: [
          '--network',
          'devnet',
          '--mode',
          'eoa',
          '--signer',
          a1.signer,
          '--ttl',
          '2h',
          '--refresh-at',
          '0.5',
          '--jitter',
          '0',
          '--resources',
          'lit-pkp://*=pkp-signing,lit-litaction://*=lit-action-execution',
          '--label',
          'team=payments',
          '--label',
          'tier=gold',
        ],
        expect: {
          network: 'devnet',
          mode: 'eoa',
          signer: a1.signer,
          sessionTtlMs: 7_200_000,
          refresh: { fraction: 0.5, jitter: 0 },
          resourceAbilityRequests: [
            { resource: 'lit-pkp://*', ability: 'pkp-signing' },
            { resource: 'lit-litaction://*', ability: 'lit-action-execution' },
          ],
          labels: { team: 'payments', tier: 'gold' },
        },
      },
      {
        agentId: a2.agentId,
        args: [
          '--network',
          'devnet',
          '--mode',
          'eoa',
          '--signer',
          a2.signer,
          '--refresh-at',
          '30m',
          '--capacity-signer',
          cap.signer,
          '--capacity-token-id',
          '42',
          '--capacity-ttl',
          '3d',
        ],
        expect: {
          refresh: { fraction: 2 / 3, jitter: 0.1, renewBeforeMs: 1_800_000 },
          capacityDelegation: { signer: cap.signer, capacityTokenId: '42', ttlMs: 3 * 86_400_000 },
        },
      },
      {
        agentId: a3.agentId,
        args: ['--network', 'devnet', '--mode', 'pkp', '--pkp-public-key', PKP, '--signer', a3.signer],
        expect: { mode: 'pkp', pkpPublicKey: PKP, signer: a3.signer },
      },
      {
        agentId: 'flags-action-file',
        args: [
          '--network',
          'devnet',
          '--mode',
          'pkp',
          '--pkp-public-key',
          PKP,
          '--lit-action-file',
          actionFile,
          '--lit-action-params',
          '{"agent":"flags-action-file"}',
        ],
        expect: { mode: 'pkp', litAction: { code: ACTION, jsParams: { agent: 'flags-action-file' } } },
      },
      {
        agentId: 'flags-action-cid',
        args: ['--network', 'devnet', '--mode', 'pkp', '--pkp-public-key', PKP, '--lit-action-ipfs-id', CID],
        expect: { litAction: { ipfsId: CID } },
      },
      {
        // Agent-held mode: the public key as given (0x, uppercase), stored normalised.
        agentId: a4.agentId,
        args: [
          '--network',
          'devnet',
          '--mode',
          'eoa',
          '--signer',
          a4.signer,
          '--session-public-key',
          `0x${sessionPub.toUpperCase()}`,
        ],
        expect: { sessionPublicKey: sessionPub },
      },
      {
        // The key file `agent keygen` writes: only its public half is stored.
        agentId: a5.agentId,
        args: [
          '--network',
          'devnet',
          '--mode',
          'pkp',
          '--pkp-public-key',
          PKP,
          '--signer',
          a5.signer,
          '--session-key-file',
          keyFile,
        ],
        expect: { mode: 'pkp', sessionPublicKey: keyPair.publicKey },
      },
    ];
    for (const row of rows) {
      const r = await cli('agent', 'start', row.agentId, ...row.args);
      assert.equal(r.code, 0, `${row.args.join(' ')}: ${r.stderr}`);
      const spec = await stored(row.agentId);
      for (const [field, value] of Object.entries(row.expect)) {
        assert.deepEqual(spec[field as keyof AgentSpec], value, `${row.agentId}: ${field}`);
      }
      if (row.expect.litAction) assert.equal(spec.signer, undefined, 'a Lit Action agent has no signer');
    }
    const storedText = JSON.stringify(await stored(a5.agentId));
    assert.ok(!storedText.includes(keyPair.secretKey.slice(0, 64)), 'the secret half is not stored');
    // The two ways of naming the key exclude each other; nothing starts.
    const both = await cli(
      'agent',
      'start',
      'flags-both-keys',
      '--network',
      'devnet',
      '--mode',
      'eoa',
      '--signer',
      a4.signer,
      '--session-public-key',
      sessionPub,
      '--session-key-file',
      keyFile,
    );
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /either --session-public-key or --session-key-file, not both/);
    assert.equal(await h.keeper.runningSpec('flags-both-keys'), undefined);
  });

  test('--from-file with flags as defaults for each entry, and --replace', async () => {
    const [b1, b2] = h.newAgents('fleet-flags', 2);
    const file = path.join(dir, 'agents.json');
    fs.writeFileSync(
      file,
      JSON.stringify([
        { agentId: b1.agentId, signer: b1.signer },
        { agentId: b2.agentId, signer: b2.signer, sessionTtl: '3h' },
      ]),
    );
    const r = await cli(
      'agent',
      'start',
      '--from-file',
      file,
      '--network',
      'devnet',
      '--mode',
      'eoa',
      '--ttl',
      '90m',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stored(b1.agentId)).sessionTtlMs, 90 * 60_000, 'the flag is the default');
    assert.equal((await stored(b2.agentId)).sessionTtlMs, 3 * 3600_000, 'the file wins over the flag');

    const replaced = await runCli(
      [
        'agent',
        'start',
        b1.agentId,
        '--network',
        'devnet',
        '--mode',
        'eoa',
        '--signer',
        b1.signer,
        '--ttl',
        '4h',
        '--replace',
        '--address',
        h.address,
      ],
      h.childEnv,
    );
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(replaced.stdout, /^replaced agent /);
    assert.equal((await stored(b1.agentId)).sessionTtlMs, 4 * 3600_000);
  });

  test('a reference that does not resolve on this machine: an error on loopback (nothing starts), a warning with --worker-elsewhere', async () => {
    const missing = ['--network', 'devnet', '--mode', 'eoa', '--signer', 'env:NOT_SET_ANYWHERE_KEY'];
    const refused = await runCli(
      ['agent', 'start', 'flags-missing', ...missing, '--address', h.address],
      h.childEnv,
    );
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /^error: agent flags-missing: signer env:NOT_SET_ANYWHERE_KEY: environment variable NOT_SET_ANYWHERE_KEY is not set here; set it here and in the worker.s environment\. .*so nothing was started \(pass --worker-elsewhere/,
    );
    assert.equal(await h.keeper.runningSpec('flags-missing'), undefined, 'nothing was started');

    const keyFile = path.join(dir, 'world-readable.key');
    fs.writeFileSync(keyFile, `0x${'11'.repeat(32)}\n`, { mode: 0o644 });
    fs.chmodSync(keyFile, 0o644);
    const open = await runCli(
      [
        'agent',
        'start',
        'flags-open-file',
        '--network',
        'devnet',
        '--mode',
        'eoa',
        '--signer',
        `file:${keyFile}`,
        '--address',
        h.address,
      ],
      h.childEnv,
    );
    assert.notEqual(open.code, 0);
    assert.match(
      open.stderr,
      /key file is accessible to its group and other users \(mode 0644\); chmod 600 it/,
    );

    const elsewhere = await cli('agent', 'start', 'flags-missing', ...missing, '--worker-elsewhere');
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.match(
      elsewhere.stderr,
      /^warning: agent flags-missing: signer env:NOT_SET_ANYWHERE_KEY: environment variable NOT_SET_ANYWHERE_KEY is not set here; set it here and in the worker.s environment; make sure the worker can resolve it/,
    );
    assert.equal((await stored('flags-missing')).signer, 'env:NOT_SET_ANYWHERE_KEY');
  });

  test('coverage: every flag of agent start that describes the agent was used by a row above', () => {
    const flags = startFlagNames();
    assert.ok(flags.includes('--lit-action-file'));
    const unused = flags.filter((f) => !flagsUsed.has(f));
    assert.deepEqual(unused, [], `flags of agent start without a round-trip row: ${unused.join(', ')}`);
  });
});
