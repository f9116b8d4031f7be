/**
 * The worker's wiring: the session refresh workflows, the mint activity and one pooled Lit client
 * per network, reacting to network events (network-events.ts). Tests, the demo and the benchmarks
 * call `createSessionWorker`; the process entry (boot.ts) calls it with the environment's config.
 */
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type MintOutcome } from '../activities';
import type { SignerEnvironment } from '../activities/signer-reference';
import { LitClientPool, type LitNetworkTarget } from '../lit/lit-client-pool';
import { type Ed25519Backend, useNativeEd25519 } from '../lit/native-ed25519';
import { resolveNetworkTarget } from '../lit/network-targets';
import { DEFAULT_NONCE_OPTIONS, type NonceOptions } from '../lit/nonce-source';
import { createLogger, type Logger } from '../observability/logger';
import { DEFAULT_TASK_QUEUE, workflowIdFor } from '../shared/names';
import type { NetworkConfig } from '../shared/network-config';
import { DEFAULT_SHUTDOWN_GRACE_MS } from './config';
import { reactToNetworkEvents } from './network-events';

export interface SessionWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  networks: NetworkConfig;
  /** Used to signal agents when a network's node set changes; without it the worker only logs. */
  client?: Client;
  dataConverter?: DataConverter;
  /** A pre-built bundle (tests bundle once per file); default bundles `src/workflows` at start. */
  workflowBundle?: WorkflowBundleOption;
  maxConcurrentActivities?: number;
  maxConcurrentWorkflowTasks?: number;
  maxCachedWorkflows?: number;
  handshakeTimeoutMs?: number;
  reprobeIntervalMs?: number;
  mintTimeoutMs?: number;
  /** Deadline of a whole connect to a Lit network (default 30 s). */
  connectTimeoutMs?: number;
  /** Deadline of one JSON-RPC request to a custom network's chain (default 10 s). */
  rpcTimeoutMs?: number;
  /**
   * After `shutdown()`, how long mints in flight may finish (default 20 s); then they are
   * cancelled, and the worker stops a few seconds later whatever the network does.
   */
  shutdownGraceMs?: number;
  nonce?: NonceOptions;
  signerEnvironment?: SignerEnvironment;
  /**
   * `native` (default): node:crypto's Ed25519 for session keys, swapped into the SDK after a
   * self-check (src/lit/native-ed25519.ts); `sdk`: the SDK's pure-JavaScript one.
   */
  ed25519?: Ed25519Backend;
  /** Spread of the rotation sent to a network's agents when its node set changes. */
  nodeSetRotationSpreadMs?: number;
  logger?: Logger;
  onMint?: (outcome: MintOutcome) => void;
  /** Override how network names become client configs (benchmarks inject counting clients). */
  resolveNetwork?: (name: string) => LitNetworkTarget;
}

export interface SessionWorker {
  worker: Worker;
  pool: LitClientPool;
  /** Runs until `shutdown()` (or a signal handled by the caller); disconnects Lit clients after. */
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * How long after the grace time the worker gives up on activities that ignore their cancellation
 * (none of ours should: this is the backstop). Short: everything the mint waits for is aborted by
 * then, so only a bug would still be running.
 */
const SHUTDOWN_FORCE_AFTER_GRACE_MS = 5_000;

export async function createSessionWorker(opts: SessionWorkerOptions): Promise<SessionWorker> {
  const logger = opts.logger ?? createLogger('silent');
  if ((opts.ed25519 ?? 'native') === 'native') {
    const backend = useNativeEd25519();
    if (backend === 'native')
      logger.info({ ed25519: backend }, 'session keys use native Ed25519 (node:crypto)');
    else
      logger.warn({ ed25519: backend }, "native Ed25519 failed its self-check; session keys use the SDK's");
  }
  const pool = new LitClientPool({
    resolveNetwork: opts.resolveNetwork ?? ((name) => resolveNetworkTarget(name, opts.networks)),
    handshakeTimeoutMs: opts.handshakeTimeoutMs,
    reprobeIntervalMs: opts.reprobeIntervalMs,
    connectTimeoutMs: opts.connectTimeoutMs,
    rpcTimeoutMs: opts.rpcTimeoutMs,
    nodeRequestTimeoutMs: opts.mintTimeoutMs,
  });
  pool.on('connected', (info) =>
    logger.info(
      { network: info.network, nodes: info.nodeUrls.length, unreachable: info.failed },
      'lit client connected',
    ),
  );
  reactToNetworkEvents(pool, opts.client, opts.nodeSetRotationSpreadMs ?? 10_000, logger);
  pool.startBackgroundProbe();
  const activities = createActivities({
    pool,
    nonce: opts.nonce ?? DEFAULT_NONCE_OPTIONS,
    signerEnvironment: opts.signerEnvironment,
    mintTimeoutMs: opts.mintTimeoutMs,
    onMint: (outcome) => {
      const base = {
        agentId: outcome.request.agentId,
        workflowId: workflowIdFor(outcome.request.agentId),
        network: outcome.request.network,
        generation: outcome.request.generation,
        attempt: outcome.attempt,
        durationMs: Math.round(outcome.durationMs),
      };
      if (outcome.error)
        logger.warn({ ...base, errorType: outcome.error.type, err: outcome.error.message }, 'mint failed');
      else logger.info({ ...base, expiresAt: outcome.result?.expiresAt }, 'minted session sigs');
      opts.onMint?.(outcome);
    },
  });
  const shutdownGraceMs = opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    activities,
    ...(opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle }
      : // No preloaded modules: the bundle holds no parser (the workflow checks the normalised spec in
        // plain TypeScript, shared/spec-check.ts), so nothing heavy is evaluated per cached workflow.
        { workflowsPath: require.resolve('../workflows') }),
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 50,
    maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflowTasks ?? 40,
    maxCachedWorkflows: opts.maxCachedWorkflows ?? 2_000,
    // Mints take well under this; in-flight ones finish before the process exits. Those still
    // running then are cancelled (the mint activity gives up at once, see activities/index.ts).
    shutdownGraceTime: shutdownGraceMs,
    // Should an activity still ignore its cancellation, the worker stops anyway.
    shutdownForceTime: shutdownGraceMs + SHUTDOWN_FORCE_AFTER_GRACE_MS,
  });
  return {
    worker,
    pool,
    async run() {
      try {
        await worker.run();
      } finally {
        await pool.close();
      }
    },
    shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}
