/**
 * Chaos suite (`npm run test:chaos`): a real Temporal dev server, two worker processes and the
 * local Lit devnet, a fleet of EOA and PKP agents with one-minute sigs refreshed every ~15 s, and
 * faults: a worker SIGKILLed mid-mint, the Temporal server SIGKILLed and restarted, Lit nodes
 * down, slow, refusing (429/500), a stale blockhash, an epoch that adds a node.
 *
 * A monitor decrypts on the devnet with every agent's current sigs every second for the whole run;
 * each scenario then checks, from those samples and the workers' logs, that no agent was without
 * valid sigs unless its state said why, that every refresh that fell due happened, and counts
 * duplicate mints. The scenarios share one environment (setting it up costs more than most
 * scenarios) and run in order; each starts from a healthy fleet and clears its faults. Results go
 * to the console and test/chaos/RESULTS.md.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { setupPayloadEncryption } from '../../src/codec/data-converter';
import type { NodeRequestEvent } from '../../src/devnet';
import { workflowIdFor } from '../../src/shared/names';
import { LitSessionGeneration } from '../../src/shared/search-attributes';
import { until } from '../polling';
import {
  BLOCK_TIME_MS,
  type ChaosEnv,
  ChaosEnv as Env,
  HANDSHAKE_TIMEOUT,
  POLICY,
  RENEW_BEFORE_MS,
  SESSION_TTL_MS,
} from './harness';
import {
  auditNetworkMints,
  auditRefreshes,
  checkRecovery,
  countDuplicateMints,
  invalidIntervals,
  maxUncoveredMs,
  parseMintLog,
  type Sample,
  seconds,
  statesSeen,
  summarizeGaps,
  workflowTaskTrouble,
} from './metrics';
import { Monitor } from './monitor';
import { resultsMarkdown, resultsTable, type ScenarioResult, writeResults } from './report';

const EOA_AGENTS = 2;
const PKP_AGENTS = 2;
/** One refresh period of the fleet (nominal). */
const PERIOD_MS = SESSION_TTL_MS - RENEW_BEFORE_MS;
/** How late a due refresh may be before the audit calls it lost (mint time, tick, load). */
const REFRESH_SLACK_MS = 20_000;
/** Slack on top of a backoff interval for "recovered within one interval" (mint, tick, load). */
const RECOVERY_MARGIN_MS = 10_000;
/** The whole file must finish by then, whatever hangs. */
const SUITE_DEADLINE_MS = 15 * 60_000;
/** test/chaos/RESULTS.md, or CHAOS_RESULTS_FILE (CI writes there so the clone stays clean). */
const RESULTS_FILE = process.env.CHAOS_RESULTS_FILE || path.join(__dirname, 'RESULTS.md');

let env: ChaosEnv;
let monitor: Monitor;
const results: ScenarioResult[] = [];
const suiteStartedAt = new Date();

const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
const fresh = (s: Sample) => s.state === 'fresh' && s.valid;
const okState = (s: Sample) => s.valid && (s.state === 'fresh' || s.state === 'refreshing');

before(
  async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR') }); // for the replay check; quiet
    const watchdog = setTimeout(() => {
      console.error(`chaos suite: still running after ${SUITE_DEADLINE_MS / 60_000} min; giving up`);
      finish();
      process.exit(1);
    }, SUITE_DEADLINE_MS);
    watchdog.unref();
    env = await Env.start({ eoa: EOA_AGENTS, pkp: PKP_AGENTS });
    console.log(`chaos suite: temporal ${env.address}, logs in ${env.dir}`);
    await Promise.all([env.startWorker('A'), env.startWorker('B')]);
    await env.startFleet();
    monitor = new Monitor(env);
    await monitor.start();
    await monitor.waitForAll('every agent fresh with sigs that decrypt', fresh, { timeoutMs: 120_000 });
  },
  { timeout: 240_000 },
);

