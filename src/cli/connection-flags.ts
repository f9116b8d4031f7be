/**
 * Connection flags of the operator commands, named as the Temporal CLI names them; each falls
 * back to the environment variable the Temporal CLI reads, then to the `temporal.toml` profile
 * (`--profile`, `--config-file`; resolved with `@temporalio/envconfig` by `parseConnectionConfig`).
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { SessionKeeperClient } from '../client';
import { parseDuration } from '../shared/duration';
import type { ConnectionFlags } from '../temporal/connection-config';

export interface ConnectionOptionValues {
  address?: string;
  namespace?: string;
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  apiKey?: string;
  profile?: string;
  configFile?: string;
  allowUnencrypted?: boolean;
  connectTimeout?: number;
}

/** commander argument parser for durations ("30s", "5m", "2h" or milliseconds). */
export function durationArg(value: string): number {
  const n = parseDuration(value);
  if (n === undefined || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError('must be a duration such as 30s, 5m, 2h (or milliseconds)');
  }
  return n;
}

export function positiveNumberArg(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0))
    throw new InvalidArgumentError('must be a positive number');
  return n;
}

export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option(
      '--address <host:port>',
      'Temporal frontend address (env TEMPORAL_ADDRESS; default localhost:7233)',
    )
    .option(
      '--profile <name>',
      'temporal.toml profile to connect with (env TEMPORAL_PROFILE; default "default")',
    )
    .option(
      '--config-file <path>',
      'temporal.toml to read profiles from (env TEMPORAL_CONFIG_FILE; default ~/.config/temporalio/temporal.toml)',
    )
    .option('-n, --namespace <namespace>', 'Temporal namespace (env TEMPORAL_NAMESPACE; default "default")')
    .option('--tls', 'connect with TLS (env TEMPORAL_TLS; implied by the other TLS flags and --api-key)')
    .option('--tls-cert-path <path>', 'TLS client certificate (env TEMPORAL_TLS_CLIENT_CERT_PATH)')
    .option('--tls-key-path <path>', 'TLS client private key (env TEMPORAL_TLS_CLIENT_KEY_PATH)')
    .option('--tls-ca-path <path>', 'CA certificate of the server (env TEMPORAL_TLS_SERVER_CA_CERT_PATH)')
    .option('--tls-server-name <name>', 'override the TLS server name (env TEMPORAL_TLS_SERVER_NAME)')
    .option('--api-key <key>', 'API key, e.g. for Temporal Cloud (env TEMPORAL_API_KEY; prefer the env var)')
    .option('--allow-unencrypted', 'allow plaintext payloads to a non-local Temporal (not recommended)')
    .option('--connect-timeout <duration>', 'give up reaching Temporal after this long', durationArg, 5_000);
}

export function connectionFlags(o: ConnectionOptionValues): ConnectionFlags {
  return {
    ...(o.address !== undefined ? { address: o.address } : {}),
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    ...(o.tls !== undefined ? { tls: o.tls } : {}),
    ...(o.tlsCertPath !== undefined ? { tlsCertPath: o.tlsCertPath } : {}),
    ...(o.tlsKeyPath !== undefined ? { tlsKeyPath: o.tlsKeyPath } : {}),
    ...(o.tlsCaPath !== undefined ? { tlsCaPath: o.tlsCaPath } : {}),
    ...(o.tlsServerName !== undefined ? { tlsServerName: o.tlsServerName } : {}),
    ...(o.apiKey !== undefined ? { apiKey: o.apiKey } : {}),
    ...(o.profile !== undefined ? { profile: o.profile } : {}),
    ...(o.configFile !== undefined ? { configFile: o.configFile } : {}),
  };
}

/**
 * Connects (failing fast with a one-line cause), runs `fn`, always closes the connection.
 * `sendsPayloads: false` for commands that send none (setup): no codec keys needed.
 */
export async function withKeeperClient<T>(
  o: ConnectionOptionValues,
  fn: (keeper: SessionKeeperClient) => Promise<T>,
  opts: { sendsPayloads?: boolean } = {},
): Promise<T> {
  // Loaded lazily: `--help` and flag errors should not pay for the Temporal client. `require`, not
  // `import()`: under tsx's CommonJS hook a dynamic import goes to Node's ESM loader, which does
  // not resolve extensionless .ts paths.
  const { createKeeperClient } = require('../client') as typeof import('../client');
  const keeper = await createKeeperClient({
    connection: connectionFlags(o),
    connectTimeoutMs: o.connectTimeout,
    allowUnencrypted: o.allowUnencrypted,
    sendsPayloads: opts.sendsPayloads ?? true,
    identity: `session-keeper-cli@${process.pid}`,
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
  });
  try {
    return await fn(keeper);
  } finally {
    await keeper.close().catch(() => undefined);
  }
}
