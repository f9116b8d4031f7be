/**
 * One session-keeper worker in a process of its own (child of bench/run.ts), so that its CPU time
 * and memory can be read without the orchestrator, the devnet or the Temporal server mixed in.
 *
 * mode "real": the project's worker (`createSessionWorker`: pooled Lit client, the mint activity), with
 * the Ed25519 backend of `ed25519` (default `native`, as the product ships; `sdk` keeps the SDK's own
 * pure-JavaScript one, as SESSION_KEEPER_ED25519=sdk does). createSessionWorker installs it itself.
 * mode "canned": the same workflow bundle and worker options, but `mintSessionSigs` returns a
 * canned result at once (one real set of devnet sigs, re-stamped): the engine's own ceiling.
 *
 * Config from BENCH_WORKER (JSON, `WorkerChildConfig`).
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { CustomNetworkConfig } from '../src/lit/custom-network';
import { activeEd25519, type Ed25519Backend } from '../src/lit/native-ed25519';
import type { SessionActivities } from '../src/shared/activity-contract';
import type { MintResult } from '../src/shared/types';
import { createSessionWorker } from '../src/worker';
import { announceReady, serveParent } from './ipc';
import { signerEnv } from './keys';

export interface WorkerChildConfig {
  address: string;
  taskQueue: string;
  mode: 'real' | 'canned';
  network?: CustomNetworkConfig;
  keySeed: string;
  keyCount: number;
  bundlePath: string;
  cannedResultPath?: string;
  maxCachedWorkflows: number;
  maxConcurrentActivities: number;
  maxConcurrentWorkflowTasks: number;
  /** Attach to the worker's threads (inspector) so `gc` collects the workflow VM thread too. */
  inspectThreads?: boolean;
  /** Mode real: `createSessionWorker({ ed25519 })` (default `native`, the product's default). */
  ed25519?: Ed25519Backend;
}

export interface ThreadHeap {
  title: string;
  usedSize: number;
  totalSize: number;
}

export interface GcResult {
  memory: NodeJS.MemoryUsage;
  /** V8 heap of each worker thread (the workflow VM runs in one), after its own GC. */
  threads: ThreadHeap[];
}

export interface WorkerChildStats {
  cpu: NodeJS.CpuUsage;
  memory: NodeJS.MemoryUsage;
  mints: number;
  failures: number;
  /** Failed mints by "type: message start". */
  failureTypes: Record<string, number>;
  cachedWorkflows: number;
  state: string;
  /** The Ed25519 implementation in place in this process (canned workers never mint). */
  ed25519: Ed25519Backend;
}

/**
 * `gc()` only collects the main thread; the workflows live in a worker thread with a heap of its
 * own. The inspector's NodeWorker domain reaches it: HeapProfiler.collectGarbage, Runtime.getHeapUsage.
 */
class ThreadInspector {
  private readonly session = new inspector.Session();
  private readonly threads = new Map<string, string>();
  private readonly pending = new Map<number, (result: any) => void>();
  private nextId = 1;

  async start(): Promise<void> {
    this.session.connect();
    this.session.on('NodeWorker.attachedToWorker', (m: any) => {
      this.threads.set(m.params.sessionId, m.params.workerInfo.title);
    });
    this.session.on('NodeWorker.detachedFromWorker', (m: any) => {
      this.threads.delete(m.params.sessionId);
    });
    this.session.on('NodeWorker.receivedMessageFromWorker', (m: any) => {
      const msg = JSON.parse(m.params.message);
      const resolve = this.pending.get(msg.id);
      if (resolve) {
        this.pending.delete(msg.id);
        resolve(msg.result);
      }
    });
    await this.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
  }

