/**
 * `npm run bench`: runs B1 (refresh cost), B2 (fleet rotation) and B3 (steady state) and writes
 * BENCHMARKS.md at the repository root. Benchmarks, not tests: nothing here asserts a timing.
 *
 *   npm run bench                                   everything, default sizes (a few minutes)
 *   npm run bench -- --only B1,B3                   some of them
 *   npm run bench -- --only B2 --b2-sizes 100 --b2-servers lifted     a quick look
 *   npm run bench -- --only B2 --cluster --b2-sizes 1000             B2 on the local cluster
 *   npm run bench -- --help
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { requireTemporalBinary } from '../src/temporal/binaries';
import { b1Markdown, runB1 } from './b1-refresh-cost';
import {
  type ActivityMode,
  b2ClusterMarkdown,
  b2Markdown,
  runB2,
  type ServerKind,
} from './b2-fleet-rotation';
import { b3Markdown, MEMORY_VARIANTS, type MemoryVariant, runB3 } from './b3-steady-state';
import { b4Markdown, runB4, withB4Section } from './b4-agent-held-signing';
import { type BenchContext, buildBundle, DevnetHandle, recordCannedResult } from './common';
import { codeInfo, LoadWindow, machineInfo, waitForQuietMachine } from './machine';
import { updatedReport } from './report';
import type { RunOptions, RunRecord } from './run-record';

const REPO = path.resolve(__dirname, '..');

const HELP = `npm run bench -- [options]

  --only <list>            benchmarks to run, e.g. B1,B2 (default B1,B2,B3,B4)
  --out <file>             report file (default BENCHMARKS.md at the repository root)
  --block-time <ms>        devnet block time, at least 1000 (default 1000)
  --b1-iterations <n>      measured refreshes per B1 flow (default 30)
  --b1-warmup <n>          unmeasured warm-up rounds (default 3)
  --b2-sizes <list>        fleet sizes (default 100,1000)
  --b2-servers <list>      default (startDevServer, batcherRPS 50) and/or lifted (default both)
  --b2-batcher-rps <n>     worker.batcherRPS of the lifted server (default 5000)
  --b2-lifted-modes <l>    fleets on the lifted server: canned, real and/or real-sdk (default canned,real)
  --b2-sdk-sizes <list>    sizes at which a real fleet with the SDK's Ed25519 also runs on the default
                           server (default 100; "none" for none)
  --cluster                B2 only, on deploy/local-cluster (PostgreSQL + Temporal server, no Docker) with
                           1 and 3 worker processes per fleet (real and canned each); sizes from
                           --b2-sizes (default 1000). Replaces only the "B2 on the cluster" section of
                           the report and keeps the rest of it
  --cluster-workers <list> worker processes per fleet on the cluster (default 1,3)
  --cluster-batcher-rps <n> worker.batcherRPS added to the cluster's dynamic config, or "default" to keep
                           Temporal's 50 (default 5000)
  --pkp-share <f>          share of PKP agents in the B2 and B3-cycle fleets (default 0.1)
  --b3-idle-agents <n>     cached idle agents for the memory figure (default 1000)
  --b3-cycle-agents <n>    short-TTL agents for history and CPU (default 20)
  --b3-refreshes <n>       refreshes the CPU figure is measured over (default 150)
  --b3-parts <list>        cycle (history + CPU) and/or memory (default both)
  --b3-memory-variants <l> product, no-preload, preload-all, arena2 (default product,arena2; arena2 =
                           product + MALLOC_ARENA_MAX=2, as the Docker image runs it)
  --b3-heap-snapshots      also write heap snapshots of the memory worker's threads (run directory);
                           the memory figures of such a run include the snapshots' own cost
  --wait-idle <seconds>    first wait (up to this long) until others use ≤ 25% of the machine for 30 s
  --profile                run worker processes with --cpu-prof (profiles in the run directory)
  --render <results.json>  only re-render the report from a run's raw results (e.g. after editing
                           bench/analysis.md)
  --help`;

function parseOptions(argv: string[]): RunOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      out: { type: 'string' },
      'block-time': { type: 'string' },
      'b1-iterations': { type: 'string' },
      'b1-warmup': { type: 'string' },
      'b2-sizes': { type: 'string' },
      'b2-servers': { type: 'string' },
      'b2-batcher-rps': { type: 'string' },
      'b2-lifted-modes': { type: 'string' },
      'b2-sdk-sizes': { type: 'string' },
      cluster: { type: 'boolean' },
      'cluster-workers': { type: 'string' },
      'cluster-batcher-rps': { type: 'string' },
      'pkp-share': { type: 'string' },
      'b3-idle-agents': { type: 'string' },
      'b3-cycle-agents': { type: 'string' },
      'b3-refreshes': { type: 'string' },
      'b3-parts': { type: 'string' },
      'b3-memory-variants': { type: 'string' },
      'b3-heap-snapshots': { type: 'boolean' },
      'wait-idle': { type: 'string' },
      profile: { type: 'boolean' },
      render: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return undefined;
  }
  const int = (name: string, v: string | undefined, def: number, min: number) => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  const list = (v: string | undefined, def: string) =>
    (v ?? def)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const cluster = values.cluster ?? false;
  const only = new Set(list(values.only, cluster ? 'B2' : 'B1,B2,B3,B4').map((s) => s.toUpperCase()));
  for (const b of only)
    if (!['B1', 'B2', 'B3', 'B4'].includes(b)) throw new Error(`--only: unknown benchmark ${b}`);
  if (cluster && (only.size !== 1 || !only.has('B2'))) {
    throw new Error('--cluster runs B2 only (--only B2)');
  }
  if (cluster && values['b2-servers'] !== undefined)
    throw new Error('--cluster and --b2-servers exclude each other');
  if (!cluster && (values['cluster-workers'] !== undefined || values['cluster-batcher-rps'] !== undefined)) {
    throw new Error('--cluster-workers and --cluster-batcher-rps need --cluster');
  }
  const servers = cluster ? ['cluster'] : list(values['b2-servers'], 'default,lifted');
  if (!cluster)
    for (const s of servers)
      if (s !== 'default' && s !== 'lifted') throw new Error(`--b2-servers: unknown ${s}`);
  const liftedModes = list(values['b2-lifted-modes'], 'canned,real');
  for (const m of liftedModes)
    if (m !== 'canned' && m !== 'real' && m !== 'real-sdk')
      throw new Error(`--b2-lifted-modes: unknown ${m}`);
  const b3Parts = new Set(list(values['b3-parts'], 'cycle,memory'));
  for (const p of b3Parts) if (p !== 'cycle' && p !== 'memory') throw new Error(`--b3-parts: unknown ${p}`);
  const memoryVariants = list(values['b3-memory-variants'], 'product,arena2');
  for (const v of memoryVariants) {
    if (!(v in MEMORY_VARIANTS)) throw new Error(`--b3-memory-variants: unknown ${v}`);
  }
  const pkpShare = values['pkp-share'] === undefined ? 0.1 : Number(values['pkp-share']);
  if (!(pkpShare >= 0 && pkpShare <= 1)) throw new Error('--pkp-share must be between 0 and 1');
  const blockTimeMs = int('block-time', values['block-time'], 1_000, 1_000);
  return {
    only,
    out: path.resolve(values.out ?? path.join(REPO, 'BENCHMARKS.md')),
    blockTimeMs,
    b1Iterations: int('b1-iterations', values['b1-iterations'], 30, 1),
    b1Warmup: int('b1-warmup', values['b1-warmup'], 3, 0),
    b2Sizes: list(values['b2-sizes'], cluster ? '1000' : '100,1000').map((s) => int('b2-sizes', s, 0, 1)),
    b2Servers: servers as ServerKind[],
    b2BatcherRps: int('b2-batcher-rps', values['b2-batcher-rps'], 5_000, 1),
    b2LiftedModes: liftedModes as ActivityMode[],
    b2SdkSizes:
      values['b2-sdk-sizes'] === 'none'
        ? []
        : list(values['b2-sdk-sizes'], '100').map((s) => int('b2-sdk-sizes', s, 0, 1)),
    ...(cluster
      ? {
          cluster,
          clusterWorkers: list(values['cluster-workers'], '1,3').map((s) => int('cluster-workers', s, 0, 1)),
          ...(values['cluster-batcher-rps'] === 'default'
            ? {}
            : { clusterBatcherRps: int('cluster-batcher-rps', values['cluster-batcher-rps'], 5_000, 1) }),
        }
      : {}),
    pkpShare,
    b3IdleAgents: int('b3-idle-agents', values['b3-idle-agents'], 1_000, 1),
    b3CycleAgents: int('b3-cycle-agents', values['b3-cycle-agents'], 20, 1),
    b3Refreshes: int('b3-refreshes', values['b3-refreshes'], 150, 10),
    b3Parts,
    b3MemoryVariants: memoryVariants as MemoryVariant[],
    b3HeapSnapshots: values['b3-heap-snapshots'] ?? false,
    waitIdleSeconds: int('wait-idle', values['wait-idle'], 0, 0),
    profile: values.profile ?? false,
    render: values.render,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  if (!options) return;
  if (options.render) {
    const record = JSON.parse(fs.readFileSync(options.render, 'utf8'), (k, v) =>
      k === 'startedAt' || k === 'finishedAt' ? new Date(v) : v,
    ) as RunRecord;
    fs.writeFileSync(options.out, updatedReport(record, readIfExists(options.out)));
    console.log(`re-rendered ${options.out} from ${options.render}`);
    return;
  }
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keeper-bench-'));
  const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
  log(`run directory ${runDir}`);

  let devnet: Promise<DevnetHandle> | undefined;
  let bundle: Promise<string> | undefined;
  let canned: Promise<string> | undefined;
  const ctx: BenchContext = {
    runDir,
    seed: randomBytes(8).toString('hex'),
    profile: options.profile,
    log,
    devnet: () => {
      devnet ??= DevnetHandle.start({ runDir }, options.blockTimeMs);
      return devnet;
    },
    bundlePath: () => {
      bundle ??= buildBundle(runDir);
      return bundle;
    },
    cannedResultPath: () => {
      canned ??= recordCannedResult(ctx);
      return canned;
    },
  };

  const record: RunRecord = {
    command,
    startedAt: new Date(),
    finishedAt: new Date(),
    machine: machineInfo(requireTemporalBinary('temporal')),
    code: codeInfo(REPO),
    options,
    load: {},
    runDir,
  };
  if (options.waitIdleSeconds > 0) {
    log(`waiting up to ${options.waitIdleSeconds} s for a quiet machine`);
    record.loadBefore = await waitForQuietMachine(0.25, options.waitIdleSeconds * 1000, log);
    record.startedAt = new Date();
    record.code = codeInfo(REPO);
  }

  let b4: string | undefined;
  try {
    if (options.only.has('B1')) {
      log('B1 refresh cost');
      const w = new LoadWindow().start();
      record.b1 = await runB1(ctx, { iterations: options.b1Iterations, warmup: options.b1Warmup });
      record.load.B1 = w.report();
      console.log(b1Markdown(record.b1));
    }
    if (options.only.has('B2')) {
      log('B2 fleet rotation');
      const w = new LoadWindow().start();
      record.b2 = await runB2(ctx, {
        sizes: options.b2Sizes,
        servers: options.b2Servers,
        batcherRps: options.b2BatcherRps,
        pkpShare: options.pkpShare,
        liftedModes: options.b2LiftedModes,
        sdkSizes: options.b2SdkSizes,
        clusterWorkers: options.clusterWorkers,
        clusterBatcherRps: options.clusterBatcherRps,
      });
      record.load.B2 = w.report();
      console.log(
        options.cluster ? b2ClusterMarkdown(record.b2, record.machine.nproc) : b2Markdown(record.b2),
      );
    }
    if (options.only.has('B3')) {
      log('B3 steady state');
      const w = new LoadWindow().start();
      record.b3 = await runB3(ctx, {
        idleAgents: options.b3IdleAgents,
        cycleAgents: options.b3CycleAgents,
        refreshes: options.b3Refreshes,
        pkpShare: options.pkpShare,
        parts: options.b3Parts,
        memoryVariants: options.b3MemoryVariants,
        heapSnapshots: options.b3HeapSnapshots,
      });
      record.load.B3 = w.report();
      console.log(b3Markdown(record.b3));
    }
    if (options.only.has('B4')) b4 = await runB4Section(ctx, command, record);
  } finally {
    if (devnet) await (await devnet.catch(() => undefined))?.close();
  }
  record.finishedAt = new Date();
  fs.writeFileSync(
    path.join(runDir, 'results.json'),
    JSON.stringify(record, (_k, v) => (v instanceof Set ? [...v] : v), 2),
  );
  // A --cluster run replaces only its own section; a full run keeps the cluster section.
  const existing = readIfExists(options.out);
  // A B4-only run replaces only B4's section; any other run keeps the B4 section the report had.
  const onlyB4 = options.only.size === 1 && options.only.has('B4');
  fs.writeFileSync(
    options.out,
    withB4Section(onlyB4 ? (existing ?? '') : updatedReport(record, existing), b4, existing),
  );
  log(
    `wrote ${path.relative(process.cwd(), options.out) || options.out}; raw results in ${runDir}/results.json`,
  );
}

/** B4 (agent-held signing, bench/b4-agent-held-signing.ts): its report section. */
async function runB4Section(ctx: BenchContext, command: string, record: RunRecord): Promise<string> {
  ctx.log('B4 agent-held signing');
  const w = new LoadWindow().start();
  const result = await runB4(ctx);
  const load = w.report();
  record.load.B4 = load;
  fs.writeFileSync(path.join(ctx.runDir, 'b4-results.json'), JSON.stringify(result, null, 2));
  const m = record.machine;
  const section = b4Markdown(result, {
    command,
    machine: `${m.nproc} CPUs, ${m.cpuModel}`,
    load,
    date: new Date(),
  });
  console.log(section);
  return section;
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

main().then(
  // Lingering handles (gRPC channels, SDK timers) must not keep a finished run alive.
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
