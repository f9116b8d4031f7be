/**
 * The worker: runs the session refresh workflows and their mint activity, with one pooled Lit
 * client per network. `createSessionWorker` is the wiring (tests, the demo and the benchmarks use
 * it); `runWorkerFromEnv` is the production entry (`npx session-keeper worker`): configuration from
 * the environment, payload encryption, metrics, health, graceful drain on SIGINT/SIGTERM.
 */
import { createHash } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Runtime, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type MintOutcome } from './activities';
import { LitClientPool, type LitNetworkTarget, type NodeSetChange } from './activities/lit-client-pool';
import { type Ed25519Backend, useNativeEd25519 } from './activities/native-ed25519';
import { resolveNetworkTarget } from './activities/network-targets';
import { DEFAULT_NONCE_OPTIONS, type NonceOptions } from './activities/nonce-source';
import type { SignerEnvironment } from './activities/signer-reference';
import { GRPC, grpcCode } from './client/errors';
import { type FleetRotationOptions, startFleetRotation } from './client/fleet-rotation';
import { setupPayloadEncryption } from './codec/data-converter';
import { startFleetCollector } from './observability/fleet-collector';
import { type OperatorEndpoint, startOperatorEndpoint } from './observability/http-endpoint';
import { createLogger, type Logger, temporalLoggerFor } from './observability/logger';
import { SessionKeeperMetrics } from './observability/metrics';
import { DEFAULT_TASK_QUEUE } from './shared/names';
import { loadNetworkConfig, type NetworkConfig } from './shared/network-config';
import { toConnectionOptions } from './temporal/connection-config';
import { DEFAULT_SHUTDOWN_GRACE_MS, parseWorkerConfig } from './worker-config';

/**
 * Modules the workflow bundle evaluates once per worker thread (in the reusable V8 context) instead
 * of once per cached workflow: pure code with no per-workflow state. The agent spec's zod schema
 * was the bulk of each cached workflow's heap (BENCHMARKS.md, B3). Prebuilt bundles should pass
 * these to `bundleWorkflowCode({ preloadModules })` too.
 */
