/**
 * Cluster suite (`npm run test:cluster`): the production shape on this machine. PostgreSQL, the
 * Temporal server compose pins (built from the Go module proxy) on it, three worker processes with
 * compose's environment, the Lit devnet, and 200 agents (EOA and PKP). The fleet is rotated by
 * `session-keeper rotate --all` and by the Temporal CLI's batch signal, with a worker SIGKILLed in
 * the middle of a rotation, after a SIGKILL and restart of the Temporal server, and after an
 * immediate shutdown and restart of PostgreSQL.
 *
 * The chaos suite's monitor reads every agent's status every few seconds and decrypts on the
 * devnet with its sigs (new sigs a dozen per tick; until then the previous, still unexpired ones
 * count); each scenario must leave every agent with new sigs, none without valid sigs, and the
 * workers' logs must show no generation minted twice. Figures go to test/cluster/RESULTS.md (or
 * CLUSTER_RESULTS_FILE).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WORKFLOW_TYPE } from '../../src/shared/names';
import { requireTemporalBinary } from '../../src/temporal/binaries';
import {
  countDuplicateMints,
  invalidIntervals,
  markdownTable,
  parseMintLog,
  type Sample,
  seconds,
  separateRedoneAfterKill,
  summarizeGaps,
} from '../chaos/metrics';
import { Monitor } from '../chaos/monitor';
import { runCli } from '../client/harness';
import { until } from '../polling';
import { ClusterEnv } from './harness';

const EOA_AGENTS = 120;
const PKP_AGENTS = 80;
const FLEET = EOA_AGENTS + PKP_AGENTS;
const WORKERS = 3;
/** Long enough that no refresh falls due by itself during the suite: every new generation is a rotation's. */
const TIMING = { sessionTtlMs: 20 * 60_000, renewBeforeMs: 5 * 60_000, jitter: 0.1 };
/**
 * A hang detector, not a target (the figures go to RESULTS.md): on this 2-core machine a rotation
 * after the Temporal server's restart has taken from 104 s to 234 s.
 */
const ROTATION_TIMEOUT_MS = 420_000;
/** How long the Temporal server and PostgreSQL stay down in their scenarios (the fault itself). */
const OUTAGE_MS = 15_000;
const SUITE_DEADLINE_MS = 30 * 60_000;
const RESULTS_FILE = process.env.CLUSTER_RESULTS_FILE || path.join(__dirname, 'RESULTS.md');

interface Row {
  fault: string;
  /** From the fault (or the rotation command) until every agent had its new generation. */
  rotationMs: number;
  /** Temporal did not answer a status query for this long (the sigs kept serving from the last answer). */
  temporalAwayMs: number;
  maxInvalidMs: number;
  duplicates: number;
  /** Generations minted again because the worker that minted them was SIGKILLed before reporting. */
  redone: number;
  notes: string[];
}

let env: ClusterEnv;
let monitor: Monitor;
const rows: Row[] = [];
/** Log labels of the worker incarnations the suite SIGKILLed. */
const killedWorkers: string[] = [];
const startedAt = new Date();
let setupMs = 0;
/** The monitor's count of unanswered decrypts when the previous scenario was recorded. */
let inconclusiveBefore = 0;

const fresh = (s: Sample) => s.state === 'fresh' && s.valid;

before(
  async () => {
    const watchdog = setTimeout(() => {
      console.error(`cluster suite: still running after ${SUITE_DEADLINE_MS / 60_000} min; giving up`);
      process.exit(1);
    }, SUITE_DEADLINE_MS);
    watchdog.unref();
    const t0 = Date.now();
    env = await ClusterEnv.start({ eoa: EOA_AGENTS, pkp: PKP_AGENTS, timing: TIMING, blockTimeMs: 2_000 });
    for (let slot = 1; slot <= WORKERS; slot++) await env.cluster.startWorker(slot);
    await env.startFleet();
    monitor = new Monitor(env, 5_000, 120_000, 12, 12, true);
    await monitor.start();
    await monitor.waitForAll('every agent fresh with sigs that decrypt', (s) => fresh(s) && !s.carried, {
      timeoutMs: 300_000,
    });
    setupMs = Date.now() - t0;
    inconclusiveBefore = monitor.inconclusiveChecks;
    console.log(
      `cluster suite: ${FLEET} agents fresh ${seconds(setupMs)} after the start, logs in ${env.dir}`,
    );
  },
  { timeout: 900_000 },
);

after(async () => {
  await monitor?.stop();
  writeResults();
  await env?.close();
  if (env && rows.length === 5 && !process.env.CLUSTER_KEEP_LOGS)
    fs.rmSync(env.dir, { recursive: true, force: true });
  else if (env) console.log(`cluster suite: logs kept in ${env.dir}`);
});

function generations(): Map<string, number> {
  return new Map([...monitor.latest()].map(([id, s]) => [id, s.generation]));
}

