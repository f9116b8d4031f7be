/**
 * Shared pieces of the benchmarks: the devnet and worker child processes, Temporal servers, the
 * workflow bundle, agent fleets, the canned mint result, and visibility polling.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { ethers } from 'ethers';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { LocalCluster } from '../deploy/local-cluster/local-cluster';
import { DYNAMIC_CONFIG } from '../deploy/local-cluster/temporal-server';
import { createActivities } from '../src/activities';
import { createKeeperClient, type SessionKeeperClient } from '../src/client';
import type { CustomNetworkConfig } from '../src/lit/custom-network';
import { LitClientPool } from '../src/lit/lit-client-pool';
import type { Ed25519Backend } from '../src/lit/native-ed25519';
import { resolveNetworkTarget } from '../src/lit/network-targets';
import type { AgentSpecInput } from '../src/shared/agent-spec';
import { DEFAULT_RESOURCE_ABILITY_REQUESTS } from '../src/shared/agent-spec';
import {
  LitAgentId,
  LitNetwork,
  LitSessionExpiresAt,
  LitSessionGeneration,
  LitSessionState,
} from '../src/shared/search-attributes';
import type { MintResult } from '../src/shared/types';
import { executableOption } from '../src/temporal/binaries';
import { startDevServer } from '../src/temporal/dev-server';
import { type BenchChild, forkChild } from './ipc';
import { keyFor, keyName } from './keys';
import { findDescendant, processCpuSeconds, processTreeCpuSeconds } from './machine';
import type { GcResult, WorkerChildConfig, WorkerChildStats } from './worker-child';

export const NETWORK = 'devnet';

export interface BenchContext {
  /** Scratch directory of this run: child logs, the bundle, the canned result, CPU profiles. */
  runDir: string;
  seed: string;
  /** Run the worker children with --cpu-prof (profiles land in runDir/profiles). */
  profile: boolean;
  log(message: string): void;
  devnet(): Promise<DevnetHandle>;
  bundlePath(): Promise<string>;
  cannedResultPath(): Promise<string>;
}

// ---- devnet -----------------------------------------------------------------------------------

export interface DevnetCounters {
  cpu: NodeJS.CpuUsage;
  nodeRequests: Record<string, number>;
  rpc: Record<string, number>;
  blockIndexerRequests: number;
}

export class DevnetHandle {
  private readonly pkps = new Map<string, string>();

  constructor(
    readonly child: BenchChild,
    readonly network: CustomNetworkConfig,
    readonly nodeUrls: string[],
    readonly blockTimeMs: number,
  ) {}

  static async start(ctx: Pick<BenchContext, 'runDir'>, blockTimeMs: number): Promise<DevnetHandle> {
    const child = forkChild<{ network: CustomNetworkConfig; nodeUrls: string[] }>(
      'devnet',
      path.join(__dirname, 'devnet-child.ts'),
      {
        env: { BENCH_DEVNET: JSON.stringify({ blockTimeMs }) },
        logFile: path.join(ctx.runDir, 'devnet.log'),
      },
    );
    const ready = await child.ready;
    return new DevnetHandle(child, ready.network, ready.nodeUrls, blockTimeMs);
  }

  /** A PKP controlled by `address` (one per address, minted on first use). */
  async pkpFor(address: string): Promise<string> {
    let key = this.pkps.get(address);
    if (!key) {
      const info = await this.child.request<{ publicKey: string }>('mintPkp', {
        permittedAddresses: [address],
      });
      key = info.publicKey;
      this.pkps.set(address, key);
    }
    return key;
  }

  counters(): Promise<DevnetCounters> {
    return this.child.request<DevnetCounters>('stats');
  }

  close(): Promise<void> {
    return this.child.stop();
  }
}

export function cpuSeconds(a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number {
  return (b.user - a.user + b.system - a.system) / 1e6;
}

export function sumValues(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

// ---- Temporal servers -------------------------------------------------------------------------

export interface TemporalServer {
  address: string;
  /** How it was started, for the report. */
  description: string;
  client: Client;
  /** CPU seconds the server process has used so far (undefined if its process was not found). */
  cpuSeconds(): number | undefined;
  /** The same, by process, where the server is more than one (the cluster: Temporal and PostgreSQL). */
  cpuParts?(): Record<string, number | undefined>;
  stop(): Promise<void>;
}

let runtimeInstalled = false;
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' } } },
    });
  } catch {
    // already installed
  }
}

