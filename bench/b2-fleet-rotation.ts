/**
 * B2 fleet rotation: agents rotated per second, from the server-side batch signal
 * (`SessionKeeperClient.rotateFleet`) until every agent serves its new generation (visibility count
 * of `LitSessionGeneration >= 2` on the fleet's task queue), with one worker process. Each fleet is
 * measured twice in the same run: with the product worker (`createSessionWorker`, native Ed25519 by
 * default) minting on the devnet, and with a canned activity that answers at once (the engine's own
 * ceiling on this machine). At the sizes in `sdkSizes` a third fleet runs the same worker with the
 * SDK's own Ed25519 (`ed25519: 'sdk'`), so the effect of native Ed25519 on rotation is visible; the
 * ratio to the ceiling is computed for the product's fleets only.
 *
 * Agents use a 7-day TTL, so no scheduled refresh happens during the run. Starting the fleet and
 * its first mints are timed separately and are not part of the rotation figure.
 */
import type { Ed25519Backend } from '../src/lit/native-ed25519';
import {
  type BenchContext,
  cpuSeconds,
  fleetCountQuery,
  fmt,
  keeperFor,
  pct,
  planFleet,
  sleep,
  startClusterServer,
  startDefaultServer,
  startFleet,
  startLiftedServer,
  startWorker,
  type TemporalServer,
  table,
  WORKER_DEFAULTS,
  waitForCount,
} from './common';
import { fleetWorkerDelta, type WorkerCountComparison, workerCountComparisons } from './fleet-stats';
import { ratio } from './stats';

/** Worker CPU ms per mint attempt over the rotation window. */
export function cpuMsPerMint(s: ScenarioResult): number {
  return (s.workerCpuSec / Math.max(1, s.mints + s.failures)) * 1000;
}

export type ServerKind = 'default' | 'lifted' | 'cluster';
export type ActivityMode = 'real' | 'real-sdk' | 'canned';

export const MODE_LABELS: Record<ActivityMode, string> = {
  real: 'real (product, native Ed25519)',
  'real-sdk': 'real, SDK Ed25519',
  canned: 'canned',
};

export interface B2Options {
  sizes: number[];
  servers: ServerKind[];
  batcherRps: number;
  pkpShare: number;
  /**
   * Fleets run on the lifted server. The canned ones give the engine's ceiling without the batch
   * rate limit; a real fleet runs far below 50 agents/s, so by default it only runs on `default`.
   */
  liftedModes: ActivityMode[];
  /** Sizes at which a `real-sdk` fleet also runs on the `default` server. */
  sdkSizes: number[];
  /** Worker processes per fleet on the `cluster` server: each count runs a canned and a real fleet. */
  clusterWorkers?: number[];
  /** worker.batcherRPS added to the cluster's dynamic config (undefined: the cluster's own, 50). */
  clusterBatcherRps?: number;
}

export interface ScenarioResult {
  server: ServerKind;
  size: number;
  mode: ActivityMode;
  /** The Ed25519 implementation the worker process had in place (real fleets). */
  ed25519?: Ed25519Backend;
  eoa: number;
  pkp: number;
  startSec: number;
  firstMintSec: number;
  /** rotateFleet call → every agent at generation 2 (visibility). */
  rotateSec: number;
  /** rotateFleet call → the batch reported every signal delivered. */
  signalsSec: number;
  agentsPerSec: number;
  mints: number;
  failures: number;
  /** Failed mint attempts by "type: message start" (the workflow retried them). */
  failureTypes: Record<string, number>;
  /** Whole scenario (start, first mints, rotation): workflow tasks over 5 s, and timed out ones. */
  slowWorkflowTasks: number;
  lostWorkflowTasks: number;
  /** Summed over the worker processes. */
  workerCpuSec: number;
  devnetCpuSec: number;
  serverCpuSec?: number;
  /** Of serverCpuSec, by process (the cluster: temporal, postgres). */
  serverCpuParts?: Record<string, number>;
  /** Summed over the worker processes. */
  workerRssMiB: number;
  /** Worker processes on the fleet's task queue (absent in older records: 1). */
  workers?: number;
  /** With several workers: what each one did in the rotation window. */
  perWorker?: { mints: number; cpuSec: number; rssMiB: number }[];
}

