/**
 * The production shape of docker-compose.yml, run on loopback without Docker: PostgreSQL, the
 * Temporal server on it (default store and SQL visibility), the `default` namespace with the
 * keeper's search attributes (compose's `setup` command), and N worker processes of this
 * project configured through compose's worker environment. Every part can be stopped, killed and
 * started again on its own, which is what the cluster test suite does to it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { DEFAULT_TASK_QUEUE } from '../../src/shared/names';
import { freePort } from '../../src/temporal/dev-server';
import { identitiesPollingBoth } from '../../src/temporal/task-queue-pollers';
import { track } from './child-processes';
import { type ComposeFacts, REPO_ROOT, readComposeFacts, SETUP_LOCATION_VARIABLES } from './compose-source';
import { LocalPostgres, tail } from './postgres';
import { ensureServerBinaries, type ServerPorts, setupSchemas, TemporalServer } from './temporal-server';
import { waitFor } from './wait';

export const CLI = path.join(REPO_ROOT, 'bin', 'session-keeper.js');
/** The command of compose's `setup` service, run the same way here. */
export const SETUP_COMMAND = ['setup'];

/** The calling environment without anything that configures Temporal, the keeper or Lit networks. */
export function withoutKeeperVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...env };
  for (const k of Object.keys(base)) if (/^(TEMPORAL_|LIT_NETWORKS|SESSION_KEEPER_)/.test(k)) delete base[k];
  return base;
}

/**
 * The environment `setup` runs with: compose's `setup` service's, not the workers' (it has no codec
 * keys), with only the address (and the cluster's namespace) the cluster's own.
 */
export function setupEnvironment(
  facts: Pick<ComposeFacts, 'setupEnv'>,
  base: NodeJS.ProcessEnv,
  address: string,
  namespace: string,
): NodeJS.ProcessEnv {
  const portable = Object.fromEntries(
    Object.entries(facts.setupEnv).filter(
      ([k]) => !(SETUP_LOCATION_VARIABLES as readonly string[]).includes(k),
    ),
  );
  return {
    ...withoutKeeperVariables(base),
    ...portable,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
  };
}

export interface LocalClusterOptions {
  /** Working directory for data and logs (default: a new temporary directory). */
  dir?: string;
  /** Temporal frontend port (default: a free one). */
  temporalPort?: number;
  postgresPort?: number;
  namespace?: string;
  /** The Lit networks file the workers read (LIT_NETWORKS_FILE). */
  networksFile: string;
  /** Variables every worker gets on top of compose's (agent key references' values, tuning). */
  workerEnv?: Record<string, string>;
  log?: (line: string) => void;
}

export interface ClusterWorker {
  slot: number;
  incarnation: number;
  pid: number;
  /** The Temporal worker identity (the SDK's default, `pid@hostname`). */
  identity: string;
  metricsAddress: string;
  logFile: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
}

export class LocalCluster {
  readonly workers = new Map<number, ClusterWorker>();
  readonly allWorkers: ClusterWorker[] = [];
  /** The environment every worker process gets (compose's, with this cluster's locations). */
  readonly workerEnv: NodeJS.ProcessEnv;
  readonly buildSeconds: number;

  private constructor(
    readonly dir: string,
    readonly facts: ComposeFacts,
    readonly postgres: LocalPostgres,
    readonly server: TemporalServer,
    readonly namespace: string,
    workerEnv: NodeJS.ProcessEnv,
    buildSeconds: number,
    private readonly log: (line: string) => void,
  ) {
    this.workerEnv = workerEnv;
    this.buildSeconds = buildSeconds;
  }