async function clientFor(address: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection });
}

/** `startDevServer` as the project ships it: in-memory, the server's default dynamic config. */
export async function startDefaultServer(): Promise<TemporalServer> {
  const server = await startDevServer({ headless: true });
  const client = await clientFor(server.address);
  const pid = server.process.pid!;
  return {
    address: server.address,
    description: 'startDevServer (in-memory SQLite, default dynamic config: worker.batcherRPS = 50)',
    client,
    cpuSeconds: () => processCpuSeconds(pid),
    async stop() {
      await client.connection.close().catch(() => undefined);
      await server.stop();
    },
  };
}

/**
 * The same `temporal server start-dev` binary, in-memory, with the batch operation rate limit
 * (`worker.batcherRPS`, default 50 signals/s per namespace) raised. `startDevServer` takes no extra
 * flags, so this one goes through the SDK's launcher (`TestWorkflowEnvironment.createLocal`).
 */
export async function startLiftedServer(batcherRps: number): Promise<TemporalServer> {
  installQuietRuntime();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: executableOption('temporal'),
      searchAttributes: [LitAgentId, LitNetwork, LitSessionState, LitSessionExpiresAt, LitSessionGeneration],
      extraArgs: ['--dynamic-config-value', `worker.batcherRPS=${batcherRps}`],
    },
  });
  const address = env.address;
  const port = address.slice(address.lastIndexOf(':') + 1);
  const pid = findDescendant(['start-dev', port]);
  const client = await clientFor(address);
  return {
    address,
    description: `temporal server start-dev via TestWorkflowEnvironment.createLocal (in-memory SQLite, worker.batcherRPS = ${batcherRps})`,
    client,
    cpuSeconds: () => (pid ? processCpuSeconds(pid) : undefined),
    async stop() {
      await client.connection.close().catch(() => undefined);
      await env.teardown();
    },
  };
}

/**
 * The local cluster of deploy/local-cluster (the production shape of docker-compose.yml without
 * Docker): PostgreSQL, the Temporal server release compose pins (built from Go, cached) on it with
 * SQL visibility, the keeper's search attributes registered; none of the cluster's own workers (the
 * bench starts its worker-child processes against it). With `batcherRps`, `worker.batcherRPS` is
 * added to the cluster's dynamic config (DYNAMIC_CONFIG of deploy/local-cluster/temporal-server.ts)
 * for this bench's cluster only, and the Temporal server restarted on it before any fleet runs.
 */
