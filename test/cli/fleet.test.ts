/**
 * A fleet of 50 agents driven through the CLI (`node bin/session-keeper.js`) against a real
 * Temporal dev server, the real worker and a local Lit devnet: bulk start, `rotate --all` with its
 * progress bar, `rotate --query` on a selection.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Agent, decryptRoundTrip, type Harness, runCli, startHarness, until } from '../client/harness';

const FLEET = 50;

describe('fleet operations from the CLI (50 agents)', () => {
  let h: Harness;
  let agents: Agent[];
  let dir: string;
  const cli = (...args: string[]) => runCli([...args, '--address', h.address], h.childEnv);

  before(async () => {
    h = await startHarness();
    agents = h.newAgents('fleet', FLEET);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keeper-fleet-'));
  });
  after(async () => {
    await h?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function generations(): Promise<Map<string, number>> {
    const statuses = await Promise.all(agents.map((a) => h.keeper.querySessionStatus(a.agentId)));
    return new Map(statuses.map((s) => [s.agentId, s.generation]));
  }

  test('agent start --from-file starts 50 agents in one call (again: all already running) and they mint', async (t) => {
    // Network and mode come from the flags, the rest from the file.
    const file = path.join(dir, 'agents.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ agents: agents.map((a) => ({ agentId: a.agentId, signer: a.signer })) }),
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
      '-o',
      'json',
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { agentId: string; outcome: string }[];
    assert.equal(out.length, FLEET);
    assert.ok(
      out.every((o) => o.outcome === 'started'),
      r.stdout,
    );
    t.diagnostic(`agent start --from-file (50 agents): ${r.ms} ms`);

    const again = await cli(
      'agent',
      'start',
      '--from-file',
      file,
      '--network',
      'devnet',
      '--mode',
      'eoa',
      '-o',
      'json',
    );
    assert.equal(again.code, 0, again.stderr);
    assert.ok(
      (JSON.parse(again.stdout) as { outcome: string }[]).every((o) => o.outcome === 'already-running'),
    );

    await until(
      'every agent minted once',
      async () => {
        const g = await generations();
        return [...g.values()].every((n) => n === 1) ? true : undefined;
      },
      120_000,
      500,
    );
  });

  test('rotate --all: progress bar to 100%, every generation advances, every new sig decrypts on the devnet', async (t) => {
    const before = await generations();
    const oldSigs = new Map(
      await Promise.all(
        agents.map(
          async (a) => [a.agentId, (await h.keeper.querySessionStatus(a.agentId)).sessionSigs] as const,
        ),
      ),
    );
    const t0 = Date.now();
    const r = await cli('rotate', '--all', '--rps', '100', '--progress', 'bar', '-o', 'json');
    const cliMs = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.state, 'completed');
    assert.equal(summary.total, FLEET);
    assert.equal(summary.completed, FLEET);
    assert.equal(summary.failed, 0);
    assert.match(r.stderr, /rotating \|=+\| 100% \| 50\/50 agents signalled \| failed 0/);

    await until(
      'every agent rotated',
      async () => {
        const g = await generations();
        return agents.every((a) => g.get(a.agentId)! > before.get(a.agentId)!) ? true : undefined;
      },
      120_000,
      250,
    );
    const allRotatedMs = Date.now() - t0;
    t.diagnostic(
      `rotate --all, 50 agents: CLI ${cliMs} ms (batch ${summary.seconds}s server-side); all 50 re-minted ${allRotatedMs} ms after the command started`,
    );

    const lit = await h.lit();
    for (const a of agents) {
      const s = await h.keeper.querySessionStatus(a.agentId);
      assert.equal(s.generation, before.get(a.agentId)! + 1);
      assert.notDeepEqual(s.sessionSigs, oldSigs.get(a.agentId));
      assert.equal(
        await decryptRoundTrip(lit, a.wallet.address, s.sessionSigs!, `for ${a.agentId}`),
        `for ${a.agentId}`,
      );
    }
  });

  test('rotate --query rotates only the selected agents', async () => {
    const selected = agents.filter((_, i) => i % 5 === 0); // 10 of 50
    const query = `LitAgentId IN (${selected.map((a) => `"${a.agentId}"`).join(', ')})`;
    const before = await generations();
    const r = await cli('rotate', '--query', query, '--progress', 'lines', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.total, selected.length);
    assert.equal(summary.completed, selected.length);
    assert.match(r.stderr.trim().split('\n').at(-1)!, /rotating: 10\/10 \(100%\), failed 0, completed/);

    await until(
      'the selected agents rotated',
      async () => {
        const g = await generations();
        return selected.every((a) => g.get(a.agentId) === before.get(a.agentId)! + 1) ? true : undefined;
      },
      60_000,
    );
    // The server's own count says the batch signalled exactly the 10; and no other agent moved.
    const after = await generations();
    const selectedIds = new Set(selected.map((a) => a.agentId));
    for (const a of agents) {
      if (!selectedIds.has(a.agentId))
        assert.equal(after.get(a.agentId), before.get(a.agentId), `${a.agentId} was rotated`);
    }
    const lit = await h.lit();
    const s = await h.keeper.querySessionStatus(selected[0].agentId);
    assert.equal(
      await decryptRoundTrip(lit, selected[0].wallet.address, s.sessionSigs!, 'selected'),
      'selected',
    );
  });
});