after(async () => {
  await monitor?.stop();
  finish();
  const failed = replayFailed || results.some((r) => !r.passed) || results.length < 6;
  await env?.close();
  if (env && !failed && !process.env.CHAOS_KEEP_LOGS) fs.rmSync(env.dir, { recursive: true, force: true });
  else if (env) console.log(`chaos suite: logs kept in ${env.dir}`);
});

let finished = false;
let replayFailed = false;
function finish(): void {
  if (finished || !env) return;
  finished = true;
  // PKP mints as the nodes saw them, judged against every session key any sample ever saw served.
  const served = new Set(monitor?.samples.map((s) => s.sessionKey).filter((k): k is string => !!k));
  for (const r of results) {
    const inWindow = env.signings.filter((s) => s.t >= r.window.start && s.t <= r.window.end);
    r.network = auditNetworkMints(inWindow, env.devnet.threshold, served);
  }
  const md = resultsMarkdown(results, {
    startedAt: suiteStartedAt,
    durationMs: Date.now() - suiteStartedAt.getTime(),
    command: 'npm run test:chaos',
    setup: [
      `fleet: ${EOA_AGENTS} EOA + ${PKP_AGENTS} PKP agents, session TTL ${SESSION_TTL_MS / 1000} s, refresh ${RENEW_BEFORE_MS / 1000} s before expiry (every ~${PERIOD_MS / 1000} s, ±${POLICY.jitter * 100}%)`,
      `Temporal dev server (SQLite file), 2 worker processes (SESSION_KEEPER_HANDSHAKE_TIMEOUT=${HANDSHAKE_TIMEOUT}), devnet of 3 nodes (threshold 2), block time ${BLOCK_TIME_MS / 1000} s`,
      "monitor: every second, each agent's status (query) and sigs (expiry, coverage); a real decrypt on the devnet of new sigs at once and of unchanged sigs at least every 3 s (at most 2 decrypts a second: each costs ~140 ms of CPU in the process that runs the devnet)",
    ],
  });
  writeResults(RESULTS_FILE, md);
  console.log(`\n${resultsTable(results)}\n(written to ${path.relative(process.cwd(), RESULTS_FILE)})`);
}

interface Scenario {
  id: string;
  name: string;
  /** Hard deadline of the scenario itself (the baseline wait comes on top). */
  timeoutMs: number;
  /** Runs the faults; returns notes for the report. Assertions on what it saw go in `check`. */
  run(signal: AbortSignal, notes: string[]): Promise<void>;
  /** Scenario-specific assertions on the measured result. */
  check?(r: ScenarioResult, samples: Sample[]): void;
  /** Which of the standard expectations apply (all by default). */
  expect?: { noInvalid?: boolean; noDuplicates?: boolean };
}

