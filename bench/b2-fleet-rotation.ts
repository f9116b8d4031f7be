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
import type { Ed25519Backend } from '../src/activities/native-ed25519';
import {
  type BenchContext,
  cpuSeconds,
  fleetCountQuery,
  fmt,
  keeperFor,
  pct,
  planFleet,
  sleep,
  startDefaultServer,
  startFleet,
  startLiftedServer,
  startWorker,
  type TemporalServer,
  table,
  WORKER_DEFAULTS,
  waitForCount,
} from './common';
import { ratio } from './stats';

/** Worker CPU ms per mint attempt over the rotation window. */
export function cpuMsPerMint(s: ScenarioResult): number {
  return (s.workerCpuSec / Math.max(1, s.mints + s.failures)) * 1000;
}

export type ServerKind = 'default' | 'lifted';
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
  workerCpuSec: number;
  devnetCpuSec: number;
  serverCpuSec?: number;
  workerRssMiB: number;
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
): Promise<ScenarioResult> {
  const taskQueue = `b2-${kind}-${mode}-${size}`;
  const devnet = await ctx.devnet();
  const plan = await planFleet(ctx, { prefix: taskQueue, size, pkpShare, sessionTtl: '7d' });
  const worker = await startWorker(ctx, {
    server,
    taskQueue,
    mode: mode === 'canned' ? 'canned' : 'real',
    ...(mode === 'canned' ? {} : { ed25519: mode === 'real-sdk' ? 'sdk' : 'native' }),
    keyCount: size,
    maxCachedWorkflows: Math.max(WORKER_DEFAULTS.maxCachedWorkflows, size + 100),
    profileName: `b2-${kind}-${mode}-${size}`,
  });
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
    const w0 = await worker.stats();
    const d0 = await devnet.counters();
    const s0 = server.cpuSeconds();
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
    const w1 = await worker.stats();
    const d1 = await devnet.counters();
    const s1 = server.cpuSeconds();
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
      ...(mode === 'canned' ? {} : { ed25519: w1.ed25519 }),
      eoa: plan.eoa,
      pkp: plan.pkp,
      startSec,
      firstMintSec,
      rotateSec,
      signalsSec,
      agentsPerSec: size / rotateSec,
      mints: w1.mints - w0.mints,
      failures: w1.failures - w0.failures,
      failureTypes: Object.fromEntries(
        Object.entries(w1.failureTypes)
          .map(([k, v]) => [k, v - (w0.failureTypes[k] ?? 0)] as const)
          .filter(([, v]) => v > 0),
      ),
      ...worker.logCounts(),
      workerCpuSec: cpuSeconds(w0.cpu, w1.cpu),
      devnetCpuSec: cpuSeconds(d0.cpu, d1.cpu),
      serverCpuSec: s0 !== undefined && s1 !== undefined ? s1 - s0 : undefined,
      workerRssMiB: w1.memory.rss / 2 ** 20,
    };
    if (mode !== 'canned' && w1.ed25519 !== (mode === 'real-sdk' ? 'sdk' : 'native')) {
      ctx.log(`B2 ${kind} ${mode} ${size}: WARNING the worker ran with Ed25519 ${w1.ed25519}`);
    }
    ctx.log(
      `B2 ${kind} ${mode} ${size}: started in ${fmt(startSec)} s, first mints ${fmt(firstMintSec)} s, ` +
        `rotated in ${fmt(rotateSec, 2)} s = ${fmt(result.agentsPerSec)} agents/s ` +
        `(signals delivered at ${fmt(signalsSec, 2)} s; worker CPU ${fmt(result.workerCpuSec, 2)} s; ` +
        `mints ${result.mints}, failures ${result.failures} ${JSON.stringify(result.failureTypes)}; ` +
        `workflow tasks > 5 s: ${result.slowWorkflowTasks}, timed out: ${result.lostWorkflowTasks})`,
    );
    return result;
  } finally {
    await worker.stop();
  }
}

export async function runB2(ctx: BenchContext, opts: B2Options): Promise<B2Result> {
  // Built before any timing: the bundle, the canned result and the devnet are shared.
  await Promise.all([ctx.bundlePath(), ctx.cannedResultPath(), ctx.devnet()]);
  const scenarios: ScenarioResult[] = [];
  const servers: B2Result['servers'] = {};
  for (const kind of opts.servers) {
    const server = kind === 'default' ? await startDefaultServer() : await startLiftedServer(opts.batcherRps);
    servers[kind] = server.description;
    try {
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
  for (const kind of opts.servers) {
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