  private post(method: string, params: object): Promise<unknown> {
    return new Promise((resolve, reject) =>
      this.session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))),
    );
  }

  private send(sessionId: string, method: string): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      void this.post('NodeWorker.sendMessageToWorker', {
        sessionId,
        message: JSON.stringify({ id, method }),
      });
    });
  }

  /** Writes a heap snapshot of every worker thread to `${prefix}-<n>.heapsnapshot`; returns the files. */
  async snapshot(prefix: string): Promise<string[]> {
    const files: string[] = [];
    let n = 0;
    for (const sessionId of this.threads.keys()) {
      const chunks: string[] = [];
      const onMessage = (m: any) => {
        const msg = JSON.parse(m.params.message);
        if (m.params.sessionId === sessionId && msg.method === 'HeapProfiler.addHeapSnapshotChunk') {
          chunks.push(msg.params.chunk);
        }
      };
      this.session.on('NodeWorker.receivedMessageFromWorker', onMessage);
      await this.send(sessionId, 'HeapProfiler.takeHeapSnapshot');
      this.session.off('NodeWorker.receivedMessageFromWorker', onMessage);
      const file = `${prefix}-${n++}.heapsnapshot`;
      fs.writeFileSync(file, chunks.join(''));
      files.push(file);
    }
    return files;
  }

  async collect(): Promise<ThreadHeap[]> {
    const out: ThreadHeap[] = [];
    for (const [sessionId, title] of this.threads) {
      await this.send(sessionId, 'HeapProfiler.collectGarbage');
      await this.send(sessionId, 'HeapProfiler.collectGarbage');
      const usage = (await this.send(sessionId, 'Runtime.getHeapUsage')) as {
        usedSize: number;
        totalSize: number;
      };
      out.push({ title, usedSize: usage.usedSize, totalSize: usage.totalSize });
    }
    return out;
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_WORKER ?? '') as WorkerChildConfig;
  const threads = config.inspectThreads ? new ThreadInspector() : undefined;
  await threads?.start();
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' } } },
    });
  } catch {
    // already installed
  }
  const connection = await NativeConnection.connect({ address: config.address });
  let mints = 0;
  let failures = 0;
  const failureTypes: Record<string, number> = {};
  const workflowBundle = { codePath: config.bundlePath };
  let worker: Worker;
  let run: () => Promise<void>;
  let shutdown: () => void;

  if (config.mode === 'real') {
    if (!config.network) throw new Error('mode real needs a network');
    const sw = await createSessionWorker({
      connection,
      taskQueue: config.taskQueue,
      networks: { custom: { devnet: config.network } },
      workflowBundle,
      ed25519: config.ed25519 ?? 'native',
      maxCachedWorkflows: config.maxCachedWorkflows,
      maxConcurrentActivities: config.maxConcurrentActivities,
      maxConcurrentWorkflowTasks: config.maxConcurrentWorkflowTasks,
      signerEnvironment: {
        env: signerEnv(config.keySeed, config.keyCount),
        readFile: () => {
          throw new Error('no key files in the bench');
        },
      },
      onMint: (outcome) => {
        if (outcome.error) {
          failures++;
          // Type and the start of the message: "Unknown" alone says little.
          const key = `${outcome.error.type}: ${outcome.error.message.slice(0, 90)}`;
          failureTypes[key] = (failureTypes[key] ?? 0) + 1;
        } else mints++;
      },
    });
    worker = sw.worker;
    run = () => sw.run();
    shutdown = () => sw.shutdown();
  } else {
    const canned = JSON.parse(fs.readFileSync(config.cannedResultPath!, 'utf8')) as MintResult;
    const activities: SessionActivities = {
      async mintSessionSigs(req) {
        mints++;
        const now = Date.now();
        return {
          ...canned,
          issuedAt: new Date(now).toISOString(),
          expiresAt: new Date(now + req.sessionTtlMs).toISOString(),
        };
      },
    };
    // The same options createSessionWorker passes (src/worker.ts), minus the Lit pool.
    worker = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue: config.taskQueue,
      activities,
      workflowBundle,
      maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities,
      maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTasks,
      maxCachedWorkflows: config.maxCachedWorkflows,
      shutdownGraceTime: '20s',
    });
    run = () => worker.run();
    shutdown = () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    };
  }

  const running = run();
  running.catch((err) => {
    console.error('worker failed', err);
    process.exit(2);
  });
  while (worker.getState() !== 'RUNNING') await new Promise((r) => setTimeout(r, 20));

  const gc = (globalThis as { gc?: () => void }).gc;
  serveParent(
    {
      stats: (): WorkerChildStats => {
        const status = worker.getStatus();
        return {
          cpu: process.cpuUsage(),
          memory: process.memoryUsage(),
          mints,
          failures,
          failureTypes,
          cachedWorkflows: status.numCachedWorkflows,
          state: worker.getState(),
          ed25519: activeEd25519(),
        };
      },
      gc: async (): Promise<GcResult> => {
        if (!gc) throw new Error('start the child with --expose-gc');
        const threadHeaps = (await threads?.collect()) ?? [];
        for (let i = 0; i < 3; i++) {
          gc();
          await new Promise((r) => setTimeout(r, 50));
        }
        return { memory: process.memoryUsage(), threads: threadHeaps };
      },
      heapSnapshot: (p: { prefix: string }) => {
        if (!threads) throw new Error('start the child with inspectThreads');
        return threads.snapshot(p.prefix);
      },
    },
    async () => {
      shutdown();
      await running.catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  );
  announceReady({ pid: process.pid, ed25519: activeEd25519() });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
