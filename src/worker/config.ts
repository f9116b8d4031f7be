/**
 * The worker's configuration, from the environment only (12-factor; the same variables in a shell,
 * a systemd unit, `docker-compose.yml` and Kubernetes). The connection may also come from a
 * `temporal.toml` profile (`TEMPORAL_PROFILE`, `TEMPORAL_CONFIG_FILE`; the variables win over it). Pure: every bad setting is reported at once,
 * each naming the variable and the fix. The list of variables is exported so the compose file can
 * be checked against it.
 */
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_RPC_TIMEOUT_MS } from '../lit/network-limits';
import { parseDuration } from '../shared/duration';
import { DEFAULT_TASK_QUEUE } from '../shared/names';
import {
  ConnectionConfigError,
  parseBoolean,
  parseConnectionConfig,
  type TemporalConnectionConfig,
} from '../temporal/connection-config';

export interface WorkerConfig {
  connection: TemporalConnectionConfig;
  taskQueue: string;
  maxConcurrentActivities: number;
  maxConcurrentWorkflowTasks: number;
  maxCachedWorkflows: number;
  handshakeTimeoutMs: number;
  mintTimeoutMs: number;
  /** Deadline of a whole connect to a Lit network (RPC reads and handshake). */
  connectTimeoutMs: number;
  /** Deadline of one JSON-RPC request to a custom network's chain. */
  rpcTimeoutMs: number;
  /** After SIGTERM, how long mints in flight may finish before they are cancelled. */
  shutdownGraceMs: number;
  nonceMaxAgeMs: number;
  /** Session-key Ed25519: `native` (node:crypto, after a self-check) or `sdk` (the SDK's pure JS). */
  ed25519: 'native' | 'sdk';
  /** `host:port` of the operator endpoint (`/metrics`, `/healthz`, `/readyz`), or undefined for none. */
  metricsAddress?: string;
  /** Loopback `host:port` where the Temporal runtime serves its metrics; appended to `/metrics`. */
  temporalMetricsAddress: string;
  /** How often fleet-wide gauges are read from Temporal visibility. */
  fleetMetricsIntervalMs: number;
  allowUnencrypted: boolean;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
}

/**
 * Every variable the worker reads (besides codec keys and networks, which their modules own, and
 * envconfig's `TEMPORAL_GRPC_META_*` prefix).
 */
export const WORKER_ENV_VARS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CERT',
  'TEMPORAL_TLS_KEY',
  'TEMPORAL_TLS_CA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_API_KEY',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
  'SESSION_KEEPER_TASK_QUEUE',
  'SESSION_KEEPER_MAX_CONCURRENT_ACTIVITIES',
  'SESSION_KEEPER_MAX_CONCURRENT_WORKFLOW_TASKS',
  'SESSION_KEEPER_MAX_CACHED_WORKFLOWS',
  'SESSION_KEEPER_HANDSHAKE_TIMEOUT',
  'SESSION_KEEPER_MINT_TIMEOUT',
  'SESSION_KEEPER_CONNECT_TIMEOUT',
  'SESSION_KEEPER_RPC_TIMEOUT',
  'SESSION_KEEPER_SHUTDOWN_GRACE',
  'SESSION_KEEPER_NONCE_MAX_AGE',
  'SESSION_KEEPER_ED25519',
  'SESSION_KEEPER_METRICS_ADDRESS',
  'SESSION_KEEPER_TEMPORAL_METRICS_ADDRESS',
  'SESSION_KEEPER_FLEET_METRICS_INTERVAL',
  'SESSION_KEEPER_ALLOW_UNENCRYPTED',
  'SESSION_KEEPER_LOG_LEVEL',
  'SESSION_KEEPER_CODEC_KEYS',
  'SESSION_KEEPER_CODEC_KEYS_FILE',
  'LIT_NETWORKS',
  'LIT_NETWORKS_FILE',
] as const;