export async function startClusterServer(
  ctx: Pick<BenchContext, 'devnet' | 'log'>,
  opts: { batcherRps?: number } = {},
): Promise<TemporalServer> {
  const devnet = await ctx.devnet();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keeper-bench-cluster-'));
  const networksFile = path.join(dir, 'networks.json');
  fs.writeFileSync(networksFile, JSON.stringify({ networks: { [NETWORK]: devnet.network } }));
  const cluster = await LocalCluster.start({ dir, networksFile, log: (l) => ctx.log(`cluster: ${l}`) });
  let client: Client | undefined;
  try {
    if (cluster.namespace !== 'default') {
      throw new Error(
        `the bench's workers use the namespace "default", the cluster has "${cluster.namespace}"`,
      );
    }
    const dynamic = parseYaml(DYNAMIC_CONFIG) as Record<string, { value: unknown }[]>;
    if (opts.batcherRps !== undefined) {
      dynamic['worker.batcherRPS'] = [{ value: opts.batcherRps, constraints: {} } as { value: unknown }];
      fs.writeFileSync(path.join(cluster.server.dir, 'config', 'dynamicconfig.yaml'), stringifyYaml(dynamic));
      // Read at start-up for certain (the file is also polled, every 10 s).
      await cluster.restartTemporal('stop');
      ctx.log(`cluster: Temporal server restarted with worker.batcherRPS = ${opts.batcherRps}`);
    }
    const dataDir = path.join(dir, 'postgres', 'data');
    const postgresPid = findDescendant([dataDir]);
    const postgresVersion = postgresPid ? postgresVersionOf(postgresPid) : undefined;
    client = await clientFor(cluster.address);
    const settings = Object.entries(dynamic)
      .map(([k, v]) => `${k} = ${JSON.stringify(v[0]?.value)}`)
      .join(', ');
    const parts = (): Record<string, number | undefined> => {
      const temporalPid = cluster.server.pid;
      return {
        temporal: temporalPid ? processCpuSeconds(temporalPid) : undefined,
        postgres: postgresPid ? processTreeCpuSeconds(postgresPid) : undefined,
      };
    };
    const c = client;
    return {
      address: cluster.address,
      description:
        `deploy/local-cluster: Temporal server ${cluster.facts.temporalServerVersion} (temporal-server built from Go, ` +
        `its four services in one process, 4 history shards) on ${postgresVersion ?? 'PostgreSQL'} ` +
        `(default store and SQL visibility, fsync on), on loopback; dynamic config: ${settings}` +
        (opts.batcherRps !== undefined
          ? ` (worker.batcherRPS added by the bench; the cluster's own DYNAMIC_CONFIG and compose leave Temporal's default of 50)`
          : ''),
      client: c,
      cpuSeconds: () => {
        const p = parts();
        return p.temporal !== undefined && p.postgres !== undefined ? p.temporal + p.postgres : undefined;
      },
      cpuParts: parts,
      async stop() {
        await c.connection.close().catch(() => undefined);
        await cluster.stop();
        // The logs stay in the cluster's directory; the database goes.
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await client?.connection.close().catch(() => undefined);
    await cluster.stop();
    throw err;
  }
}

function postgresVersionOf(pid: number): string | undefined {
  try {
    const exe = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    // "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)" → "PostgreSQL 15.14"
    const out = execFileSync(exe, ['--version'], { encoding: 'utf8' }).trim();
    const m = /PostgreSQL\)\s+(\S+)/.exec(out);
    return m ? `PostgreSQL ${m[1]}` : out;
  } catch {
    return undefined;
  }
}

// ---- workflow bundle and canned result ----------------------------------------------------------

const quietLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  log: () => undefined,
};

/**
 * Pure workflow-side modules beyond the product's preload list: bench/b3's `preload-all` memory
 * variant measures what preloading them too would save. An experiment, not the product's list.
 */
export const EXTRA_PRELOAD_MODULES = [
  '../src/shared/spec-rules',
  '../src/shared/input-limits',
  '../src/shared/spec-check',
  '../src/shared/names',
  '../src/shared/search-attributes',
  '../src/shared/messages',
  '../src/workflows/refresh-policy',
  '../src/workflows/backoff',
  '../src/workflows/mint-failure',
  '../src/workflows/session-state',
].map((m) => require.resolve(m));

export type BundlePreload = 'product' | 'none' | 'all';

export async function buildBundle(runDir: string, preload: BundlePreload = 'product'): Promise<string> {
  // 'product' is what createSessionWorker bundles with (src/worker.ts).
  // The product preloads nothing since the workflow bundle holds no parser (no zod): 'product' and
  // 'none' are the same bundle; 'all' still measures preloading every pure workflow module.
  const preloadModules = preload === 'all' ? EXTRA_PRELOAD_MODULES : [];
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    logger: quietLogger,
    preloadModules,
  });
  const file = path.join(runDir, `workflow-bundle-preload-${preload}.js`);
  fs.writeFileSync(file, code);
  return file;
}

/**
 * A pooled adapter for the devnet, resolving `env:BENCH_KEY_<i>` from `env`. Like `createActivities`
 * it leaves the process's Ed25519 alone: callers that measure the product call `useNativeEd25519()`
 * first, as `createSessionWorker` does (bench/pooled-child.ts).
 */
export function pooledActivities(
  network: CustomNetworkConfig,
  env: Record<string, string>,
  opts: { recheckOwnAuthSigs?: boolean } = {},
) {
  const pool = new LitClientPool({
    resolveNetwork: (name) => resolveNetworkTarget(name, { custom: { [NETWORK]: network } }),
    recheckOwnAuthSigs: opts.recheckOwnAuthSigs,
  });
  const activities = createActivities({
    pool,
    signerEnvironment: {
      env,
      readFile: () => {
        throw new Error('no key files in the bench');
      },
    },
  });
  return { pool, activities };
}