/** Waits until every agent is fresh with a generation above the one it had in `from`. */
async function everyAgentRotated(from: Map<string, number>, what: string): Promise<void> {
  await monitor.waitForAll(what, (s) => fresh(s) && s.generation > (from.get(s.agentId) ?? 0), {
    timeoutMs: ROTATION_TIMEOUT_MS,
  });
}

/** How long, from `since`, until the Temporal server answers status queries again. */
async function temporalBackAfter(since: number): Promise<number> {
  await until('a status answer from Temporal', () => env.keeper.querySessionStatus(env.agents[0].agentId), {
    timeoutMs: 180_000,
    intervalMs: 250,
  });
  return Date.now() - since;
}

async function rotateAll(): Promise<void> {
  const r = await runCli(['rotate', '--all', '--rps', '500', '-o', 'json'], env.clientEnv, 180_000);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.state, 'completed', r.stdout);
  assert.equal(summary.completed, FLEET, r.stdout);
  assert.equal(summary.failed, 0, r.stdout);
}

/** Measures a scenario window: time without valid sigs (monitor) and mints done twice (logs). */
function record(
  fault: string,
  window: { start: number; end: number },
  extra: Omit<Row, 'fault' | 'maxInvalidMs' | 'duplicates' | 'redone'>,
): Row {
  const samples = monitor.window(window.start, window.end);
  const gaps = summarizeGaps(
    invalidIntervals(samples, window.end),
    env.agents.map((a) => a.agentId),
  );
  const mints = env.workerLogs().flatMap((l) => parseMintLog(l.text, l.worker));
  const dup = separateRedoneAfterKill(
    countDuplicateMints(mints.filter((m) => m.t >= window.start && m.t <= window.end)),
    killedWorkers,
  );
  const unanswered = monitor.inconclusiveChecks - inconclusiveBefore;
  inconclusiveBefore = monitor.inconclusiveChecks;
  const row: Row = {
    fault,
    maxInvalidMs: gaps.maxInvalidMs,
    duplicates: dup.duplicates,
    redone: dup.redone,
    ...extra,
    notes: [
      ...extra.notes,
      ...(unanswered
        ? [`${unanswered} monitor decrypts unanswered within 10 s (devnet busy), checked again`]
        : []),
    ],
  };
  rows.push(row);
  console.log(`cluster suite: ${fault}: ${JSON.stringify(row)}`);
  assert.equal(
    gaps.maxInvalidMs,
    0,
    `an agent was without valid sigs: ${JSON.stringify(invalidIntervals(samples, window.end).slice(0, 3))}`,
  );
  assert.equal(dup.duplicates, 0, `generations minted twice: ${JSON.stringify(dup.detail.slice(0, 5))}`);
  return row;
}

test('rotate --all (session-keeper CLI): every agent re-minted, none without valid sigs', {
  timeout: 600_000,
}, async () => {
  const from = generations();
  const start = Date.now();
  await rotateAll();
  await everyAgentRotated(from, 'every agent rotated by rotate --all');
  record(
    'rotate --all',
    { start, end: Date.now() },
    { rotationMs: Date.now() - start, temporalAwayMs: 0, notes: [] },
  );
});

test("the Temporal CLI's batch signal rotates every agent", { timeout: 600_000 }, async () => {
  const from = generations();
  const start = Date.now();
  const temporalCli = requireTemporalBinary('temporal');
  const query = `WorkflowType = "${WORKFLOW_TYPE}" AND ExecutionStatus = "Running"`;
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      temporalCli,
      [
        'workflow',
        'signal',
        '--address',
        env.cluster.address,
        '--namespace',
        env.cluster.namespace,
        '--query',
        query,
        '--name',
        'rotate',
        '--reason',
        'cluster suite',
        '--yes',
      ],
      { stdio: 'inherit' },
    );
    child.once('exit', resolve);
  });
  assert.equal(code, 0);
  await everyAgentRotated(from, 'every agent rotated by the batch signal');
  record(
    'temporal workflow signal --query (batch)',
    { start, end: Date.now() },
    { rotationMs: Date.now() - start, temporalAwayMs: 0, notes: [] },
  );
});

test('a worker SIGKILLed in the middle of a fleet rotation: the others finish it', {
  timeout: 600_000,
}, async () => {
  const from = generations();
  const start = Date.now();
  const mintsSince = () =>
    env
      .workerLogs()
      .flatMap((l) => parseMintLog(l.text, l.worker))
      .filter((m) => m.t >= start).length;
  const rotation = rotateAll();
  // Kill once the rotation is under way and far from done (the workers' own mint log lines).
  const minted = await until(
    'the rotation under way (20 mints)',
    () => {
      const n = mintsSince();
      return n >= 20 ? n : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 100 },
  );
  const victim = await env.cluster.killWorker(2);
  killedWorkers.push(`w${victim.slot}.${victim.incarnation}`);
  const killedAt = Date.now();
  await rotation;
  await everyAgentRotated(from, 'every agent rotated with worker 2 dead');
  const doneAt = Date.now();
  await env.cluster.startWorker(2);
  record(
    'worker SIGKILLed mid-rotation',
    { start, end: doneAt },
    {
      rotationMs: doneAt - start,
      temporalAwayMs: 0,
      notes: [
        `worker 2 (pid ${victim.pid}) killed when ${minted}/${FLEET} agents had minted; the other two finished ${seconds(doneAt - killedAt)} after the kill`,
      ],
    },
  );
});

