/**
 * How to reach Temporal, named as the Temporal CLI names it (`TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_TLS*`, `TEMPORAL_API_KEY`; flags `--address`, `--namespace`, …),
 * shared by the worker, the client library and the CLI. Parsing is pure; `loadTlsFiles` reads files.
 */
import fs from 'node:fs';

export interface TemporalConnectionConfig {
  address: string;
  namespace: string;
  tls?: {
    clientCertPath?: string;
    clientKeyPath?: string;
    serverRootCaPath?: string;
    serverName?: string;
  };
  apiKey?: string;
}

/** Overrides from command-line flags; unset fields fall back to the environment. */
export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  apiKey?: string;
}

export class ConnectionConfigError extends Error {
  override name = 'ConnectionConfigError';
}

export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';

export function parseBoolean(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConnectionConfigError(`${name}=${value} is not a boolean; use true or false`);
}

export function parseConnectionConfig(
  env: NodeJS.ProcessEnv,
  flags: ConnectionFlags = {},
): TemporalConnectionConfig {
  const address = flags.address ?? env.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS;
  if (!/^[^\s:/]+:\d{1,5}$/.test(address) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(address)) {
    throw new ConnectionConfigError(
      `Temporal address "${address}" (--address / TEMPORAL_ADDRESS) must be host:port, e.g. localhost:7233`,
    );
  }
  const namespace = flags.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(namespace)) {
    throw new ConnectionConfigError(
      `Temporal namespace "${namespace}" (--namespace / TEMPORAL_NAMESPACE) is not valid`,
    );
  }
  const clientCertPath = flags.tlsCertPath ?? env.TEMPORAL_TLS_CERT ?? env.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const clientKeyPath = flags.tlsKeyPath ?? env.TEMPORAL_TLS_KEY ?? env.TEMPORAL_TLS_CLIENT_KEY_PATH;
  if (Boolean(clientCertPath) !== Boolean(clientKeyPath)) {
    throw new ConnectionConfigError(
      'TLS client certificate and key go together: set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (or --tls-cert-path and --tls-key-path)',
    );
  }
  const serverRootCaPath = flags.tlsCaPath ?? env.TEMPORAL_TLS_CA ?? env.TEMPORAL_TLS_SERVER_CA_CERT_PATH;
  const serverName = flags.tlsServerName ?? env.TEMPORAL_TLS_SERVER_NAME;
  const apiKey = flags.apiKey ?? env.TEMPORAL_API_KEY;
  const tlsFlag = flags.tls ?? parseBoolean(env.TEMPORAL_TLS, 'TEMPORAL_TLS');
  // An API key or any TLS material implies TLS, as the Temporal CLI does.
  const tls = tlsFlag ?? Boolean(clientCertPath || serverRootCaPath || serverName || apiKey);
  const config: TemporalConnectionConfig = { address, namespace };
  if (tls) {
    config.tls = {
      ...(clientCertPath ? { clientCertPath } : {}),
      ...(clientKeyPath ? { clientKeyPath } : {}),
      ...(serverRootCaPath ? { serverRootCaPath } : {}),
      ...(serverName ? { serverName } : {}),
    };
  }
  if (apiKey) config.apiKey = apiKey;
  return config;
}

/** True for loopback addresses: the only ones a worker may use without payload encryption. */
export function isLocalAddress(address: string): boolean {
  const host = address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export interface TlsMaterial {
  clientCertPair?: { crt: Buffer; key: Buffer };
  serverRootCACertificate?: Buffer;
  serverNameOverride?: string;
}

export function loadTlsFiles(config: TemporalConnectionConfig): TlsMaterial | undefined {
  if (!config.tls) return undefined;
  const read = (p: string, what: string) => {
    try {
      return fs.readFileSync(p);
    } catch (err) {
      throw new ConnectionConfigError(
        `cannot read ${what} ${p}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
  };
  const t = config.tls;
  return {
    ...(t.clientCertPath && t.clientKeyPath
      ? {
          clientCertPair: {
            crt: read(t.clientCertPath, 'TLS client certificate'),
            key: read(t.clientKeyPath, 'TLS client key'),
          },
        }
      : {}),
    ...(t.serverRootCaPath
      ? { serverRootCACertificate: read(t.serverRootCaPath, 'TLS CA certificate') }
      : {}),
    ...(t.serverName ? { serverNameOverride: t.serverName } : {}),
  };
}
