/**
 * The client library against a real Temporal dev server, the real worker and a local Lit devnet.
 * "Parked" agents are started on a task queue no worker polls: their workflows exist, but nothing
 * runs them, which shows exactly what the client itself did (search attributes at start, input).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import {
  AgentNotFoundError,
  AgentNotRunningError,
  AgentSpecConflictError,
  createKeeperClient,
  InvalidQueryError,
  OperationTimeoutError,
  type SessionKeeperClient,
  SessionSigsUnavailableError,
  TemporalUnreachableError,
} from '../../src/client';
import { AgentSpecError } from '../../src/shared/agent-spec';
import { workflowIdFor } from '../../src/shared/names';
import {
  LitAgentId,
  LitNetwork,
  LitSessionGeneration,
  LitSessionState,
} from '../../src/shared/search-attributes';
import type { RotateRequest } from '../../src/shared/types';
import { decryptRoundTrip, type Harness, NETWORK, specOf, startHarness, until } from './harness';

const EventType = temporal.api.enums.v1.EventType;

describe('SessionKeeperClient (real Temporal, worker and devnet)', () => {
  let h: Harness;
  let parked: SessionKeeperClient;

  before(async () => {
    h = await startHarness();
    parked = await createKeeperClient({
      client: h.keeper.temporal,
      taskQueue: 'no-worker-here',
      env: h.childEnv,
    });
  });
  after(async () => {
    await h?.close();
  });

  async function workflowCount(): Promise<number> {
    return (await h.keeper.temporal.workflow.count('WorkflowType = "sessionRefreshWorkflow"')).count;
  }

  test('startAgent sets the search attributes at start and passes { spec } as the input', async () => {
    const [a] = h.newAgents('sa', 1);
    const r = await parked.startAgent(specOf(a, { sessionTtl: '2h' }));
    assert.equal(r.outcome, 'started');
    assert.equal(r.workflowId, workflowIdFor(a.agentId));
    const d = await h.keeper.temporal.workflow.getHandle(r.workflowId).describe();
    assert.equal(d.typedSearchAttributes.get(LitAgentId), a.agentId);
    assert.equal(d.typedSearchAttributes.get(LitNetwork), NETWORK);
    assert.equal(d.typedSearchAttributes.get(LitSessionState), 'pending');
    assert.equal(d.typedSearchAttributes.get(LitSessionGeneration), 0);
    const running = await parked.runningSpec(a.agentId);
    assert.deepEqual(running?.spec, r.spec);
    assert.equal(r.spec.sessionTtlMs, 2 * 3600_000);
  });

  test('startAgent is idempotent; another spec is a conflict unless replace; replace terminates the old run', async () => {
    const [a] = h.newAgents('idem', 1);
    const first = await parked.startAgent(specOf(a));
    const again = await parked.startAgent(specOf(a));
    assert.equal(again.outcome, 'already-running');
    assert.equal(again.runId, first.runId);

    await assert.rejects(
      parked.startAgent(specOf(a, { sessionTtl: '3h', labels: { x: 'y' } })),
      (err: Error) => {
        assert.ok(err instanceof AgentSpecConflictError);
        assert.match(
          err.message,
          new RegExp(
            `agent "${a.agentId}" is already running with a different spec \\(labels, sessionTtlMs differ\\)`,
          ),
        );
        assert.match(err.message, /replace: true/);
        return true;
      },
    );
    assert.equal((await parked.runningSpec(a.agentId))?.runId, first.runId, 'the conflict changed nothing');

    const replaced = await parked.startAgent(specOf(a, { sessionTtl: '3h' }), { replace: true });
    assert.equal(replaced.outcome, 'replaced');
    assert.notEqual(replaced.runId, first.runId);
    const old = await h.keeper.temporal.workflow.getHandle(first.workflowId, first.runId).describe();
    assert.equal(old.status.name, 'TERMINATED');
    assert.equal((await parked.runningSpec(a.agentId))?.spec.sessionTtlMs, 3 * 3600_000);
    // Replacing with the spec it already has is a no-op, not another replacement.
    assert.equal(
      (await parked.startAgent(specOf(a, { sessionTtl: '3h' }), { replace: true })).outcome,
      'already-running',
    );
  });

  test('startAgent rejects a bad spec with one error listing every bad field, and starts nothing', async () => {
    const before = await workflowCount();
    await assert.rejects(
      h.keeper.startAgent({ agentId: 'bad spec!', network: 'devnet', mode: 'eoa', signer: 'KEY' } as any),
      (err: Error) => {
        assert.ok(err instanceof AgentSpecError);
        assert.deepEqual(
          err.issues.map((i) => i.field),
          ['agentId', 'signer'],
        );
        return true;
      },
    );
    await assert.rejects(
      h.keeper.startAgent({ agentId: 'x', network: 'nonet', mode: 'eoa', signer: 'env:K' }),
      /network: unknown network "nonet"; use one of datil-dev, datil-test, datil, devnet/,
    );
    await assert.rejects(
      h.keeper.startAgent({
        agentId: 'x',
        network: 'devnet',
        mode: 'eoa',
        signer: 'env:K',
        sessionTtl: '31d',
      }),
      /sessionTtl: 31d is out of range/,
    );
    assert.equal(await workflowCount(), before);
  });

  test('unknown agents give AgentNotFoundError naming the agent, for every call', async () => {
    const calls: [string, () => Promise<unknown>][] = [
      ['getStatus', () => h.keeper.getStatus('ghost')],
      ['getSessionSigs', () => h.keeper.getSessionSigs('ghost')],
      ['rotate', () => h.keeper.rotate('ghost')],
      ['rotate --wait', () => h.keeper.rotate('ghost', { wait: true })],
      ['stopAgent', () => h.keeper.stopAgent('ghost')],
      ['sessionSigsSource', () => h.keeper.sessionSigsSource('ghost').get()],
    ];
    for (const [name, call] of calls) {
      await assert.rejects(call(), (err: Error) => {
        assert.ok(err instanceof AgentNotFoundError, `${name}: ${err.name}: ${err.message}`);
        assert.match(err.message, /^unknown agent "ghost"/);
        return true;
      });
    }
  });

  test('an unreachable server fails fast with the address and the fix', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const started = Date.now();
    await assert.rejects(
      createKeeperClient({
        env: h.childEnv,
        connection: { address: `127.0.0.1:${port}` },
        connectTimeoutMs: 1_000,
      }),
      (err: Error) => {
        assert.ok(err instanceof TemporalUnreachableError);
        assert.match(
          err.message,
          new RegExp(`^cannot reach Temporal at 127\\.0\\.0\\.1:${port} .*TEMPORAL_ADDRESS`),
        );
        return true;
      },
    );
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });

  test('SessionSigsSource waits for the first mint of a new agent, and gives up on one that never mints', async () => {
    const [a] = h.newAgents('fresh', 1);
    await h.keeper.startAgent(specOf(a));
    const source = h.keeper.sessionSigsSource(a.agentId, {
      minValidityMs: 60_000,
      waitTimeoutMs: 60_000,
      pollIntervalMs: 200,
    });
    const r = await source.getWithInfo();
    assert.equal(r.generation, 1);
    assert.equal(r.fromCache, false);
    assert.equal(
      await decryptRoundTrip(await h.lit(), a.wallet.address, r.sessionSigs, 'first mint'),
      'first mint',
    );
    assert.equal((await source.getWithInfo()).fromCache, true);

    // A parked agent's workflow never answers: the query times out with the likely cause.
    const [p] = h.newAgents('parked', 1);
    const quickParked = await createKeeperClient({
      client: h.keeper.temporal,
      taskQueue: 'no-worker-here',
      env: h.childEnv,
      queryTimeoutMs: 1_000,
    });
    await quickParked.startAgent(specOf(p));
    await assert.rejects(
      quickParked.sessionSigsSource(p.agentId, { waitTimeoutMs: 1_000 }).get(),
      (err: Error) => {
        assert.ok(err instanceof OperationTimeoutError, `${err.name}: ${err.message}`);
        assert.match(
          err.message,
          new RegExp(
            `agent "${p.agentId}" did not answer within 1s; is a worker running on task queue no-worker-here\\?`,
          ),
        );
        return true;
      },
    );

    // An agent whose key the worker cannot find fails permanently: a clear error, no waiting it out.
    const [n] = h.newAgents('nokey', 1);
    await h.keeper.startAgent(specOf(n, { signer: 'env:NOT_SET_ON_THE_WORKER' }));
    const t0 = Date.now();
    await assert.rejects(
      h.keeper.sessionSigsSource(n.agentId, { waitTimeoutMs: 30_000, pollIntervalMs: 200 }).get(),
      (err: Error) => {
        assert.ok(err instanceof SessionSigsUnavailableError, `${err.name}: ${err.message}`);
        assert.match(
          err.message,
          new RegExp(
            `agent "${n.agentId}": not minted yet \\(state failed; last error InvalidSigner: .*NOT_SET_ON_THE_WORKER`,
          ),
        );
        assert.match(err.message, /the agent stopped retrying/);
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 30_000, 'failed without waiting for the timeout');
  });

  test('SessionSigsSource never returns sigs valid for less than minValidity across refresh boundaries', async () => {
    // TTL 60 s, refreshed 45 s before expiry (every ~15 s), no jitter. With a 50 s minimum the
    // cached sigs become too short ~10 s after each mint, and for the ~5 s until the next mint
    // no sigs qualify: the source must wait for the refresh instead of handing out short ones.
    const [a] = h.newAgents('boundary', 1);
    await h.keeper.startAgent(specOf(a, { sessionTtl: '60s', refresh: { renewBefore: '45s', jitter: 0 } }));
    const minValidityMs = 50_000;
    const source = h.keeper.sessionSigsSource(a.agentId, {
      minValidityMs,
      waitTimeoutMs: 30_000,
      pollIntervalMs: 200,
    });
    const generations = new Set<number>();
    let waited = 0;
    const endAt = Date.now() + 40_000;
    let last: Awaited<ReturnType<typeof source.getWithInfo>> | undefined;
    while (Date.now() < endAt) {
      const t = Date.now();
      const r = await source.getWithInfo();
      const now = Date.now();
      const left = Date.parse(r.expiresAt) - now;
      assert.ok(
        left >= minValidityMs - 50,
        `generation ${r.generation} handed out with only ${left} ms left`,
      );
      if (now - t > 1_000) waited++;
      generations.add(r.generation);
      last = r;
      await new Promise((resolve) => setTimeout(resolve, 250)); // pacing of the simulated agent, not a sync
    }
    assert.ok(generations.size >= 3, `crossed ${generations.size - 1} refreshes`);
    assert.ok(waited >= 1, 'at least one call had to wait for a refresh');
    assert.equal(await decryptRoundTrip(await h.lit(), a.wallet.address, last!.sessionSigs, 'late'), 'late');
    await h.keeper.stopAgent(a.agentId, { wait: true });
  });

  test('getSessionSigs refuses sigs that would not last minValidity', async () => {
    const [a] = h.newAgents('short', 1);
    await h.keeper.startAgent(specOf(a, { sessionTtl: '2m' }));
    await h.keeper
      .sessionSigsSource(a.agentId, { minValidityMs: 0, waitTimeoutMs: 30_000, pollIntervalMs: 200 })
      .get();
    await assert.rejects(h.keeper.getSessionSigs(a.agentId, { minValidity: '5m' }), (err: Error) => {
      assert.ok(err instanceof SessionSigsUnavailableError);
      assert.match(err.message, /the current sigs expire in \d+(s|m), less than the required 5m/);
      return true;
    });
    const sigs = await h.keeper.getSessionSigs(a.agentId, { minValidity: '30s' });
    assert.ok(Object.keys(sigs).length >= 2);
  });

  test('rotate: update with wait returns the new generation; the signal form rotates too', async () => {
    const [a] = h.newAgents('rot', 1);
    await h.keeper.startAgent(specOf(a));
    const g1 = (
      await h.keeper
        .sessionSigsSource(a.agentId, { waitTimeoutMs: 30_000, pollIntervalMs: 200 })
        .getWithInfo()
    ).generation;
    const r = await h.keeper.rotate(a.agentId, { wait: true, reason: 'test' });
    assert.equal(r.status?.generation, g1 + 1);
    assert.equal(r.status?.state, 'fresh');
    assert.equal(
      await decryptRoundTrip(await h.lit(), a.wallet.address, r.status!.sessionSigs!, 'rotated'),
      'rotated',
    );
    await h.keeper.rotate(a.agentId, { reason: 'signal', spread: '1s' });
    await until(
      'signal rotation',
      async () => ((await h.keeper.getStatus(a.agentId)).generation === g1 + 2 ? true : undefined),
      30_000,
    );
  });

  test('stopAgent completes the workflow; the agent is then reported as not running', async () => {
    const [a] = h.newAgents('stop', 1);
    await h.keeper.startAgent(specOf(a));
    await h.keeper.sessionSigsSource(a.agentId, { waitTimeoutMs: 30_000, pollIntervalMs: 200 }).get();
    await h.keeper.stopAgent(a.agentId, { wait: true, reason: 'test' });
    const s = await h.keeper.getStatus(a.agentId);
    assert.equal(s.running, false);
    assert.equal(s.workflowStatus, 'COMPLETED');
    assert.equal(s.generation, 1);
    await assert.rejects(h.keeper.getSessionSigs(a.agentId), AgentNotRunningError);
    await assert.rejects(h.keeper.rotate(a.agentId), (err: Error) => {
      assert.ok(err instanceof AgentNotRunningError);
      assert.match(err.message, new RegExp(`agent "${a.agentId}" is not running \\(workflow completed\\)`));
      return true;
    });
    // Starting it again is a fresh start (the closed run does not count as running).
    assert.equal((await h.keeper.startAgent(specOf(a))).outcome, 'started');
  });

  test('listAgents reads the search attributes and honours the query; a malformed query is a clear error', async () => {
    const agents = h.newAgents('list', 3);
    for (const a of agents) await h.keeper.startAgent(specOf(a));
    const ids = agents.map((a) => `"${a.agentId}"`).join(', ');
    const rows = await until(
      'three minted agents in visibility',
      async () => {
        const l = await h.keeper.listAgents({ query: `LitAgentId IN (${ids})` });
        return l.length === 3 && l.every((r) => r.generation === 1 && r.state === 'fresh' && r.expiresAt)
          ? l
          : undefined;
      },
      30_000,
    );
    assert.deepEqual(
      rows.map((r) => [r.agentId, r.network, r.status]),
      agents.map((a) => [a.agentId, NETWORK, 'RUNNING']),
    );
    assert.ok(Date.parse(rows[0].expiresAt!) > Date.now() + 3600_000);
    assert.deepEqual(await h.keeper.listAgents({ query: 'LitAgentId = "nobody-at-all"' }), []);
    await assert.rejects(h.keeper.listAgents({ query: 'LitAgentId = = "x"' }), InvalidQueryError);
    await assert.rejects(h.keeper.rotateFleet({ query: 'LitAgentId = = "x"' }), InvalidQueryError);
  });

  test('rotateFleet: a server-side batch that carries the spread; waitForFleetRotation reports progress to completion', async () => {
    const agents = h.newAgents('fleet', 4);
    for (const a of agents) await h.keeper.startAgent(specOf(a));
    const ids = agents.map((a) => `"${a.agentId}"`).join(', ');
    const query = `LitAgentId IN (${ids})`;
    await until('first mints', async () => {
      const l = await h.keeper.listAgents({ query });
      return l.length === 4 && l.every((r) => r.generation === 1) ? true : undefined;
    });
    const { jobId, matched } = await h.keeper.rotateFleet({
      query,
      rps: 2,
      spread: '2s',
      reason: 'fleet test',
    });
    assert.equal(matched, 4);
    const seen: number[] = [];
    const result = await h.keeper.waitForFleetRotation(jobId, (p) => seen.push(p.completed), {
      pollIntervalMs: 100,
    });
    assert.equal(result.state, 'completed');
    assert.equal(result.total, 4);
    assert.equal(result.completed, 4);
    assert.equal(result.failed, 0);
    assert.ok(seen.length >= 2 && seen.at(-1) === 4, `progress seen: ${seen}`);
    assert.ok(result.seconds >= 0 && result.seconds < 60);

    // Each workflow got the rotate signal with the spread, decoded through the client's converter.
    const history = await h.keeper.temporal.workflow
      .getHandle(workflowIdFor(agents[0].agentId))
      .fetchHistory();
    const signalled = history.events!.find(
      (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    );
    const input = await decodeFromPayloadsAtIndex<RotateRequest>(
      h.keeper.temporal.options.loadedDataConverter,
      0,
      signalled!.workflowExecutionSignaledEventAttributes!.input!.payloads,
    );
    assert.deepEqual(input, { reason: 'fleet test', spreadMs: 2_000 });
    await until('second mints', async () => {
      const l = await h.keeper.listAgents({ query });
      return l.every((r) => r.generation === 2) ? true : undefined;
    });
  });
});
