/**
 * `npx session-keeper worker` as a process: configuration from the environment, payload
 * encryption, the Temporal runtime's logger and metrics, the operator endpoint, and a bounded
 * graceful drain on SIGINT/SIGTERM.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { setupPayloadEncryption } from '../codec/data-converter';
import { DEFAULT_NONCE_OPTIONS } from '../lit/nonce-source';
import { startFleetCollector } from '../observability/fleet-collector';
import { type OperatorEndpoint, startOperatorEndpoint } from '../observability/http-endpoint';
import { createLogger, temporalLoggerFor } from '../observability/logger';
import { SessionKeeperMetrics } from '../observability/metrics';
import { loadNetworkConfig } from '../shared/network-config';
import { toConnectionOptions } from '../temporal/connection-config';
import { createSessionWorker } from './compose';
import { parseWorkerConfig } from './config';

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