test('the Temporal server SIGKILLed and restarted on PostgreSQL: agents keep sigs, then rotate', {
  timeout: 600_000,
}, async () => {
  const from = generations();
  const start = Date.now();
  await env.cluster.restartTemporal('kill', OUTAGE_MS);
  const away = await temporalBackAfter(start);
  await rotateAll();
  await everyAgentRotated(from, 'every agent rotated after the server restart');
  const end = Date.now();
  const pids = [...env.cluster.workers.values()].map((w) => w.alive());
  assert.ok(pids.every(Boolean), 'the workers reconnect by themselves');
  record(
    'Temporal server SIGKILL + restart',
    { start, end },
    { rotationMs: end - start, temporalAwayMs: away, notes: [] },
  );
});

test('PostgreSQL shut down immediately and restarted: the server recovers, agents keep sigs, then rotate', {
  timeout: 600_000,
}, async () => {
  const from = generations();
  const start = Date.now();
  await env.cluster.postgres.restart('crash', OUTAGE_MS);
  const away = await temporalBackAfter(start);
  await rotateAll();
  await everyAgentRotated(from, 'every agent rotated after the PostgreSQL restart');
  const end = Date.now();
  record(
    'PostgreSQL immediate shutdown + restart',
    { start, end },
    { rotationMs: end - start, temporalAwayMs: away, notes: [] },
  );
});

test('nothing lost: every agent runs, with sigs that decrypt, and no generation was minted twice in the whole run', {
  timeout: 600_000,
}, async () => {
  await monitor.waitForAll(
    'every agent verified by a decrypt of its current sigs',
    (s) => fresh(s) && !s.carried,
    {
      timeoutMs: 300_000,
    },
  );
  const statuses = await env.statuses();
  assert.equal(statuses.length, FLEET);
  assert.ok(
    statuses.every((s) => s.generation >= 6),
    `generations: ${statuses.map((s) => s.generation)}`,
  );
  const dup = separateRedoneAfterKill(
    countDuplicateMints(env.workerLogs().flatMap((l) => parseMintLog(l.text, l.worker))),
    killedWorkers,
  );
  assert.equal(dup.duplicates, 0, JSON.stringify(dup.detail.slice(0, 5)));
});

function writeResults(): void {
  if (!env) return;
  const md = [
    '# Cluster suite results',
    '',
    `Command: \`npm run test:cluster\`. Run ${startedAt.toISOString()}, ${seconds(Date.now() - startedAt.getTime())} in all (setup ${seconds(setupMs)}, of which building the Temporal server ${env.cluster.buildSeconds} s${env.cluster.buildSeconds ? '' : ' (cached)'}).`,
    '',
    `- Temporal server ${env.cluster.facts.temporalServerVersion} (docker-compose.yml's pin, built from the Go module proxy), PostgreSQL store and SQL visibility, ${WORKERS} worker processes with compose's worker environment, devnet of 3 nodes in its own process (\`session-keeper devnet\`)`,
    `- the Temporal server and PostgreSQL each stay down ${OUTAGE_MS / 1000} s in their scenario; "Temporal not answering" counts from the fault to the first status query answered`,
    `- ${EOA_AGENTS} EOA + ${PKP_AGENTS} PKP agents, sigs for ${TIMING.sessionTtlMs / 60_000} min (no refresh falls due by itself during the run: every generation is a rotation's)`,
    "- monitor: every 5 s each agent's status (query); a real decrypt on the devnet of new sigs (12 a tick) and of unchanged ones every 2 min; a decrypt the devnet does not answer within 10 s (two cores for everything) is no verdict: those sigs are checked again at the next tick, and until then the agent's previous verified, unexpired sigs count",
    '',
    markdownTable(
      [
        'fault',
        'every agent re-minted after',
        'Temporal not answering',
        'max time without valid sigs',
        'duplicate mints',
        're-minted after a SIGKILL',
        'notes',
      ],
      rows.map((r) => [
        r.fault,
        seconds(r.rotationMs),
        r.temporalAwayMs ? seconds(r.temporalAwayMs) : '-',
        seconds(r.maxInvalidMs),
        r.duplicates,
        r.redone,
        r.notes.join('; ') || '-',
      ]),
    ),
    '',
  ].join('\n');
  fs.writeFileSync(RESULTS_FILE, md);
  console.log(`\n${md}\n(written to ${path.relative(process.cwd(), RESULTS_FILE)})`);
}