/** Runs one scenario: healthy start, faults, measurements, expectations; the result is recorded even on failure. */
function scenario(s: Scenario): void {
  test(`${s.id}. ${s.name}`, { timeout: s.timeoutMs + 120_000 }, async (t) => {
    await healthyBaseline(t.signal);
    const notes: string[] = [];
    const start = Date.now();
    env.loopDelay.reset();
    let error: unknown;
    try {
      await s.run(t.signal, notes);
    } catch (err) {
      error = err;
    } finally {
      monitor.networkImpaired = false;
      await env.devnet.clearFaults();
    }
    const end = Date.now();
    notes.push(
      `event-loop delay of the test process (devnet + monitor): max ${Math.round(env.loopDelay.max / 1e6)} ms, p99 ${Math.round(env.loopDelay.percentile(99) / 1e6)} ms`,
    );
    const changes = env
      .workerLogRecords()
      .filter((r) => r.msg === 'lit node set changed' && r.t >= start && r.t <= end);
    if (changes.length) {
      notes.push(
        `node-set changes seen by workers: ${changes.map((c) => `${c.worker} ${(c.fields.before as string[]).length}→${(c.fields.after as string[]).length} (${c.fields.reason})`).join(', ')}`,
      );
    }
    const result = measure(s, { start, end }, notes);
    results.push(result);
    const samples = monitor.window(start, end);
    try {
      if (error) throw error;
      const exp = { noInvalid: true, noDuplicates: true, ...s.expect };
      assert.equal(result.refresh.lost, 0, `refreshes lost: ${JSON.stringify(result.refresh.lostDetail)}`);
      assert.equal(result.refresh.backwards, 0, 'a generation went backwards');
      assert.equal(
        result.maxUnexplainedMs,
        0,
        `unexplained time without valid sigs: ${describeGaps(start, end)}`,
      );
      if (exp.noInvalid)
        assert.equal(result.maxInvalidMs, 0, `time without valid sigs: ${describeGaps(start, end)}`);
      if (exp.noDuplicates) {
        assert.equal(
          result.duplicates.duplicates,
          0,
          `duplicate mints: ${JSON.stringify(result.duplicates.detail)}`,
        );
      }
      const trouble = workflowTaskTrouble(await env.historyEvents(), { start, end });
      assert.equal(trouble.failed.length, 0, `failed workflow tasks: ${JSON.stringify(trouble.failed)}`);
      s.check?.(result, samples);
    } catch (err) {
      result.passed = false;
      result.error = String((err as Error).message ?? err).split('\n')[0];
      throw err;
    }
  });
}

function measure(s: Scenario, window: { start: number; end: number }, notes: string[]): ScenarioResult {
  const samples = monitor.window(window.start, window.end);
  const intervals = invalidIntervals(samples, window.end);
  const gaps = summarizeGaps(
    intervals,
    env.agents.map((a) => a.agentId),
  );
  const mints = env.workerLogs().flatMap((l) => parseMintLog(l.text, l.worker));
  return {
    id: s.id,
    name: s.name,
    passed: true,
    window,
    maxInvalidMs: gaps.maxInvalidMs,
    maxUnexplainedMs: gaps.maxUnexplainedMs,
    maxUncoveredMs: maxUncoveredMs(samples, window.end),
    // The generation each agent had when the scenario began counts too (its refresh may fall due
    // while Temporal is down, when no query is answered).
    refresh: auditRefreshes(
      [...lastAnsweredBefore(window.start), ...samples],
      POLICY,
      window,
      REFRESH_SLACK_MS,
    ),
    duplicates: countDuplicateMints(mints.filter((m) => m.t >= window.start && m.t <= window.end)),
    notes,
  };
}

function lastAnsweredBefore(t: number): Sample[] {
  const last = new Map<string, Sample>();
  for (const s of monitor.samples) if (s.t < t && s.queryOk) last.set(s.agentId, s);
  return [...last.values()];
}

function describeGaps(start: number, end: number): string {
  return invalidIntervals(monitor.window(start, end), end)
    .map(
      (i) =>
        `${i.agentId} ${new Date(i.start).toISOString()} +${seconds(i.end - i.start)} [${i.states.join(',')}${i.explained ? ', explained' : ''}] ${i.error ?? ''}`,
    )
    .join('; ');
}

/** Both workers running, no faults, every agent fresh with sigs that decrypt. */
async function healthyBaseline(signal: AbortSignal): Promise<void> {
  await env.devnet.clearFaults();
  for (const slot of ['A', 'B']) {
    const w = env.workers.get(slot);
    if (!w?.alive()) await env.startWorker(slot, signal);
  }
  await monitor.waitForAll('a healthy fleet before the scenario', fresh, { timeoutMs: 120_000, signal });
}

/** Generation of every agent in the latest samples. */
function generations(): Map<string, number> {
  return new Map([...monitor.latest()].map(([id, s]) => [id, s.generation]));
}