/** One real EOA mint on the devnet, saved as the canned activity's answer (same sigs size). */
export async function recordCannedResult(ctx: BenchContext): Promise<string> {
  const devnet = await ctx.devnet();
  const key = keyFor(`${ctx.seed}:canned`, 0);
  const { pool, activities } = pooledActivities(devnet.network, { CANNED_KEY: key });
  try {
    const result: MintResult = await activities.mintSessionSigs({
      agentId: 'canned',
      network: NETWORK,
      mode: 'eoa',
      signer: 'env:CANNED_KEY',
      resourceAbilityRequests: DEFAULT_RESOURCE_ABILITY_REQUESTS,
      sessionTtlMs: 7 * 24 * 3600_000,
      generation: 1,
    });
    const file = path.join(ctx.runDir, 'canned-mint-result.json');
    fs.writeFileSync(file, JSON.stringify(result));
    return file;
  } finally {
    await pool.close();
  }
}

// ---- worker child -----------------------------------------------------------------------------

export interface WorkerLogCounts {
  /** Temporal core's TMPRL1104 warnings: a workflow task took over 5 s. */
  slowWorkflowTasks: number;
  /** The server had already timed the workflow task out when the worker completed it. */
  lostWorkflowTasks: number;
}

/** Counts the worker's warnings that show workflow tasks starved (from its log file). */
export function workerLogCounts(logFile: string): WorkerLogCounts {
  let text = '';
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch {
    // no log
  }
  const count = (re: RegExp) => (text.match(re) ?? []).length;
  return {
    slowWorkflowTasks: count(/TMPRL1104/g),
    lostWorkflowTasks: count(/Workflow task not found/g),
  };
}

export interface WorkerHandle {
  child: BenchChild;
  config: WorkerChildConfig;
  logCounts(): WorkerLogCounts;
  stats(): Promise<WorkerChildStats>;
  gc(): Promise<GcResult>;
  stop(): Promise<void>;
}

export interface WorkerSpec {
  server: TemporalServer;
  taskQueue: string;
  mode: 'real' | 'canned';
  keyCount: number;
  maxCachedWorkflows?: number;
  exposeGc?: boolean;
  /** Name of the CPU profile (with ctx.profile). */
  profileName?: string;
  /** Name of the log file, `worker-<logName>.log` (default: the task queue). */
  logName?: string;
  /** Another workflow bundle than the product's (bench/b3: the bundle without preloaded modules). */
  bundlePath?: string;
  /** Extra environment of the worker process (e.g. MALLOC_ARENA_MAX). */
  env?: Record<string, string>;
  /** Real workers: Ed25519 backend passed to createSessionWorker (default `native`, as shipped). */
  ed25519?: Ed25519Backend;
}

/** Worker options as `createSessionWorker` defaults them (src/worker.ts). */
export const WORKER_DEFAULTS = {
  maxConcurrentActivities: 50,
  maxConcurrentWorkflowTasks: 40,
  maxCachedWorkflows: 2000,
};

