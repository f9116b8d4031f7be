/**
 * `agent keygen` and `agent sigs --session-key-file` as a user runs them (`npx session-keeper …`):
 * keygen writes 0600, never overwrites, prints only the public key; the sigs made from the key
 * file and the keeper's capability (a real Temporal dev server, the real worker, the devnet)
 * decrypt on the devnet as printed, and contain nothing of the secret key.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readSessionKeyFile } from '../../src/client/session-key-file';
import { decryptRoundTrip, type Harness, NETWORK, runCli, startHarness } from '../client/harness';
import { statusWhere } from '../e2e/harness';

describe('agent keygen (no server needed)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygen-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('writes a 0600 key file, prints only its public key, and never overwrites it', async () => {
    const file = path.join(dir, 'agent.key');
    const made = await runCli(['agent', 'keygen', '--out', file], process.env);
    assert.equal(made.code, 0, made.stderr);
    const pair = readSessionKeyFile(file);
    assert.equal(made.stdout, `${pair.publicKey}\n`, 'the public key and nothing else');
    assert.equal(made.stderr, '');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const before = fs.readFileSync(file, 'utf8');

    const again = await runCli(['agent', 'keygen', '--out', file], process.env);
    assert.notEqual(again.code, 0);
    assert.equal(again.stdout, '');
    assert.match(again.stderr, /^error: .*already exists; session key files are never overwritten/);
    assert.equal(fs.readFileSync(file, 'utf8'), before, 'the key file is untouched');
  });

  test('-o json gives {publicKey, file}', async () => {
    const file = path.join(dir, 'json.key');
    const made = await runCli(['agent', 'keygen', '--out', file, '-o', 'json'], process.env);
    assert.equal(made.code, 0, made.stderr);
    assert.deepEqual(JSON.parse(made.stdout), { publicKey: readSessionKeyFile(file).publicKey, file });
  });

  test('--out is required', async () => {
    const r = await runCli(['agent', 'keygen'], process.env);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /required option '--out <file>'/);
  });
});

describe('agent sigs --session-key-file', () => {
  let h: Harness;
  let dir: string;
  const cli = (...args: string[]) => runCli([...args, '--address', h.address], h.childEnv);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'held-sigs-cli-'));
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('prints sigs made here from the keeper’s capability: they decrypt as printed', async () => {
    const [a] = h.newAgents('held', 1);
    const file = path.join(dir, `${a.agentId}.key`);
    const made = await runCli(['agent', 'keygen', '--out', file], process.env);
    assert.equal(made.code, 0, made.stderr);
    const key = readSessionKeyFile(file);
    await h.keeper.startAgent({
      agentId: a.agentId,
      network: NETWORK,
      mode: 'eoa',
      signer: a.signer,
      sessionPublicKey: key.publicKey,
    });
    await statusWhere(h.keeper, a.agentId, 'holding a capability', (s) => !!s.capability);

    const r = await cli('agent', 'sigs', a.agentId, '--session-key-file', file);
    assert.equal(r.code, 0, r.stderr);
    const sigs = JSON.parse(r.stdout) as Record<string, { address: string; signedMessage: string }>;
    const lit = await h.lit();
    assert.deepEqual(Object.keys(sigs).sort(), [...lit.connectedNodes].sort());
    for (const s of Object.values(sigs)) assert.equal(s.address, key.publicKey);
    assert.ok(!r.stdout.includes(key.secretKey.slice(0, 64)), 'nothing of the secret key');
    assert.equal(await decryptRoundTrip(lit, a.wallet.address, sigs as never, 'held'), 'held');
  });

  test('a key file the agent was not started with: one line saying why', async () => {
    const [a] = h.newAgents('held-other', 1);
    const own = path.join(dir, 'own.key');
    const other = path.join(dir, 'other.key');
    await runCli(['agent', 'keygen', '--out', own], process.env);
    await runCli(['agent', 'keygen', '--out', other], process.env);
    await h.keeper.startAgent({
      agentId: a.agentId,
      network: NETWORK,
      mode: 'eoa',
      signer: a.signer,
      sessionPublicKey: readSessionKeyFile(own).publicKey,
    });
    await statusWhere(h.keeper, a.agentId, 'holding a capability', (s) => !!s.capability);
    const r = await cli('agent', 'sigs', a.agentId, '--session-key-file', other);
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /bound to session key .*not this key/);
  });

  test('a missing key file fails before connecting anywhere', async () => {
    const r = await runCli(
      [
        'agent',
        'sigs',
        'any',
        '--session-key-file',
        path.join(dir, 'missing.key'),
        '--address',
        '127.0.0.1:1',
      ],
      h.childEnv,
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /session key file .*missing\.key cannot be read \(ENOENT\)/);
  });
});