/** Waits until every agent has minted at least `n` more generations than in `from`, with valid sigs. */
async function everyAgentRefreshed(
  from: Map<string, number>,
  n: number,
  signal: AbortSignal,
  timeoutMs: number,
) {
  await monitor.waitForAll(
    `every agent to refresh ${n} more time(s)`,
    (s) => fresh(s) && s.generation >= (from.get(s.agentId) ?? 0) + n,
    { timeoutMs, signal },
  );
}

/**
 * Restarts the worker in `slot` and moves the whole fleet to it: the other worker is stopped until
 * the restarted one has connected to the Lit network, then started again. (Workflows stay cached on
 * the worker that ran them, and their mints are dispatched eagerly to it, so a new worker next to
 * a running one may see no mint for minutes.) Returns the new worker's first `lit client connected`.
 */
async function restartAndHandOver(slot: string, signal: AbortSignal) {
  const other = slot === 'A' ? 'B' : 'A';
  await env.stopWorker(slot);
  await env.startWorker(slot, signal);
  await env.stopWorker(other);
  const connect = await until(
    `the new worker ${slot} to connect to the Lit network`,
    () => env.firstConnect(slot),
    {
      timeoutMs: 60_000,
      intervalMs: 250,
      signal,
    },
  );
  await env.startWorker(other, signal);
  return connect;
}

/** Waits until every agent's sigs cover every validator and decrypt; returns how long that took from `since`. */
async function fullCoverage(since: number, signal: AbortSignal): Promise<number> {
  await monitor.waitForAll(
    'every agent covering every validator',
    (s) => okState(s) && s.uncovered.length === 0,
    {
      since,
      timeoutMs: 120_000,
      signal,
    },
  );
  return Date.now() - since;
}

/**
 * Waits until every agent's history shows a `rotate` signal delivered after `since` (the worker's
 * fleet rotation when its Lit client sees a node join); returns how long that took.
 */