/** Mints well under way finish within this after a stop is asked for; the rest are cancelled. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 20_000;

export class WorkerConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid worker configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'WorkerConfigError';
  }
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function parseWorkerConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${raw} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const duration = (name: string, fallback: number, minMs: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = parseDuration(raw);
    if (n === undefined || n < minMs) {
      problems.push(`${name}=${raw} must be a duration of at least ${minMs} ms, e.g. "5s" or "2m"`);
      return fallback;
    }
    return n;
  };
  const hostPort = (name: string): string | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    if (!/^[^\s:/]*:\d{1,5}$/.test(raw)) {
      problems.push(`${name}=${raw} must be host:port, e.g. 0.0.0.0:9464 (or :9464)`);
      return undefined;
    }
    return raw.startsWith(':') ? `0.0.0.0${raw}` : raw;
  };

  let connection: TemporalConnectionConfig = { address: 'localhost:7233', namespace: 'default' };
  try {
    connection = parseConnectionConfig(env);
  } catch (err) {
    if (err instanceof ConnectionConfigError) problems.push(err.message);
    else throw err;
  }
  const taskQueue = env.SESSION_KEEPER_TASK_QUEUE || DEFAULT_TASK_QUEUE;
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(taskQueue)) {
    problems.push(`SESSION_KEEPER_TASK_QUEUE=${taskQueue} is not a valid task queue name`);
  }
  let allowUnencrypted = false;
  try {
    allowUnencrypted =
      parseBoolean(env.SESSION_KEEPER_ALLOW_UNENCRYPTED, 'SESSION_KEEPER_ALLOW_UNENCRYPTED') ?? false;
  } catch (err) {
    problems.push((err as Error).message);
  }
  const logLevel = (env.SESSION_KEEPER_LOG_LEVEL || 'info') as WorkerConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`SESSION_KEEPER_LOG_LEVEL=${logLevel} must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const ed25519 = (env.SESSION_KEEPER_ED25519 || 'native') as WorkerConfig['ed25519'];
  if (ed25519 !== 'native' && ed25519 !== 'sdk') {
    problems.push(`SESSION_KEEPER_ED25519=${ed25519} must be "native" (default) or "sdk"`);
  }
  const config: WorkerConfig = {
    connection,
    taskQueue,
    maxConcurrentActivities: int('SESSION_KEEPER_MAX_CONCURRENT_ACTIVITIES', 50, 1, 10_000),
    maxConcurrentWorkflowTasks: int('SESSION_KEEPER_MAX_CONCURRENT_WORKFLOW_TASKS', 40, 2, 10_000),
    maxCachedWorkflows: int('SESSION_KEEPER_MAX_CACHED_WORKFLOWS', 2_000, 0, 1_000_000),
    handshakeTimeoutMs: duration('SESSION_KEEPER_HANDSHAKE_TIMEOUT', 5_000, 100),
    mintTimeoutMs: duration('SESSION_KEEPER_MINT_TIMEOUT', 30_000, 1_000),
    connectTimeoutMs: duration('SESSION_KEEPER_CONNECT_TIMEOUT', DEFAULT_CONNECT_TIMEOUT_MS, 1_000),
    rpcTimeoutMs: duration('SESSION_KEEPER_RPC_TIMEOUT', DEFAULT_RPC_TIMEOUT_MS, 100),
    // docker-compose.yml gives the worker 30 s (stop_grace_period) before SIGKILL: 20 s plus the
    // few seconds a stop takes after the grace time fit under that.
    shutdownGraceMs: duration('SESSION_KEEPER_SHUTDOWN_GRACE', DEFAULT_SHUTDOWN_GRACE_MS, 0),
    nonceMaxAgeMs: duration('SESSION_KEEPER_NONCE_MAX_AGE', 10 * 60_000, 1_000),
    ed25519,
    metricsAddress: hostPort('SESSION_KEEPER_METRICS_ADDRESS'),
    temporalMetricsAddress: hostPort('SESSION_KEEPER_TEMPORAL_METRICS_ADDRESS') ?? '127.0.0.1:9465',
    fleetMetricsIntervalMs: duration('SESSION_KEEPER_FLEET_METRICS_INTERVAL', 15_000, 1_000),
    allowUnencrypted,
    logLevel,
  };
  if (problems.length) throw new WorkerConfigError(problems);
  return config;
}