export interface B2Comparison {
  /** Where the canned (ceiling) fleet ran. */
  server: ServerKind;
  /** Where the real fleet ran. */
  realServer: ServerKind;
  size: number;
  real: ScenarioResult;
  canned: ScenarioResult;
  ratio: number;
  met: boolean;
}

/** The same size and server: the product worker against the worker with the SDK's Ed25519. */
export interface B2SdkComparison {
  server: ServerKind;
  size: number;
  product: ScenarioResult;
  sdk: ScenarioResult;
  /** product agents/s ÷ SDK-Ed25519 agents/s. */
  speedup: number;
}

export interface B2Result {
  pkpShare: number;
  batcherRps: number;
  servers: Partial<Record<ServerKind, string>>;
  scenarios: ScenarioResult[];
  comparisons: B2Comparison[];
  sdkComparisons: B2SdkComparison[];
  /** Cluster fleets: real against canned with the same number of workers. */
  clusterComparisons?: WorkerCountComparison<ScenarioResult>[];
  clusterBatcherRps?: number;
  targetMet: boolean;
}

const POLL_MS = 100;

async function runScenario(
  ctx: BenchContext,
  server: TemporalServer,
  kind: ServerKind,
  size: number,
  mode: ActivityMode,
  pkpShare: number,
  workerCount = 1,
): Promise<ScenarioResult> {
  const name = `b2-${kind}-${mode}-${size}${kind === 'cluster' ? `-w${workerCount}` : ''}`;
  const taskQueue = name;
  const label = `B2 ${kind} ${mode} ${size}${kind === 'cluster' ? ` × ${workerCount} worker${workerCount > 1 ? 's' : ''}` : ''}`;
  const devnet = await ctx.devnet();
  const plan = await planFleet(ctx, { prefix: taskQueue, size, pkpShare, sessionTtl: '7d' });
  // Several workers: one process each on the same task queue, each with its own log file.
  const settled = await Promise.allSettled(
    Array.from({ length: workerCount }, (_, i) => {
      const own = workerCount > 1 ? `${name}-${i + 1}` : name;
      return startWorker(ctx, {
        server,
        taskQueue,
        mode: mode === 'canned' ? 'canned' : 'real',
        ...(mode === 'canned' ? {} : { ed25519: mode === 'real-sdk' ? 'sdk' : 'native' }),
        keyCount: size,
        // Each worker can hold the whole fleet: the server may hand it any agent.
        maxCachedWorkflows: Math.max(WORKER_DEFAULTS.maxCachedWorkflows, size + 100),
        profileName: own,
        logName: own,
      });
    }),
  );
  const workers = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const refused = settled.find((r) => r.status === 'rejected');
  if (refused) {
    await Promise.all(workers.map((w) => w.stop()));
    throw (refused as PromiseRejectedResult).reason;
  }
  const allStats = () => Promise.all(workers.map((w) => w.stats()));
  const counters = (list: Awaited<ReturnType<typeof allStats>>) =>
    list.map((x) => ({
      cpu: x.cpu,
      mints: x.mints,
      failures: x.failures,
      failureTypes: x.failureTypes,
      rssBytes: x.memory.rss,
    }));
  try {
    const keeper = await keeperFor(server, taskQueue, devnet.network);
    const startSec = await startFleet(keeper, plan);
    const firstMintSec = await waitForCount(
      server.client,
      fleetCountQuery(taskQueue, 'LitSessionGeneration >= 1'),
      size,
      { timeoutMs: 600_000, what: `${taskQueue}: first mints` },
    );
    await sleep(1_000);
    const w0 = await allStats();
    const d0 = await devnet.counters();
    const s0 = server.cpuSeconds();
    const p0 = server.cpuParts?.();
    const t0 = performance.now();
    const { jobId } = await keeper.rotateFleet({ query: `TaskQueue = "${taskQueue}"`, reason: 'bench' });
    let signalsSec = Number.NaN;
    let polls = 0;
    await waitForCount(server.client, fleetCountQuery(taskQueue, 'LitSessionGeneration >= 2'), size, {
      timeoutMs: 600_000,
      intervalMs: POLL_MS,
      what: `${taskQueue}: rotation`,
      onPoll: () => {
        // Every third poll: has the batch delivered every signal yet? (not awaited: no skew)
        if (Number.isNaN(signalsSec) && polls++ % 3 === 0) {
          void keeper.describeFleetRotation(jobId).then(
            (p) => {
              if (p.state === 'completed' && Number.isNaN(signalsSec)) {
                signalsSec = (performance.now() - t0) / 1000;
              }
            },
            () => undefined,
          );
        }
      },
    });
    // From before the rotateFleet call (its visibility count and the batch start are part of it).
    const rotateSec = (performance.now() - t0) / 1000;
    const w1 = await allStats();
    const d1 = await devnet.counters();
    const s1 = server.cpuSeconds();
    const p1 = server.cpuParts?.();
    const delta = fleetWorkerDelta(counters(w0), counters(w1));
    const backends = new Set(w1.map((x) => x.ed25519));
    const ed25519 = w1[0].ed25519;
    // The next rotateFleet in this namespace needs this batch to be finished.
    const done = await keeper.waitForFleetRotation(jobId, undefined, {
      pollIntervalMs: 200,
      timeoutMs: 120_000,
    });
    if (Number.isNaN(signalsSec)) signalsSec = done.seconds;
    const result: ScenarioResult = {
      server: kind,
      size,
      mode,
      ...(mode === 'canned' ? {} : { ed25519 }),
      eoa: plan.eoa,
      pkp: plan.pkp,
      startSec,
      firstMintSec,
      rotateSec,
      signalsSec,
      agentsPerSec: size / rotateSec,
      mints: delta.mints,
      failures: delta.failures,
      failureTypes: delta.failureTypes,
      ...sumLogCounts(workers.map((w) => w.logCounts())),
      workerCpuSec: delta.cpuSec,
      devnetCpuSec: cpuSeconds(d0.cpu, d1.cpu),
      serverCpuSec: s0 !== undefined && s1 !== undefined ? s1 - s0 : undefined,
      ...(p0 && p1 ? { serverCpuParts: partsDelta(p0, p1) } : {}),
      workerRssMiB: delta.rssBytes / 2 ** 20,
      ...(kind === 'cluster' || workerCount > 1
        ? {
            workers: workerCount,
            perWorker: delta.perWorker.map((w) => ({
              mints: w.mints,
              cpuSec: w.cpuSec,
              rssMiB: w.rssBytes / 2 ** 20,
            })),
          }
        : {}),
    };
    if (mode !== 'canned' && (backends.size !== 1 || ed25519 !== (mode === 'real-sdk' ? 'sdk' : 'native'))) {
      ctx.log(`${label}: WARNING the workers ran with Ed25519 ${[...backends].join(', ')}`);
    }
    ctx.log(
      `${label}: started in ${fmt(startSec)} s, first mints ${fmt(firstMintSec)} s, ` +
        `rotated in ${fmt(rotateSec, 2)} s = ${fmt(result.agentsPerSec)} agents/s ` +
        `(signals delivered at ${fmt(signalsSec, 2)} s; worker CPU ${fmt(result.workerCpuSec, 2)} s; ` +
        `mints ${result.mints}, failures ${result.failures} ${JSON.stringify(result.failureTypes)}; ` +
        `workflow tasks > 5 s: ${result.slowWorkflowTasks}, timed out: ${result.lostWorkflowTasks}` +
        `${result.perWorker && workerCount > 1 ? `; mints per worker ${result.perWorker.map((w) => w.mints).join('/')}` : ''})`,
    );
    return result;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

function sumLogCounts(list: { slowWorkflowTasks: number; lostWorkflowTasks: number }[]) {
  return {
    slowWorkflowTasks: list.reduce((a, c) => a + c.slowWorkflowTasks, 0),
    lostWorkflowTasks: list.reduce((a, c) => a + c.lostWorkflowTasks, 0),
  };
}

function partsDelta(
  a: Record<string, number | undefined>,
  b: Record<string, number | undefined>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const before = a[k];
    if (v !== undefined && before !== undefined) out[k] = v - before;
  }
  return out;
}

export async function runB2(ctx: BenchContext, opts: B2Options): Promise<B2Result> {
  // Built before any timing: the bundle, the canned result and the devnet are shared.
  await Promise.all([ctx.bundlePath(), ctx.cannedResultPath(), ctx.devnet()]);
  const scenarios: ScenarioResult[] = [];
  const servers: B2Result['servers'] = {};
  for (const kind of opts.servers) {
    const server =
      kind === 'default'
        ? await startDefaultServer()
        : kind === 'lifted'
          ? await startLiftedServer(opts.batcherRps)
          : await startClusterServer(ctx, { batcherRps: opts.clusterBatcherRps });
    servers[kind] = server.description;
    try {
      if (kind === 'cluster') {
        // Every worker count runs a canned and a real fleet of every size, on this one cluster.
        let i = 0;
        for (const size of opts.sizes) {
          for (const workerCount of opts.clusterWorkers ?? [1]) {
            const modes: ActivityMode[] = i++ % 2 === 0 ? ['canned', 'real'] : ['real', 'canned'];
            for (const mode of modes) {
              scenarios.push(await runScenario(ctx, server, kind, size, mode, opts.pkpShare, workerCount));
            }
          }
        }
        continue;
      }
      for (const [i, size] of opts.sizes.entries()) {
        const wanted: ActivityMode[] =
          kind === 'default'
            ? ['canned', 'real', ...(opts.sdkSizes.includes(size) ? (['real-sdk'] as const) : [])]
            : opts.liftedModes;
        // Alternate which goes first, so a change in machine load does not always favour one.
        const modes = i % 2 === 0 ? wanted : [...wanted].reverse();
        for (const mode of modes) {
          scenarios.push(await runScenario(ctx, server, kind, size, mode, opts.pkpShare));
        }
      }
    } finally {
      await server.stop();
    }
  }
  const comparisons: B2Comparison[] = [];
  const find = (kind: ServerKind, size: number, mode: ActivityMode) =>
    scenarios.find((s) => s.server === kind && s.size === size && s.mode === mode);
  for (const kind of opts.servers.filter((k) => k !== 'cluster')) {
    for (const size of opts.sizes) {
      const canned = find(kind, size, 'canned');
      const real = find(kind, size, 'real') ?? find('default', size, 'real') ?? find('lifted', size, 'real');
      if (!canned || !real) continue;
      const r = ratio(real.agentsPerSec, canned.agentsPerSec);
      comparisons.push({
        server: kind,
        realServer: real.server,
        size,
        real,
        canned,
        ratio: r,
        met: r >= 0.7,
      });
    }
  }
  const sdkComparisons: B2SdkComparison[] = [];
  for (const sdk of scenarios.filter((s) => s.mode === 'real-sdk')) {
    const product = find(sdk.server, sdk.size, 'real');
    if (!product) continue;
    sdkComparisons.push({
      server: sdk.server,
      size: sdk.size,
      product,
      sdk,
      speedup: ratio(product.agentsPerSec, sdk.agentsPerSec),
    });
  }
  return {
    pkpShare: opts.pkpShare,
    batcherRps: opts.batcherRps,
    servers,
    scenarios,
    comparisons,
    sdkComparisons,
    ...(opts.servers.includes('cluster')
      ? {
          clusterComparisons: workerCountComparisons(scenarios, 'cluster'),
          clusterBatcherRps: opts.clusterBatcherRps,
        }
      : {}),
    targetMet: comparisons.every((c) => c.met),
  };
}

export function b2Markdown(r: B2Result): string {
  const serverLines = Object.entries(r.servers).map(([k, d]) => `- \`${k}\`: ${d}`);
  const first = r.scenarios.find((s) => s.mode === 'real');
  const out = [
    'Servers:',
    ...serverLines,
    '',
    `One worker process per fleet (createSessionWorker options: maxConcurrentActivities ${WORKER_DEFAULTS.maxConcurrentActivities}, ` +
      `maxConcurrentWorkflowTasks ${WORKER_DEFAULTS.maxConcurrentWorkflowTasks}, sticky cache ≥ fleet). ` +
      'Real fleets run the product worker, `createSessionWorker` with its default `ed25519: "native"` ' +
      `(Ed25519 in place in each worker process: ${realBackends(r)}), on the devnet: ` +
      `${first ? `${first.eoa} EOA + ${first.pkp} PKP agents per ${first.size}` : `PKP share ${r.pkpShare}`} ` +
      '(the same split in every fleet); canned fleets: same specs, instant activity. ' +
      'Rotation time runs from the `rotateFleet` call until a visibility count shows every agent at generation 2 ' +
      `(polled every ${POLL_MS} ms).`,
    '',
    table(
      [
        'agents',
        'real activity (product): agents/s (server)',
        'canned = ceiling: agents/s (server)',
        'real / ceiling',
        'target ≥ 70%',
      ],
      r.comparisons.map((c) => [
        c.size.toLocaleString('en-US'),
        `${fmt(c.real.agentsPerSec)} (\`${c.realServer}\`)`,
        `${fmt(c.canned.agentsPerSec)} (\`${c.server}\`)`,
        `**${pct(c.ratio)}**`,
        c.met ? 'met' : 'missed',
      ]),
    ),
  ];
  if (r.sdkComparisons.length) {
    out.push(
      '',
      "**The product worker against the same worker with the SDK's Ed25519** (`createSessionWorker({ ed25519: " +
        '"sdk" })`, as `SESSION_KEEPER_ED25519=sdk` runs it; not the default, so no ratio to the ceiling):',
      '',
      table(
        [
          'agents (server)',
          'product: agents/s',
          'SDK Ed25519: agents/s',
          'product / SDK Ed25519',
          'worker CPU ms per mint: product / SDK Ed25519',
        ],
        r.sdkComparisons.map((c) => [
          `${c.size.toLocaleString('en-US')} (\`${c.server}\`)`,
          fmt(c.product.agentsPerSec),
          fmt(c.sdk.agentsPerSec),
          `**${fmt(c.speedup)}×**`,
          `${fmt(cpuMsPerMint(c.product))} / ${fmt(cpuMsPerMint(c.sdk))}`,
        ]),
      ),
    );
  }
  const reals = r.scenarios.filter((s) => s.mode === 'real' && s.server === 'default');
  const capped = reals.filter((s) => s.signalsSec > 0.8 * s.rotateSec);
  const liftedReal = r.scenarios.some((s) => s.mode === 'real' && s.server === 'lifted');
  out.push(
    '',
    liftedReal
      ? 'Real fleets ran on both servers: each ratio compares a real and a canned fleet of the same size on the same server.'
      : capped.length
        ? `The batch rate limit of the \`default\` server also held back real fleets here (${capped
            .map(
              (s) =>
                `${s.size.toLocaleString('en-US')} agents: last signal at ${fmt(s.signalsSec, 1)} s of a ${fmt(s.rotateSec, 1)} s rotation`,
            )
            .join(
              '; ',
            )}): their ratio to the \`lifted\` ceiling understates them (\`--b2-lifted-modes canned,real\` ` +
          'runs real fleets on the lifted server too).'
        : 'A real fleet rotates below the batch rate limit (its signals are all delivered well before its mints are ' +
          'done, see "all signals delivered at" below), so one real run per size serves both ceilings.',
    '',
    'Details (seconds; CPU seconds are over the rotation window only):',
    '',
    table(
      [
        'server',
        'agents',
        'activity',
        'start (not counted)',
        'first mints (not counted)',
        'rotation',
        'all signals delivered at',
        'mints / failed attempts',
        'workflow tasks > 5 s / timed out (whole scenario)',
        'worker CPU',
        'devnet CPU',
        'server CPU',
        'worker RSS MiB',
      ],
      r.scenarios.map((s) => [
        `\`${s.server}\``,
        s.size.toLocaleString('en-US'),
        MODE_LABELS[s.mode],
        fmt(s.startSec),
        fmt(s.firstMintSec),
        fmt(s.rotateSec, 2),
        fmt(s.signalsSec, 2),
        `${s.mints} / ${s.failures}`,
        s.slowWorkflowTasks === undefined ? 'n/a' : `${s.slowWorkflowTasks} / ${s.lostWorkflowTasks}`,
        fmt(s.workerCpuSec, 2),
        fmt(s.devnetCpuSec, 2),
        s.serverCpuSec === undefined ? 'n/a' : fmt(s.serverCpuSec, 2),
        fmt(s.workerRssMiB, 0),
      ]),
    ),
    ...failureLines(r),
  );
  return out.join('\n');
}

function realBackends(r: B2Result): string {
  const real = r.scenarios.filter((s) => s.mode !== 'canned');
  if (!real.length) return 'no real fleet';
  return real
    .map(
      (s) =>
        `${s.size.toLocaleString('en-US')} ${s.mode === 'real' ? 'product' : 'SDK-Ed25519'} \`${s.ed25519 ?? '?'}\``,
    )
    .join(', ');
}

function failureLines(r: B2Result): string[] {
  const failed = r.scenarios.filter((s) => s.failures > 0);
  if (!failed.length) return [];
  return [
    '',
    'Failed mint attempts in the rotation window, as the worker reported them (the workflow retried each; every ' +
      'agent reached generation 2):',
    '',
    ...failed.map(
      (s) =>
        `- \`${s.server}\` ${s.size.toLocaleString('en-US')} ${MODE_LABELS[s.mode]}: ` +
        Object.entries(s.failureTypes)
          .map(([k, v]) => `${v} × \`${k}\``)
          .join('; '),
    ),
  ];
}

/** The server side's CPU per rotated agent in the canned fleets (nothing else works there). */
function serverCostLine(canned: ScenarioResult[]): string {
  const parts = canned.filter(
    (s) => s.serverCpuParts?.temporal !== undefined && s.serverCpuParts.postgres !== undefined,
  );
  if (!parts.length) return '';
  return (
    ' Temporal server + PostgreSQL CPU per rotated agent in the canned fleets: ' +
    parts
      .map(
        (s) =>
          `${fmt(((s.serverCpuParts!.temporal + s.serverCpuParts!.postgres) / s.size) * 1000, 0)} ms ` +
          `(${s.workers ?? 1} worker${(s.workers ?? 1) === 1 ? '' : 's'}; ${fmt((s.serverCpuParts!.temporal / s.size) * 1000, 0)} Temporal + ` +
          `${fmt((s.serverCpuParts!.postgres / s.size) * 1000, 0)} PostgreSQL)`,
      )
      .join(', ') +
    '.'
  );
}

/** Agents/s an all-signals-delivered time stands for (the batch's signal rate). */
function signalRate(s: ScenarioResult): number {
  return s.size / s.signalsSec;
}

/** The cluster's B2: real against canned with 1 and with N worker processes on the same cluster. */
export function b2ClusterMarkdown(r: B2Result, nproc: number): string {
  const cs = r.clusterComparisons ?? [];
  const scenarios = r.scenarios.filter((s) => s.server === 'cluster');
  const first = scenarios.find((s) => s.mode === 'real') ?? scenarios[0];
  const counts = [...new Set(cs.map((c) => c.workers))].sort((a, b) => a - b);
  const sizes = [...new Set(cs.map((c) => c.size))].sort((a, b) => a - b);
  const plural = (n: number) => `${n} worker${n === 1 ? '' : 's'}`;
  const out = [
    `Server: ${r.servers.cluster ?? 'the local cluster'}.`,
    '',
    'Each fleet runs with 1 or with several worker processes on one task queue: each a bench worker-child ' +
      '(bench/worker-child.ts, as in the B2 section above) with its own log file and the createSessionWorker ' +
      `options (maxConcurrentActivities ${WORKER_DEFAULTS.maxConcurrentActivities}, maxConcurrentWorkflowTasks ` +
      `${WORKER_DEFAULTS.maxConcurrentWorkflowTasks} per process, sticky cache ≥ fleet in each); their counters ` +
      '(IPC) and CPU are summed over the processes. Real fleets run the product worker (native Ed25519) minting on the ' +
      `devnet, ${first ? `${first.eoa} EOA + ${first.pkp} PKP agents per ${first.size.toLocaleString('en-US')}` : `PKP share ${r.pkpShare}`}; ` +
      'canned fleets run the same specs with an instant activity: the ceiling of the cluster with as many worker processes. ' +
      'Each ratio is real ÷ canned with the same number of workers on this cluster. Rotation time runs from the ' +
      '`rotateFleet` call until a visibility count (SQL visibility) shows every agent at generation 2 ' +
      `(polled every ${POLL_MS} ms).`,
    '',
    table(
      [
        'agents',
        'worker processes',
        'real (product): agents/s',
        'canned = ceiling: agents/s',
        'real / ceiling',
        'target ≥ 70%',
      ],
      cs.map((c) => [
        c.size.toLocaleString('en-US'),
        String(c.workers),
        fmt(c.real.agentsPerSec),
        fmt(c.canned.agentsPerSec),
        `**${pct(c.ratio)}**`,
        c.ratio >= 0.7 ? 'met' : 'missed',
      ]),
    ),
  ];
  if (counts.length > 1) {
    const lo = counts[0];
    const hi = counts[counts.length - 1];
    out.push(
      '',
      'Side by side:',
      '',
      table(
        [
          'agents',
          ...counts.map((n) => `${plural(n)}: real / ceiling agents/s (ratio)`),
          `${plural(hi)} ÷ ${plural(lo)}: real, ceiling`,
        ],
        sizes.map((size) => {
          const at = (n: number) => cs.find((c) => c.size === size && c.workers === n);
          const a = at(lo);
          const b = at(hi);
          return [
            size.toLocaleString('en-US'),
            ...counts.map((n) => {
              const c = at(n);
              return c
                ? `${fmt(c.real.agentsPerSec)} / ${fmt(c.canned.agentsPerSec)} (**${pct(c.ratio)}**)`
                : 'n/a';
            }),
            a && b
              ? `${fmt(ratio(b.real.agentsPerSec, a.real.agentsPerSec), 2)}×, ${fmt(ratio(b.canned.agentsPerSec, a.canned.agentsPerSec), 2)}×`
              : 'n/a',
          ];
        }),
      ),
      '',
      ...sizes.map((size) => {
        const a = cs.find((c) => c.size === size && c.workers === lo);
        const b = cs.find((c) => c.size === size && c.workers === hi);
        if (!a || !b) return '';
        const real = ratio(b.real.agentsPerSec, a.real.agentsPerSec);
        const canned = ratio(b.canned.agentsPerSec, a.canned.agentsPerSec);
        const word = (x: number) =>
          `${x >= 1.1 ? 'faster' : x <= 0.9 ? 'slower' : 'about as fast'} (${fmt(x, 2)}×${x > 0.9 && x < 1.1 ? ', within 10%' : ''})`;
        const cpu = (c: typeof a) =>
          fmt(c.real.workerCpuSec + (c.real.serverCpuSec ?? 0) + c.real.devnetCpuSec, 1);
        return (
          `**${hi} worker processes against ${lo} on this ${nproc}-CPU machine, ${size.toLocaleString('en-US')} agents:** ` +
          `the real fleet rotated ${word(real)}, the ceiling ${word(canned)}. ` +
          `CPU of the real rotation (workers + Temporal/PostgreSQL + devnet): ${cpu(a)} s with ${plural(lo)}, ${cpu(b)} s with ` +
          `${plural(hi)}, over ${fmt(a.real.rotateSec, 1)} and ${fmt(b.real.rotateSec, 1)} s of wall time ` +
          `(at most ${nproc} CPU s per second on this machine).`
        );
      }),
    );
  }
  const canned = scenarios.filter((s) => s.mode === 'canned');
  const fastest = canned.length ? Math.max(...canned.map(signalRate)) : Number.NaN;
  out.push(
    '',
    r.clusterBatcherRps !== undefined
      ? `**Batch rate.** \`rotateFleet\` is one batch signal operation, which Temporal paces at \`worker.batcherRPS\` ` +
          "signals/s per namespace (default 50, which the cluster's DYNAMIC_CONFIG and docker-compose.yml keep). The real " +
          'fleets on the dev servers rotate at about that rate, so a ceiling held at 50/s would make the ratio say nothing; ' +
          `for this bench the cluster runs with \`worker.batcherRPS = ${r.clusterBatcherRps}\` (added to its dynamic config, ` +
          'server restarted before the first fleet). The fastest canned batch delivered its signals at ' +
          `${fmt(fastest, 0)} signals/s (all signals delivered at, below), ${fastest >= 0.8 * r.clusterBatcherRps ? '**close to that limit: the ceiling is capped by it**' : 'well under that limit: the ceiling is not capped by the batch rate'}. ` +
          (fastest < 0.8 * 50
            ? "Here the cluster itself is slower than Temporal's default of 50 would allow, so that default would not " +
              'have capped this ceiling either; on a faster machine it would, since a rotation of N agents takes at ' +
              'least N/50 s with the default whatever the workers do.'
            : 'On a cluster with the default, a rotation of N agents takes at least N/50 s whatever the workers do.') +
          serverCostLine(canned)
      : "**Batch rate.** The cluster ran with its own dynamic config, `worker.batcherRPS` at Temporal's default of 50 " +
          'signals/s per namespace: a rotation of N agents takes at least N/50 s, real and canned alike, so the ratio ' +
          'mostly compares two fleets held at that cap.',
    '',
    'Details (seconds; CPU seconds over the rotation window only; worker CPU and RSS summed over the processes):',
    '',
    table(
      [
        'agents',
        'workers',
        'activity',
        'start (not counted)',
        'first mints (not counted)',
        'rotation',
        'all signals delivered at',
        'mints / failed attempts',
        'mints per worker',
        'workflow tasks > 5 s / timed out',
        'worker CPU',
        'Temporal server CPU',
        'PostgreSQL CPU',
        'devnet CPU',
        'worker RSS MiB',
      ],
      scenarios.map((s) => [
        s.size.toLocaleString('en-US'),
        String(s.workers ?? 1),
        MODE_LABELS[s.mode],
        fmt(s.startSec),
        fmt(s.firstMintSec),
        fmt(s.rotateSec, 2),
        fmt(s.signalsSec, 2),
        `${s.mints} / ${s.failures}`,
        s.perWorker ? s.perWorker.map((w) => w.mints).join(' / ') : String(s.mints),
        `${s.slowWorkflowTasks} / ${s.lostWorkflowTasks}`,
        fmt(s.workerCpuSec, 2),
        s.serverCpuParts?.temporal === undefined ? 'n/a' : fmt(s.serverCpuParts.temporal, 2),
        s.serverCpuParts?.postgres === undefined ? 'n/a' : fmt(s.serverCpuParts.postgres, 2),
        fmt(s.devnetCpuSec, 2),
        fmt(s.workerRssMiB, 0),
      ]),
    ),
    ...failureLines({ ...r, scenarios }),
  );
  return out.join('\n');
}
