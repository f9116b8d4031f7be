/**
 * Agent-held mode's operator commands as a user runs them (`npx session-keeper agent …`) against
 * a real Temporal dev server, the real worker and the devnet: `agent start --session-key-file`,
 * `agent status` (mode, bound key, capability expiry; no capability in the JSON listing),
 * `agent sigs` (the capability JSON for an agent-held agent), `agent rotate-key` (both keys shown
 * after), and the refusals (both key flags, neither, a delivered-mode agent).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeNewSessionKeyFile } from '../../src/client/session-key-file';
import type { SessionCapability } from '../../src/shared/types';
import { type CliResult, type Harness, runCli, startHarness, until } from '../client/harness';

function oneLineError(r: CliResult, cause: RegExp, what: string): void {
  assert.equal(r.code, 1, `${what}: exit ${r.code}; stdout ${r.stdout}`);
  assert.equal(r.stdout, '', `${what}: nothing on stdout`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: one line, got\n${r.stderr}`);
  assert.match(lines[0], cause, what);
}

describe('agent commands for agent-held session keys', () => {
  let h: Harness;
  let dir: string;
  const cli = (...args: string[]) => runCli([...args, '--address', h.address], h.childEnv);

  before(async () => {
    h = await startHarness();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'held-cli-'));
  });
  after(async () => {
    await h?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('start with a key file, status, sigs, rotate-key', async () => {
    const [a] = h.newAgents('held-cli', 1);
    const first = writeNewSessionKeyFile(path.join(dir, 'first.session-key'));
    const second = writeNewSessionKeyFile(path.join(dir, 'second.session-key'));
    const start = await cli(
      'agent',
      'start',
      a.agentId,
      '--network',
      'devnet',
      '--mode',
      'eoa',
      '--signer',
      a.signer,
      '--session-key-file',
      path.join(dir, 'first.session-key'),
    );
    assert.equal(start.code, 0, start.stderr);
    // Right after the start: --wait lets the first mint land (as for a delivered agent's sigs).
    const waited = await cli('agent', 'sigs', a.agentId, '--wait', '60s');
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal((JSON.parse(waited.stdout) as SessionCapability).sessionPublicKey, first.publicKey);

    const text = await cli('agent', 'status', a.agentId);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /mode: agent-held/);
    assert.match(
      text.stdout,
      new RegExp(`session public key: ${first.publicKey}, capability expires in \\S+`),
    );

    const json = await cli('agent', 'status', a.agentId, '-o', 'json');
    assert.equal(json.code, 0, json.stderr);
    const status = JSON.parse(json.stdout);
    assert.equal(status.mode, 'agent-held');
    assert.equal(status.capability.sessionPublicKey, first.publicKey);
    assert.ok(Date.parse(status.capability.expiresAt) > Date.now());
    assert.ok(
      !json.stdout.includes('authSig') && !json.stdout.includes('signedMessage'),
      'no capability in a listing',
    );

    const sigs = await cli('agent', 'sigs', a.agentId);
    assert.equal(sigs.code, 0, sigs.stderr);
    const capability = JSON.parse(sigs.stdout) as SessionCapability;
    assert.equal(capability.sessionPublicKey, first.publicKey);
    assert.match(capability.authSig.signedMessage, new RegExp(`lit:session:${first.publicKey}`));
    assert.ok(!sigs.stdout.includes(first.secretKey.slice(0, 64)));

    const rotated = await cli(
      'agent',
      'rotate-key',
      a.agentId,
      '--session-key-file',
      path.join(dir, 'second.session-key'),
      '--reason',
      'cli test',
    );
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, new RegExp(`session public key: ${second.publicKey}`));
    assert.match(rotated.stdout, new RegExp(`previous session public key: ${first.publicKey}`));
    const after = JSON.parse((await cli('agent', 'status', a.agentId, '-o', 'json')).stdout);
    assert.equal(after.capability.sessionPublicKey, second.publicKey);
    assert.equal(after.previousCapability.sessionPublicKey, first.publicKey);

    oneLineError(
      await cli(
        'agent',
        'rotate-key',
        a.agentId,
        '--session-public-key',
        first.publicKey,
        '--session-key-file',
        path.join(dir, 'second.session-key'),
      ),
      /either --session-public-key or --session-key-file, not both/,
      'both key flags',
    );
    oneLineError(await cli('agent', 'rotate-key', a.agentId), /give the new key/, 'no key');
    oneLineError(
      await cli('agent', 'rotate-key', a.agentId, '--session-public-key', first.secretKey),
      /SECRET key/,
      'a secret key',
    );
  });

  test('a delivered-mode agent: status says so, rotate-key is refused', async () => {
    const [d] = h.newAgents('delivered-cli', 1);
    assert.equal(
      (await cli('agent', 'start', d.agentId, '--network', 'devnet', '--mode', 'eoa', '--signer', d.signer))
        .code,
      0,
    );
    await until(`${d.agentId} fresh`, async () => {
      const s = await h.keeper.getStatus(d.agentId);
      return s.state === 'fresh' ? s : undefined;
    });
    const text = await cli('agent', 'status', d.agentId);
    assert.match(text.stdout, /mode: delivered/);
    assert.equal(
      JSON.parse((await cli('agent', 'status', d.agentId, '-o', 'json')).stdout).mode,
      'delivered',
    );
    oneLineError(
      await cli('agent', 'rotate-key', d.agentId, '--session-public-key', 'ab'.repeat(32)),
      /delivered mode/,
      'delivered agent',
    );
  });
});