export const WORKFLOW_PRELOAD_MODULES: string[] = ['zod', 'ms', require.resolve('./shared/agent-spec')];

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
   * self-check (src/activities/native-ed25519.ts); `sdk`: the SDK's pure-JavaScript one.
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
  pool.on('nodeSetChanged', (change) => {
    void rotateOnNodeSetChange(change, opts.client, opts.nodeSetRotationSpreadMs ?? 10_000, logger);
  });
  pool.on('recovered', ({ network }) => {
    void retryWaitingAgents(network, opts.client, opts.nodeSetRotationSpreadMs ?? 10_000, logger);
  });
  pool.startBackgroundProbe();
  const activities = createActivities({
    pool,
    nonce: opts.nonce ?? DEFAULT_NONCE_OPTIONS,
    signerEnvironment: opts.signerEnvironment,
    mintTimeoutMs: opts.mintTimeoutMs,
    onMint: (outcome) => {
      const base = {
        agentId: outcome.request.agentId,
        workflowId: `lit-session/${outcome.request.agentId}`,
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
      : {
          workflowsPath: require.resolve('./workflows'),
          bundlerOptions: { preloadModules: WORKFLOW_PRELOAD_MODULES },
        }),
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

/**
 * The rotation's job id is shared by the workers that see the same change at about the same time,
 * so the server runs it once. It includes the minute: the server refuses a batch job id that was
 * ever used, even by a finished batch, so without it a node set seen before (a node that drops out
 * and comes back a second time) would never have its agents re-signed.
 */
const NODE_SET_JOB_WINDOW_MS = 60_000;

/**
 * Sigs are keyed by node URL, so agents must re-sign when a node joins. Every worker sees the change;
 * a job id derived from the new node set (and the minute, see above) makes the server run the batch once.
 */
async function rotateOnNodeSetChange(
  change: NodeSetChange,
  client: Client | undefined,
  spreadMs: number,
  logger: Logger,
): Promise<void> {
  const added = change.after.filter((u) => !change.before.includes(u));
  logger.info(
    { network: change.network, before: change.before, after: change.after, reason: change.reason },
    'lit node set changed',
  );
  if (added.length === 0 || !client) return;
  const digest = createHash('sha256')
    .update([...change.after].sort().join(','))
    .digest('hex')
    .slice(0, 16);
  await startSharedRotation(
    client,
    {
      query: `LitNetwork = "${change.network}"`,
      spreadMs,
      reason: 'validator-set-changed',
      jobId: `node-set-${change.network}-${digest}-${Math.floor(Date.now() / NODE_SET_JOB_WINDOW_MS)}`,
    },
    logger,
    { network: change.network, added },
    {
      started: 'rotating agents for the new node set',
      failed: 'could not rotate agents after node set change',
    },
  );
}

/**
 * Pure: the agents of a network that are waiting out a backoff after network failures (not the
 * `failed` ones: a permanent error needs a person, not a retry).
 */
export function waitingAgentsQuery(network: string): string {
  return `LitNetwork = "${network}" AND LitSessionState IN ("degraded", "expired")`;
}

/**
 * The network answers again (a replacement client connected after failures): agents in backoff
 * retry now instead of when their backoff ends, which can be minutes. Deduplicated across workers
 * like the node-set rotation: one batch per network per minute.
 */
async function retryWaitingAgents(
  network: string,
  client: Client | undefined,
  spreadMs: number,
  logger: Logger,
): Promise<void> {
  if (!client) return;
  await startSharedRotation(
    client,
    {
      query: waitingAgentsQuery(network),
      spreadMs,
      reason: 'lit-network-recovered',
      // Chosen by a visibility query: an agent that recovered by itself since must not mint again.
      onlyIfStates: ['degraded', 'expired'],
      jobId: `recovered-${network}-${Math.floor(Date.now() / NODE_SET_JOB_WINDOW_MS)}`,
    },
    logger,
    { network },
    {
      started: 'lit network answers again; agents in backoff retry now',
      failed: 'could not signal agents after the network recovered',
    },
  );
}

/**
 * Every worker sees the same network event and tries the same batch job: the job id lets one of
 * them start it, and the others' ALREADY_EXISTS is the expected outcome, not an error.
 */
async function startSharedRotation(
  client: Client,
  options: FleetRotationOptions & { jobId: string },
  logger: Logger,
  context: Record<string, unknown>,
  messages: { started: string; failed: string },
): Promise<void> {
  try {
    const jobId = await startFleetRotation(client, options);
    logger.info({ ...context, jobId }, messages.started);
  } catch (err) {
    if (grpcCode(err) === GRPC.ALREADY_EXISTS) return;
    logger.error({ ...context, err: (err as Error).message }, messages.failed);
  }
}

/** `npx session-keeper worker`: everything from the environment; resolves after a graceful drain. */
export async function runWorkerFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  flags: { allowUnencrypted?: boolean } = {},
) {
  const config = parseWorkerConfig(env);
  const networks = loadNetworkConfig(env);
  const logger = createLogger(config.logLevel);
  const encryption = setupPayloadEncryption({
    temporalAddress: config.connection.address,
    allowUnencrypted: flags.allowUnencrypted || config.allowUnencrypted,
    env,
    warn: (m) => logger.warn(m),
  });
  Runtime.install({
    logger: temporalLoggerFor(logger.child({ component: 'temporal' })),
    ...(config.metricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: config.temporalMetricsAddress } } } }
      : {}),
  });
  const metrics = config.metricsAddress ? new SessionKeeperMetrics() : undefined;
  const connectionOptions = toConnectionOptions(config.connection);
  const connection = await NativeConnection.connect(connectionOptions);
  const clientConnection = await Connection.connect(connectionOptions);
  const client = new Client({
    connection: clientConnection,
    namespace: config.connection.namespace,
    ...(encryption.dataConverter ? { dataConverter: encryption.dataConverter } : {}),
  });
  const sessionWorker = await createSessionWorker({
    connection,
    namespace: config.connection.namespace,
    taskQueue: config.taskQueue,
    networks,
    client,
    dataConverter: encryption.dataConverter,
    maxConcurrentActivities: config.maxConcurrentActivities,
    maxConcurrentWorkflowTasks: config.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.maxCachedWorkflows,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    mintTimeoutMs: config.mintTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    rpcTimeoutMs: config.rpcTimeoutMs,
    shutdownGraceMs: config.shutdownGraceMs,
    ed25519: config.ed25519,
    nonce: { ...DEFAULT_NONCE_OPTIONS, maxAgeMs: config.nonceMaxAgeMs },
    logger,
    onMint: (outcome) => metrics?.recordMint(outcome),
  });
  let endpoint: OperatorEndpoint | undefined;
  let stopCollector: (() => void) | undefined;
  if (config.metricsAddress && metrics) {
    const [host, port] = splitHostPort(config.metricsAddress);
    endpoint = await startOperatorEndpoint({
      host,
      port,
      metrics,
      temporalMetricsUrl: `http://${config.temporalMetricsAddress}/metrics`,
      isReady: () => sessionWorker.worker.getState() === 'RUNNING',
    });
    stopCollector = startFleetCollector(
      client,
      (s) => metrics.recordFleet(s),
      config.fleetMetricsIntervalMs,
      (err) => logger.warn({ err: err.message }, 'could not read fleet state for metrics'),
    );
    logger.info({ url: `${endpoint.url}/metrics` }, 'operator endpoint listening');
  }
  let stopRequestedAt: number | undefined;
  const stop = (signal: string) => {
    stopRequestedAt = Date.now();
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'draining worker');
    sessionWorker.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  logger.info(
    {
      address: config.connection.address,
      namespace: config.connection.namespace,
      taskQueue: config.taskQueue,
      networks: Object.keys(networks.custom),
      encryption: encryption.summary,
    },
    'worker started',
  );
  try {
    await sessionWorker.run();
  } finally {
    stopCollector?.();
    await endpoint?.close();
    await clientConnection.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
    logger.info(
      stopRequestedAt !== undefined ? { stopMs: Date.now() - stopRequestedAt } : {},
      'worker stopped',
    );
    logger.flush();
  }
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i) || '0.0.0.0', Number(address.slice(i + 1))];
}
