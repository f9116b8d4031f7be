/**
 * The chaos suite's environment: a real Temporal dev server on a SQLite file (killable and
 * restartable on the same file and port), the local Lit devnet in this process, workers as
 * separate processes (`node bin/session-keeper.js worker`, configured from the environment like
 * production, JSON logs to a file each), a small fleet of EOA and PKP agents, and a record of
 * every PKP share the devnet's nodes signed. Everything listens on loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { temporal } from '@temporalio/proto';
import { ethers } from 'ethers';
import { createKeeperClient, type SessionKeeperClient } from '../../src/client';
import { type Devnet, startDevnet } from '../../src/devnet';
import type { AgentSpecInput } from '../../src/shared/agent-spec';
import { DEFAULT_TASK_QUEUE, workflowIdFor } from '../../src/shared/names';
import type { RefreshPolicy, SessionStatus } from '../../src/shared/types';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server';
import { identitiesPollingBoth } from '../../src/temporal/task-queue-pollers';
import { until } from '../polling';
import { type HistoryEventSummary, type LogRecord, parseLog, type SigningRecord } from './metrics';

export const REPO = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO, 'bin', 'session-keeper.js');
export const NETWORK = 'devnet';

/** Timings of the fleet. Short lifetimes so a refresh falls due every ~15 s. */
export const SESSION_TTL_MS = 60_000;
export const RENEW_BEFORE_MS = 45_000;
export const REFRESH_JITTER = 0.1;
/** The policy as the workflow normalises it (for the refresh audit). */
export const POLICY: RefreshPolicy = {
  fraction: 2 / 3,
  renewBeforeMs: RENEW_BEFORE_MS,
  jitter: REFRESH_JITTER,
};
/** Short, but with room for a loaded 2-core machine: a local node answers a handshake in milliseconds. */
export const HANDSHAKE_TIMEOUT = '2s';
export const BLOCK_TIME_MS = 1_000;

export type Mode = 'eoa' | 'pkp';

export interface ChaosAgent {
  agentId: string;
  mode: Mode;
  /** Address the test data is encrypted to: the wallet (EOA) or the PKP's address. */
  address: string;
  pkpPublicKey?: string;
  spec: AgentSpecInput;
}

export interface WorkerProcess {
  slot: string;
  incarnation: number;
  child: ChildProcess;
  pid: number;
  /** The Temporal worker identity (the SDK's default, `pid@hostname`). */
  identity: string;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
}

/** Every child process the suite started, killed when this process exits however it exits. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
});
function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/**
 * Every successful `sign_session_key` answer of every devnet node of `devnet` (the devnet's
 * `sessionSigned` event: the node answered its share after all of Lit's checks passed).
 */
const signings: SigningRecord[] = [];
function recordSignings(devnet: Devnet): void {
  devnet.on('sessionSigned', (e) =>
    signings.push({ t: Date.now(), node: e.node, pkpPublicKey: e.pkpPublicKey, sessionKey: e.sessionKey }),
  );
}