async function everyAgentRotatedSince(since: number, signal: AbortSignal): Promise<number> {
  await until(
    'a fleet rotation (rotate signal) to reach every agent',
    async () => {
      const signalled = new Set(
        (await env.historyEvents())
          .filter((e) => e.type === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED' && e.t >= since)
          .map((e) => e.agentId),
      );
      return env.agents.every((a) => signalled.has(a.agentId)) ? true : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 2_000, signal },
  );
  return Date.now() - since;
}

/** Mint activities running right now: agent and the identity of the worker that runs it. */
async function startedMints(): Promise<{ agentId: string; identity: string }[]> {
  const out: { agentId: string; identity: string }[] = [];
  await Promise.all(
    env.agents.map(async (a) => {
      const d = await env.keeper.temporal.workflow.getHandle(workflowIdFor(a.agentId)).describe();
      for (const p of d.raw.pendingActivities ?? []) {
        if (p.state === STARTED) {
          out.push({ agentId: a.agentId, identity: p.lastWorkerIdentity ?? '' });
        }
      }
    }),
  );
  return out;
}

function nextRequest(endpoint: NodeRequestEvent['endpoint'], signal: AbortSignal, timeoutMs: number) {
  return new Promise<NodeRequestEvent>((resolve, reject) => {
    const onRequest = (e: NodeRequestEvent) => {
      if (e.endpoint !== endpoint) return;
      done();
      resolve(e);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${endpoint} request within ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = () => {
      done();
      reject(signal.reason);
    };
    const done = () => {
      clearTimeout(timer);
      env.devnet.off('request', onRequest);
      signal.removeEventListener('abort', onAbort);
    };
    env.devnet.on('request', onRequest);
    signal.addEventListener('abort', onAbort);
  });
}

// ---------------------------------------------------------------------------------------------

scenario({
  id: '1',
  name: 'worker SIGKILLed in the middle of a mint',
  timeoutMs: 150_000,
  async run(signal, notes) {
    // Slow signing makes a PKP mint stay in flight long enough to catch it.
    for (const node of [0, 1, 2]) {
      await env.devnet.setFault(node, { mode: 'latency', latencyMs: 4_000, endpoints: ['sign_session_key'] });
    }
    await nextRequest('sign_session_key', signal, 3 * PERIOD_MS);
    const inFlight = await until(
      'a mint activity reported as started',
      async () => {
        const started = (await startedMints()).filter((m) => env.slotOf(m.identity));
        return started.length ? started : undefined;
      },
      { timeoutMs: 3_000, intervalMs: 100, signal },
    );
    const victimSlot = env.slotOf(inFlight[0].identity)!;
    const killedAt = Date.now();
    const killed = await env.killWorker(victimSlot);
    await env.devnet.clearFaults();
    // Interrupted: agents whose mint on that worker had not completed when it died (the server
    // still lists it as started there). Their generation is the last one they published.
    const before = new Map<string, number>();
    for (const m of inFlight.filter((x) => x.identity === killed.identity)) {
      const d = await env.keeper.temporal.workflow.getHandle(workflowIdFor(m.agentId)).describe();
      const stillRunning = (d.raw.pendingActivities ?? []).some(
        (p) => p.state === STARTED && p.lastWorkerIdentity === killed.identity,
      );
      if (stillRunning) before.set(m.agentId, d.typedSearchAttributes.get(LitSessionGeneration) ?? 0);
    }
    const victims = [...before.keys()];
    assert.ok(victims.length > 0, 'the kill should have interrupted at least one mint');
    notes.push(
      `killed worker ${victimSlot} (pid ${killed.pid}) with SIGKILL while it was minting for ${victims.join(', ')}`,
    );
    const survivor = [...env.workers.values()].find((w) => w.slot !== victimSlot)!;
    // The interrupted mints must be finished by the other worker (the killed one is not back yet).
    await monitor.waitForAll(
      'the interrupted agents to mint their next generation',
      (s) => !victims.includes(s.agentId) || (fresh(s) && s.generation > (before.get(s.agentId) ?? 0)),
      { timeoutMs: 90_000, signal },
    );
    const doneAt = Date.now();
    const survivorMints = parseMintLog(fs.readFileSync(survivor.logFile, 'utf8'), survivor.slot);
    for (const agentId of victims) {
      const gen = (before.get(agentId) ?? 0) + 1;
      assert.ok(
        survivorMints.some((m) => m.agentId === agentId && m.generation === gen && m.t >= killedAt),
        `worker ${survivor.slot} should have minted generation ${gen} of ${agentId}`,
      );
    }
    notes.push(
      `worker ${survivor.slot} finished the interrupted mint(s) ${seconds(doneAt - killedAt)} after the kill`,
    );
    await env.startWorker(victimSlot, signal);
    await everyAgentRefreshed(generations(), 1, signal, 60_000);
  },
});

scenario({
  id: '2',
  name: 'Temporal server SIGKILLed and restarted on the same database',
  timeoutMs: 150_000,
  async run(signal, notes) {
    const pids = new Map([...env.workers].map(([slot, w]) => [slot, w.pid]));
    const killedAt = Date.now();
    await env.killServer();
    // The scenario is about the server being away for a while.
    await delay(10_000, undefined, { signal });
    await env.restartServer();
    const restartedAt = Date.now();
    notes.push(
      `server down for ${seconds(restartedAt - killedAt)} (SIGKILL, restart on the same SQLite file and port)`,
    );
    const after = await until('status answers from the restarted server', () => env.statuses(), {
      timeoutMs: 60_000,
      intervalMs: 500,
      signal,
    });
    notes.push(`first status answer ${seconds(Date.now() - restartedAt)} after the restart`);
    // Agents go on: every one refreshes twice more, on the same worker processes.
    await everyAgentRefreshed(new Map(after.map((s) => [s.agentId, s.generation])), 2, signal, 90_000);
    notes.push(`every agent refreshed twice more within ${seconds(Date.now() - restartedAt)} of the restart`);
    for (const [slot, pid] of pids) {
      const w = env.workers.get(slot)!;
      assert.ok(w.alive() && w.pid === pid, `worker ${slot} (pid ${pid}) should have reconnected by itself`);
    }
  },
});

scenario({
  id: '3',
  name: 'one node of three down for several refresh periods',
  timeoutMs: 240_000,
  async run(signal, notes) {
    const before = generations();
    await env.devnet.setFault(0, 'down');
    const downAt = Date.now();
    // A worker deployed during the outage connects without the node and mints sigs for the others.
    const connect = await restartAndHandOver('A', signal);
    notes.push(
      `worker A restarted during the outage (the fleet handed over to it); it connected to ${connect.fields.nodes} node(s)`,
    );
    assert.equal(connect.fields.nodes, 2, 'the worker should connect to the two nodes that are up');
    const left = downAt + 3 * PERIOD_MS - Date.now();
    if (left > 0) await delay(left, undefined, { signal });
    await env.devnet.setFault(0, 'none');
    const upAt = Date.now();
    notes.push(
      `node 0 down for ${seconds(upAt - downAt)} (${((upAt - downAt) / PERIOD_MS).toFixed(1)} refresh periods)`,
    );
    const gained = [...generations()].map(([id, g]) => g - (before.get(id) ?? 0));
    notes.push(`generations gained per agent while down: ${gained.join(', ')}`);
    assert.ok(
      gained.every((g) => g >= 2),
      'every agent should have refreshed at least twice with the node down',
    );
    // When it is back, the worker that left it out notices (re-probe) and has every agent re-sign.
    notes.push(
      `after node 0 came back: a fleet rotation reached every agent in ${seconds(await everyAgentRotatedSince(upAt, signal))}, every agent's sigs covered all 3 nodes in ${seconds(await fullCoverage(upAt, signal))}`,
    );
  },
  check(_r, samples) {
    const bad = samples.filter((s) => !okState(s));
    assert.equal(bad.length, 0, `agents left fresh/refreshing: ${JSON.stringify(bad.slice(0, 3))}`);
  },
});

scenario({
  id: '4',
  name: 'two nodes of three down for longer than the sig lifetime',
  timeoutMs: 360_000,
  expect: { noInvalid: false },
  async run(signal, notes) {
    monitor.networkImpaired = true;
    await env.devnet.setFault(0, 'down');
    await env.devnet.setFault(1, 'down');
    const downAt = Date.now();
    // Every PKP agent must fail to refresh, then run out (EOA sigs are signed locally: see check).
    const pkp = env.agents.filter((a) => a.mode === 'pkp').map((a) => a.agentId);
    await monitor.waitForAll(
      'every PKP agent expired',
      (s) => !pkp.includes(s.agentId) || s.state === 'expired',
      {
        timeoutMs: SESSION_TTL_MS + 4 * PERIOD_MS,
        signal,
      },
    );
    const lifetimeLeft = downAt + SESSION_TTL_MS + 1_000 - Date.now();
    if (lifetimeLeft > 0) await delay(lifetimeLeft, undefined, { signal });
    const atBack = await env.statuses();
    await env.devnet.setFault(0, 'none');
    await env.devnet.setFault(1, 'none');
    const backAt = Date.now();
    monitor.networkImpaired = false;
    notes.push(
      `nodes 0 and 1 down for ${seconds(backAt - downAt)} (sig lifetime ${seconds(SESSION_TTL_MS)})`,
    );
    const bound = Math.max(
      ...atBack.map((s) =>
        s.refreshAt && s.lastError ? Date.parse(s.refreshAt) - Date.parse(s.lastError.at) : 0,
      ),
    );
    await monitor.waitForAll('every agent fresh again', fresh, {
      since: backAt,
      timeoutMs: bound + 60_000,
      signal,
    });
    const checks = checkRecovery(
      atBack.map((s) => ({
        agentId: s.agentId,
        refreshAt: s.refreshAt ? Date.parse(s.refreshAt) : null,
        lastErrorAt: s.lastError ? Date.parse(s.lastError.at) : null,
      })),
      monitor.window(backAt),
      backAt,
      RECOVERY_MARGIN_MS,
    );
    notes.push(
      `recovery after the nodes came back: ${checks
        .map(
          (c) =>
            `${c.agentId} ${c.recoveryMs === null ? 'never' : seconds(c.recoveryMs)} (backoff interval in effect ${seconds(c.intervalMs)})`,
        )
        .join('; ')}`,
    );
    const late = checks.filter((c) => !c.withinBound);
    assert.equal(
      late.length,
      0,
      `agents not fresh within one backoff interval + ${RECOVERY_MARGIN_MS} ms: ${JSON.stringify(late)}`,
    );
  },
  check(r, samples) {
    const seen = statesSeen(samples);
    for (const a of env.agents) {
      const states = seen[a.agentId] ?? [];
      assert.ok(!states.includes('failed'), `${a.agentId} must not be parked as failed`);
      if (a.mode === 'pkp') {
        const d = states.indexOf('degraded');
        const e = states.indexOf('expired');
        assert.ok(
          d >= 0 && e > d,
          `${a.agentId} should go degraded then expired, went ${states.join(' → ')}`,
        );
      }
    }
    const errors = [...new Set(samples.filter((s) => s.lastError).map((s) => s.lastError!.type))];
    r.notes.push(`lastError types while down: ${errors.join(', ')}`);
    // The state must say why: nodes missing, not an unclassified error.
    assert.ok(errors.includes('NotEnoughNodes'), `expected NotEnoughNodes among ${errors.join(', ')}`);
    assert.ok(!errors.includes('Unknown'), `unclassified errors while nodes were down: ${errors.join(', ')}`);
    r.notes.push(
      `EOA agents (their mint needs no node once the worker is connected): ${env.agents
        .filter((a) => a.mode === 'eoa')
        .map((a) => `${a.agentId} ${(seen[a.agentId] ?? []).join(' → ')}`)
        .join('; ')}`,
    );
  },
});

scenario({
  id: '5',
  name: 'slow nodes, 429 and 500 answers, stale blockhash',
  timeoutMs: 360_000,
  async run(signal, notes) {
    const phase = PERIOD_MS;
    const singleNodeStart = Date.now();
    // Node 0 answers after 4 s, over the 2 s handshake timeout. A worker that connects now must
    // leave it out instead of waiting for it.
    let t = Date.now();
    await env.devnet.setFault(0, { mode: 'latency', latencyMs: 4_000 });
    const connect = await restartAndHandOver('B', signal);
    assert.equal(connect.fields.unreachable, 1, 'worker B should have left the slow node out');
    await delay(Math.max(0, t + phase - Date.now()), undefined, { signal });
    await env.devnet.clearFaults();
    // The second time in this run that the set returns to the same three nodes (scenario 3 was
    // the first): it must still make the worker rotate the fleet.
    const fastAt = Date.now();
    notes.push(
      `node 0 slow (4 s): worker B, restarted meanwhile and handed the fleet, connected to ${connect.fields.nodes} nodes; after node 0 was fast again a fleet rotation reached every agent in ${seconds(await everyAgentRotatedSince(fastAt, signal))}, all sigs covered it in ${seconds(await fullCoverage(fastAt, signal))}`,
    );
    for (const [node, mode] of [
      [1, 'error429'],
      [2, 'error500'],
    ] as const) {
      t = Date.now();
      await env.devnet.setFault(node, mode);
      await delay(phase, undefined, { signal });
      await env.devnet.clearFaults();
      notes.push(
        `node ${node} answered ${mode.slice(5)} for ${seconds(Date.now() - t)}; full coverage ${seconds(await fullCoverage(Date.now(), signal))} after`,
      );
    }
    const single = monitor.window(singleNodeStart).filter((s) => !okState(s));
    assert.equal(
      single.length,
      0,
      `single-node faults made agents leave fresh: ${JSON.stringify(single.slice(0, 3))}`,
    );
    const staleStart = Date.now();
    env.devnet.setChainFaults({ staleBlockhash: 'expired' });
    await delay(phase, undefined, { signal });
    env.devnet.setChainFaults({ staleBlockhash: false });
    const staleEnd = Date.now();
    await monitor.waitForAll('every agent fresh after the stale blockhash', fresh, {
      since: staleEnd,
      timeoutMs: 90_000,
      signal,
    });
    const stale = monitor.window(staleStart, staleEnd + 5_000).filter((s) => s.state === 'degraded');
    const types = [...new Set(stale.map((s) => s.lastError?.type))];
    notes.push(
      `stale blockhash (the indexer serves a 45-day-old block) for ${seconds(staleEnd - staleStart)}: ${new Set(stale.map((s) => s.agentId)).size} agent(s) went degraded (lastError ${types.join(', ') || '-'}) and kept serving their sigs; all fresh ${seconds(Date.now() - staleEnd)} after`,
    );
    assert.ok(
      types.every((x) => x === 'StaleBlockhash'),
      `unexpected errors under a stale blockhash: ${types}`,
    );
  },
});

scenario({
  id: '6',
  name: 'epoch change adds a node',
  timeoutMs: 150_000,
  async run(signal, notes) {
    const change = await env.devnet.advanceEpoch({ addNode: true });
    const epochAt = Date.now();
    const added = change.addedNodeUrl!;
    await monitor.waitForAll(
      'every agent re-signed for the new node',
      (s) => fresh(s) && s.sigNodes.includes(added),
      {
        since: epochAt,
        timeoutMs: 90_000,
        signal,
      },
    );
    const firstCovering = env.agents.map((a) => {
      const s = monitor.window(epochAt).find((x) => x.agentId === a.agentId && x.sigNodes.includes(added));
      return (s?.t ?? Date.now()) - epochAt;
    });
    notes.push(
      `epoch ${change.epoch} added ${added}; every agent's sigs covered it (and decrypted on all ${change.nodeUrls.length} nodes) within ${seconds(Math.max(...firstCovering))}`,
    );
    // The re-sign must come from the worker's fleet rotation (rotate signal, reason validator-set-changed).
    const rotatedIn = await everyAgentRotatedSince(epochAt, signal);
    const jobs = env
      .workerLogRecords()
      .filter((r) => r.msg === 'rotating agents for the new node set' && r.t >= epochAt)
      .map((r) => `${r.worker}: ${r.fields.jobId}`);
    notes.push(
      `the rotate signal reached every agent within ${seconds(rotatedIn)}; batch started by ${jobs.join(', ')}`,
    );
  },
  check() {
    const last = monitor.latest();
    for (const a of env.agents) {
      const s = last.get(a.agentId)!;
      assert.equal(s.uncovered.length, 0, `${a.agentId} sigs miss ${s.uncovered}`);
    }
  },
});

test("every agent's history replays on the current workflow code", { timeout: 120_000 }, async () => {
  // A nondeterminism shows up here even when no worker had to replay during the run.
  const { dataConverter } = setupPayloadEncryption({ temporalAddress: env.address, env: env.workerEnv });
  const failures: string[] = [];
  const replays = Worker.runReplayHistories(
    {
      workflowsPath: require.resolve('../../src/workflows'),
      ...(dataConverter ? { dataConverter } : {}),
    },
    await env.histories(),
  );
  for await (const r of replays)
    if (r.error) failures.push(`${r.workflowId}: ${r.error.message.split('\n')[0]}`);
  replayFailed = failures.length > 0;
  assert.deepEqual(failures, []);
});