  static async start(opts: LocalClusterOptions): Promise<LocalCluster> {
    const log = opts.log ?? (() => {});
    const facts = readComposeFacts();
    const namespace = opts.namespace ?? facts.workerEnv.TEMPORAL_NAMESPACE ?? 'default';
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'session-keeper-cluster-'));
    fs.mkdirSync(dir, { recursive: true });
    // PostgreSQL runs as its own user (see postgres.ts) and must reach its directory under this one.
    if (process.getuid?.() === 0) fs.chmodSync(dir, 0o755);
    const binaries = ensureServerBinaries(facts.temporalServerVersion, log);
    if (binaries.buildSeconds)
      log(`built the Temporal server ${facts.temporalServerVersion} in ${binaries.buildSeconds} s`);

    const postgres = await LocalPostgres.start(
      { dir: path.join(dir, 'postgres'), port: opts.postgresPort ?? (await freePort()) },
      log,
    );
    log(`PostgreSQL on ${postgres.address}`);
    try {
      return await LocalCluster.startOn(postgres, opts, facts, namespace, dir, binaries, log);
    } catch (err) {
      // Nothing half-started stays behind.
      await postgres.stop();
      throw err;
    }
  }

  private static async startOn(
    postgres: LocalPostgres,
    opts: LocalClusterOptions,
    facts: ComposeFacts,
    namespace: string,
    dir: string,
    binaries: { server: string; sqlTool: string; buildSeconds: number },
    log: (line: string) => void,
  ): Promise<LocalCluster> {
    const db = { address: postgres.address, user: postgres.user, password: postgres.password };
    setupSchemas(binaries.sqlTool, db);

    const ports: ServerPorts = {
      frontend: opts.temporalPort ?? (await freePort()),
      frontendHttp: await freePort(),
      history: await freePort(),
      matching: await freePort(),
      worker: await freePort(),
      // Temporal stores membership ports as a SQL smallint: they must be below 32768, where the
      // kernel's ephemeral ports (what port 0 gives) never are.
      membership: [await lowFreePort(), await lowFreePort(), await lowFreePort(), await lowFreePort()],
      metrics: await freePort(),
    };
    const server = new TemporalServer(binaries.server, path.join(dir, 'temporal'), ports, db);
    try {
      await server.start();
      await registerNamespace(server.address, namespace);
    } catch (err) {
      await server.kill();
      throw err;
    }
    log(
      `Temporal server ${facts.temporalServerVersion} on ${server.address} (PostgreSQL store and visibility)`,
    );

    // A codec key for this cluster, in a file as compose mounts it (never in an env value).
    const codecKeysFile = path.join(dir, 'codec_keys');
    if (!fs.existsSync(codecKeysFile)) {
      fs.writeFileSync(codecKeysFile, `k1:${randomBytes(32).toString('base64')}`, { mode: 0o600 });
    }
    const base = withoutKeeperVariables(process.env);
    const workerEnv: NodeJS.ProcessEnv = {
      ...base,
      ...facts.portableWorkerEnv,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: namespace,
      SESSION_KEEPER_CODEC_KEYS_FILE: codecKeysFile,
      LIT_NETWORKS_FILE: opts.networksFile,
      ...opts.workerEnv,
    };
    const cluster = new LocalCluster(
      dir,
      facts,
      postgres,
      server,
      namespace,
      workerEnv,
      binaries.buildSeconds,
      log,
    );
    await cluster.setup();
    return cluster;
  }

  get address(): string {
    return this.server.address;
  }

  /**
   * Runs compose's `setup` service command (`session-keeper setup`: the search attributes) with
   * compose's setup environment, as compose runs it.
   */
  async setup(): Promise<void> {
    const result = spawnSync(process.execPath, [CLI, ...SETUP_COMMAND], {
      cwd: REPO_ROOT,
      env: setupEnvironment(this.facts, process.env, this.address, this.namespace),
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (result.status !== 0) {
      throw new Error(
        `session-keeper ${SETUP_COMMAND.join(' ')} failed: ${(result.stderr || result.stdout).trim()}`,
      );
    }
  }

  /** Starts worker `slot` and waits until it polls both task queue kinds. */
  async startWorker(slot: number): Promise<ClusterWorker> {
    const incarnation = this.allWorkers.filter((w) => w.slot === slot).length + 1;
    const logFile = path.join(this.dir, `worker-${slot}-${incarnation}.log`);
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    const out = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [CLI, 'worker'], {
      cwd: REPO_ROOT,
      env: {
        ...this.workerEnv,
        SESSION_KEEPER_METRICS_ADDRESS: metricsAddress,
        SESSION_KEEPER_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
      },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    track(child);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const pid = child.pid!;
    const w: ClusterWorker = {
      slot,
      incarnation,
      pid,
      identity: `${pid}@${os.hostname()}`,
      metricsAddress,
      logFile,
      child,
      exited,
      alive: () => child.exitCode === null && child.signalCode === null,
    };
    this.workers.set(slot, w);
    this.allWorkers.push(w);
    await waitFor(
      `worker ${slot} (pid ${pid}) to poll the task queue`,
      120_000,
      async () => {
        if (!w.alive()) throw new Error(`worker ${slot} exited: ${tail(logFile)}`);
        return (await this.pollerIdentities()).has(w.identity) ? true : undefined;
      },
      500,
    );
    this.log(
      `worker ${slot} (pid ${pid}) polling; metrics on http://${metricsAddress}/metrics, log ${logFile}`,
    );
    return w;
  }

  /** Identities polling both the workflow and the activity task queue now. */
  async pollerIdentities(): Promise<Set<string>> {
    const connection = await Connection.connect({ address: this.address, connectTimeout: 2_000 });
    try {
      const taskQueue = this.workerEnv.SESSION_KEEPER_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
      return await identitiesPollingBoth(connection.workflowService, this.namespace, taskQueue);
    } finally {
      await connection.close();
    }
  }

  /** SIGKILL: whatever the worker was doing is lost mid-flight. */
  async killWorker(slot: number): Promise<ClusterWorker> {
    const w = this.workers.get(slot);
    if (!w) throw new Error(`no worker ${slot}`);
    if (w.alive()) w.child.kill('SIGKILL');
    await w.exited;
    return w;
  }

  /** SIGTERM: the worker drains and exits. */
  async stopWorker(slot: number): Promise<void> {
    const w = this.workers.get(slot);
    if (!w) return;
    if (w.alive()) w.child.kill('SIGTERM');
    const timer = setTimeout(() => w.alive() && w.child.kill('SIGKILL'), 30_000);
    await w.exited;
    clearTimeout(timer);
  }

  /** Stops (SIGTERM, or SIGKILL) the Temporal server, stays down for `downMs`, starts it on the same database and ports. */
  async restartTemporal(mode: 'stop' | 'kill' = 'kill', downMs = 0): Promise<void> {
    if (mode === 'kill') await this.server.kill();
    else await this.server.stop();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.server.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers.keys()].map((slot) => this.stopWorker(slot)));
    await this.server.stop();
    await this.postgres.stop();
  }
}

/** A free loopback port in 20000–32767 (the kernel hands out ephemeral ports from 32768 up). */
async function lowFreePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free loopback port between 20000 and 32767');
}

/** Registers the namespace (idempotent), with compose auto-setup's retention. */
export async function registerNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('24h'),
      });
    } catch (err) {
      if (!/already exists/i.test(String((err as Error).message))) throw err;
    }
    // Registration reaches the frontend's namespace cache a moment later.
    await waitFor(`namespace ${namespace}`, 60_000, async () => {
      await connection.workflowService.describeNamespace({ namespace });
      return true;
    });
  } finally {
    await connection.close();
  }
}