export class ChaosEnv {
  readonly dir: string;
  readonly devnet: Devnet;
  readonly keeper: SessionKeeperClient;
  readonly agents: ChaosAgent[];
  readonly workers = new Map<string, WorkerProcess>();
  /** All worker processes ever started (for the logs). */
  readonly allWorkers: WorkerProcess[] = [];
  readonly signings = signings;
  /** Event-loop delay of this process (devnet and monitor live here): a stalled loop looks like slow nodes. */
  readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });
  private server: DevServer;
  private readonly port: number;
  /** The workers' environment (codec keys, networks file, agent keys). */
  readonly workerEnv: NodeJS.ProcessEnv;

  private constructor(parts: {
    dir: string;
    devnet: Devnet;
    server: DevServer;
    port: number;
    keeper: SessionKeeperClient;
    agents: ChaosAgent[];
    workerEnv: NodeJS.ProcessEnv;
  }) {
    this.dir = parts.dir;
    this.devnet = parts.devnet;
    this.server = parts.server;
    this.port = parts.port;
    this.keeper = parts.keeper;
    this.agents = parts.agents;
    this.workerEnv = parts.workerEnv;
    this.loopDelay.enable();
  }

  static async start(opts: { eoa: number; pkp: number }): Promise<ChaosEnv> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-keeper-chaos-'));
    const devnet = await startDevnet({ blockTimeMs: BLOCK_TIME_MS });
    recordSignings(devnet);
    const networksFile = path.join(dir, 'networks.json');
    fs.writeFileSync(networksFile, JSON.stringify({ networks: { [NETWORK]: devnet.networkConfig() } }));
    const server = await startDevServer({
      dbFile: path.join(dir, 'temporal.db'),
      logFile: path.join(dir, 'temporal.log'),
    });
    track(server.process);
    const port = Number(server.address.split(':').pop());
    const codecKeys = `k1:${randomBytes(32).toString('base64')}`;

    const base: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(base)) {
      if (/^(TEMPORAL_|LIT_NETWORKS|SESSION_KEEPER_)/.test(k)) delete base[k];
    }
    const clientEnv: NodeJS.ProcessEnv = {
      ...base,
      TEMPORAL_ADDRESS: server.address,
      LIT_NETWORKS_FILE: networksFile,
      SESSION_KEEPER_CODEC_KEYS: codecKeys,
    };
    const workerEnv: NodeJS.ProcessEnv = {
      ...clientEnv,
      SESSION_KEEPER_HANDSHAKE_TIMEOUT: HANDSHAKE_TIMEOUT,
      SESSION_KEEPER_LOG_LEVEL: 'info',
    };

    const agents: ChaosAgent[] = [];
    const ttlSpec = {
      network: NETWORK,
      sessionTtl: SESSION_TTL_MS,
      refresh: { renewBefore: RENEW_BEFORE_MS, jitter: REFRESH_JITTER },
    };
    for (let i = 1; i <= opts.eoa; i++) {
      const wallet = ethers.Wallet.createRandom();
      const name = `CHAOS_KEY_EOA_${i}`;
      workerEnv[name] = wallet.privateKey;
      const agentId = `chaos-eoa-${i}`;
      agents.push({
        agentId,
        mode: 'eoa',
        address: wallet.address,
        spec: { agentId, mode: 'eoa', signer: `env:${name}`, ...ttlSpec },
      });
    }
    for (let i = 1; i <= opts.pkp; i++) {
      const controller = ethers.Wallet.createRandom();
      const name = `CHAOS_KEY_PKP_${i}`;
      workerEnv[name] = controller.privateKey;
      const pkp = devnet.mintPkp([controller.address]);
      const agentId = `chaos-pkp-${i}`;
      agents.push({
        agentId,
        mode: 'pkp',
        address: pkp.ethAddress,
        pkpPublicKey: pkp.publicKey,
        spec: { agentId, mode: 'pkp', signer: `env:${name}`, pkpPublicKey: pkp.publicKey, ...ttlSpec },
      });
    }
    const keeper = await createKeeperClient({ env: clientEnv, queryTimeoutMs: 4_000 });
    return new ChaosEnv({ dir, devnet, server, port, keeper, agents, workerEnv });
  }

  get address(): string {
    return this.server.address;
  }

  agent(agentId: string): ChaosAgent {
    const a = this.agents.find((x) => x.agentId === agentId);
    if (!a) throw new Error(`no agent ${agentId}`);
    return a;
  }

  /** Starts a worker process in `slot` and waits until it polls both task queue kinds. */
  async startWorker(slot: string, signal?: AbortSignal): Promise<WorkerProcess> {
    const previous = this.allWorkers.filter((w) => w.slot === slot).length;
    const incarnation = previous + 1;
    const logFile = path.join(this.dir, `worker-${slot}-${incarnation}.log`);
    const out = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [CLI, 'worker'], {
      cwd: REPO,
      env: this.workerEnv,
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    track(child);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, sig) => resolve({ code, signal: sig })),
    );
    const pid = child.pid!;
    const w: WorkerProcess = {
      slot,
      incarnation,
      child,
      pid,
      identity: `${pid}@${os.hostname()}`,
      logFile,
      exited,
      alive: () => child.exitCode === null && child.signalCode === null,
    };
    this.workers.set(slot, w);
    this.allWorkers.push(w);
    await until(
      `worker ${slot} (pid ${pid}) to poll the task queue`,
      async () => {
        if (!w.alive()) throw new Error(`worker ${slot} exited: ${tail(logFile)}`);
        return (await this.pollerIdentities()).has(w.identity) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, signal },
    );
    return w;
  }

  /** Identities polling both the workflow and the activity task queue right now. */
  pollerIdentities(): Promise<Set<string>> {
    return identitiesPollingBoth(this.keeper.temporal.workflowService, 'default', DEFAULT_TASK_QUEUE);
  }

  /** SIGKILL (no drain): whatever the worker was doing is lost mid-flight. */
  async killWorker(slot: string): Promise<WorkerProcess> {
    const w = this.workers.get(slot);
    if (!w) throw new Error(`no worker in slot ${slot}`);
    if (w.alive()) w.child.kill('SIGKILL');
    await w.exited;
    return w;
  }

  /** SIGTERM: the worker drains (in-flight mints finish) and exits. */
  async stopWorker(slot: string): Promise<void> {
    const w = this.workers.get(slot);
    if (!w) return;
    if (w.alive()) w.child.kill('SIGTERM');
    const timer = setTimeout(() => w.alive() && w.child.kill('SIGKILL'), 30_000);
    await w.exited;
    clearTimeout(timer);
  }

  /** The worker slot whose process has `identity`. */
  slotOf(identity: string): string | undefined {
    for (const [slot, w] of this.workers) if (w.identity === identity) return slot;
    return undefined;
  }

  /** SIGKILL the Temporal dev server. */
  async killServer(): Promise<void> {
    await this.server.kill();
  }

  /** Starts the dev server again on the same SQLite file and port. */
  async restartServer(): Promise<void> {
    this.server = await startDevServer({
      dbFile: path.join(this.dir, 'temporal.db'),
      logFile: path.join(this.dir, 'temporal.log'),
      port: this.port,
      startTimeoutMs: 60_000,
    });
    track(this.server.process);
  }

  startFleet(): Promise<void> {
    return startFleetOf(this.keeper, this.agents);
  }

  statuses(): Promise<SessionStatus[]> {
    return statusesOf(this.keeper, this.agents);
  }

  /** The PKP public key → agent id map (for the signing records). */
  pkpAgents(): Map<string, string> {
    return new Map(this.agents.filter((a) => a.pkpPublicKey).map((a) => [a.pkpPublicKey!, a.agentId]));
  }

  workerLogs(): { worker: string; text: string }[] {
    return this.allWorkers.map((w) => ({
      worker: `${w.slot}${w.incarnation}`,
      text: fs.existsSync(w.logFile) ? fs.readFileSync(w.logFile, 'utf8') : '',
    }));
  }

  /** The current run's history of every agent (payloads still encrypted). */
  async histories(): Promise<{ workflowId: string; history: temporal.api.history.v1.IHistory }[]> {
    return Promise.all(
      this.agents.map(async (a) => {
        const workflowId = workflowIdFor(a.agentId);
        return {
          workflowId,
          history: await this.keeper.temporal.workflow.getHandle(workflowId).fetchHistory(),
        };
      }),
    );
  }

  /** Type and time of every event in the agents' current runs. */
  async historyEvents(): Promise<HistoryEventSummary[]> {
    const out: HistoryEventSummary[] = [];
    for (const { workflowId, history } of await this.histories()) {
      for (const e of history.events ?? []) {
        out.push({
          agentId: workflowId.replace(/^lit-session\//, ''),
          type: temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType),
          t: Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6),
        });
      }
    }
    return out;
  }

  /** Every JSON log line of every worker process so far. */
  workerLogRecords(): LogRecord[] {
    return this.workerLogs().flatMap((l) => parseLog(l.text, l.worker));
  }

  /** The first `lit client connected` line the worker in `slot` logged, if any. */
  firstConnect(slot: string): LogRecord | undefined {
    const w = this.workers.get(slot);
    if (!w || !fs.existsSync(w.logFile)) return undefined;
    return parseLog(fs.readFileSync(w.logFile, 'utf8'), slot).find((r) => r.msg === 'lit client connected');
  }

  async close(): Promise<void> {
    this.loopDelay.disable();
    await Promise.all([...this.workers.keys()].map((slot) => this.stopWorker(slot).catch(() => undefined)));
    await this.keeper.close().catch(() => undefined);
    await this.server.stop().catch(() => undefined);
    await this.devnet.close();
  }
}

/** Starts every agent of a suite's fleet; any refusal fails the suite's setup. */
export async function startFleetOf(keeper: SessionKeeperClient, agents: ChaosAgent[]): Promise<void> {
  const results = await keeper.startAgents(agents.map((a) => a.spec));
  const failed = results.filter((r) => r.error);
  if (failed.length) throw new Error(`could not start agents: ${failed.map((f) => f.error?.message)}`);
}

export function statusesOf(keeper: SessionKeeperClient, agents: ChaosAgent[]): Promise<SessionStatus[]> {
  return Promise.all(agents.map((a) => keeper.querySessionStatus(a.agentId)));
}

function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