export async function startWorker(ctx: BenchContext, spec: WorkerSpec): Promise<WorkerHandle> {
  const config: WorkerChildConfig = {
    address: spec.server.address,
    taskQueue: spec.taskQueue,
    mode: spec.mode,
    network: spec.mode === 'real' ? (await ctx.devnet()).network : undefined,
    keySeed: ctx.seed,
    keyCount: spec.keyCount,
    bundlePath: spec.bundlePath ?? (await ctx.bundlePath()),
    cannedResultPath: spec.mode === 'canned' ? await ctx.cannedResultPath() : undefined,
    maxCachedWorkflows: spec.maxCachedWorkflows ?? WORKER_DEFAULTS.maxCachedWorkflows,
    maxConcurrentActivities: WORKER_DEFAULTS.maxConcurrentActivities,
    maxConcurrentWorkflowTasks: WORKER_DEFAULTS.maxConcurrentWorkflowTasks,
    inspectThreads: spec.exposeGc,
    ed25519: spec.ed25519,
  };
  const execArgv: string[] = [];
  if (spec.exposeGc) execArgv.push('--expose-gc');
  if (ctx.profile) {
    // One directory per worker: every thread writes its own CPU.<date>.<pid>.<thread>.cpuprofile.
    const dir = path.join(ctx.runDir, 'profiles', spec.profileName ?? spec.taskQueue);
    fs.mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const child = forkChild('worker', path.join(__dirname, 'worker-child.ts'), {
    execArgv,
    env: { ...(spec.env ?? {}), BENCH_WORKER: JSON.stringify(config) },
    logFile: path.join(ctx.runDir, `worker-${spec.logName ?? spec.taskQueue}.log`),
  });
  await child.ready;
  return {
    child,
    config,
    stats: () => child.request<WorkerChildStats>('stats'),
    logCounts: () => workerLogCounts(child.logFile),
    gc: () => child.request<GcResult>('gc'),
    stop: () => child.stop(),
  };
}

// ---- fleets -----------------------------------------------------------------------------------

export interface FleetPlan {
  specs: AgentSpecInput[];
  pkp: number;
  eoa: number;
}

export interface FleetOptions {
  prefix: string;
  size: number;
  /** Share of PKP agents, spread evenly through the fleet (0.1: every tenth). */
  pkpShare: number;
  sessionTtl: string;
  refresh?: AgentSpecInput['refresh'];
}

export function isPkpAgent(i: number, share: number): boolean {
  return Math.floor((i + 1) * share) > Math.floor(i * share);
}

/** Agent i signs with key i (`env:BENCH_KEY_<i>`); PKP agents get a PKP that key controls. */
export async function planFleet(ctx: BenchContext, opts: FleetOptions): Promise<FleetPlan> {
  const specs: AgentSpecInput[] = [];
  const pkpIndexes: number[] = [];
  for (let i = 0; i < opts.size; i++) if (isPkpAgent(i, opts.pkpShare)) pkpIndexes.push(i);
  const pkpKeys = new Map<number, string>();
  if (pkpIndexes.length) {
    const devnet = await ctx.devnet();
    await mapLimit(pkpIndexes, 8, async (i) => {
      const address = new ethers.Wallet(keyFor(ctx.seed, i)).address;
      pkpKeys.set(i, await devnet.pkpFor(address));
    });
  }
  for (let i = 0; i < opts.size; i++) {
    const pkpPublicKey = pkpKeys.get(i);
    specs.push({
      agentId: `${opts.prefix}-${String(i).padStart(4, '0')}`,
      network: NETWORK,
      mode: pkpPublicKey ? 'pkp' : 'eoa',
      signer: `env:${keyName(i)}`,
      ...(pkpPublicKey ? { pkpPublicKey } : {}),
      sessionTtl: opts.sessionTtl,
      ...(opts.refresh ? { refresh: opts.refresh } : {}),
    });
  }
  return { specs, pkp: pkpIndexes.length, eoa: opts.size - pkpIndexes.length };
}

export async function keeperFor(
  server: TemporalServer,
  taskQueue: string,
  network: CustomNetworkConfig,
): Promise<SessionKeeperClient> {
  return createKeeperClient({
    client: server.client,
    taskQueue,
    networks: { custom: { [NETWORK]: network } },
  });
}

/** Starts the fleet (bounded parallelism); throws if any agent did not start. Returns seconds. */
export async function startFleet(
  keeper: SessionKeeperClient,
  plan: FleetPlan,
  concurrency = 32,
): Promise<number> {
  const t0 = performance.now();
  const results = await keeper.startAgents(plan.specs, { concurrency });
  const failed = results.filter((r) => r.error);
  if (failed.length) {
    throw new Error(`${failed.length} agents did not start, e.g. ${failed[0].agentId}: ${failed[0].error}`);
  }
  return (performance.now() - t0) / 1000;
}

/** Visibility count of running refresh workflows on `taskQueue` matching `extra`. */
export function fleetCountQuery(taskQueue: string, extra: string): string {
  return `WorkflowType = "sessionRefreshWorkflow" AND TaskQueue = "${taskQueue}" AND ${extra}`;
}

/** Polls a visibility count until it reaches `target`; returns seconds waited. */
export async function waitForCount(
  client: Client,
  query: string,
  target: number,
  opts: { timeoutMs: number; intervalMs?: number; what: string; onPoll?: (count: number) => void },
): Promise<number> {
  const t0 = performance.now();
  const deadline = Date.now() + opts.timeoutMs;
  let count = 0;
  for (;;) {
    count = (await client.workflow.count(query)).count;
    opts.onPoll?.(count);
    if (count >= target) return (performance.now() - t0) / 1000;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}: ${count}/${target}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

// ---- formatting -------------------------------------------------------------------------------

export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function pct(n: number, digits = 0): string {
  return Number.isFinite(n) ? `${(n * 100).toFixed(digits)}%` : 'n/a';
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
