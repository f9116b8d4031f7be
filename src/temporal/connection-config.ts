/**
 * How to reach Temporal, resolved as the Temporal CLI and SDKs resolve it, with Temporal's own
 * client configuration (`@temporalio/envconfig`): a profile from `temporal.toml`, then the
 * `TEMPORAL_*` variables, then flags (`--address`, `--namespace`, `--profile`, …). Shared by the
 * worker, the client library and the CLI.
 *
 * Precedence, per field: flags > environment > profile > defaults. The profile is `--profile`, else
 * `TEMPORAL_PROFILE`, else `default`; the file is `--config-file`, else `TEMPORAL_CONFIG_FILE`, else
 * envconfig's default location (`$XDG_CONFIG_HOME/temporalio/temporal.toml`, …). A missing file is
 * fine unless it or a profile was named explicitly.
 *
 * `resolveConnectionConfig` is pure (environment, flags, file text); `readConfigFile` and
 * `toConnectionOptions` do the I/O at the edges; `parseConnectionConfig` puts them together.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type ClientConfig,
  type ClientConfigProfile,
  type ClientConfigTLS,
  type ConfigDataSource,
  loadClientConfigFromToml,
  loadClientConfigProfile,
  toClientOptions,
} from '@temporalio/envconfig';
import { DEFAULT_TEMPORAL_ADDRESS } from '../codec/policy';

export { DEFAULT_TEMPORAL_ADDRESS };

export interface TemporalConnectionConfig {
  address: string;
  namespace: string;
  tls?: {
    clientCertPath?: string;
    clientKeyPath?: string;
    serverRootCaPath?: string;
    /** PEM given inline (a profile's `client_cert_data`, `TEMPORAL_TLS_CLIENT_CERT_DATA`). */
    clientCertData?: string;
    clientKeyData?: string;
    serverRootCaData?: string;
    serverName?: string;
  };
  apiKey?: string;
  /** gRPC metadata (a profile's `grpc_meta`, `TEMPORAL_GRPC_META_*`). */
  grpcMeta?: Record<string, string>;
  /** The profile used, when one came from a config file. */
  profile?: { name: string; file: string };
}

/** Overrides from command-line flags; unset fields fall back to the environment, then the profile. */
export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  apiKey?: string;
  /** `--profile`: the `temporal.toml` profile (else `TEMPORAL_PROFILE`, else `default`). */
  profile?: string;
  /** `--config-file`: the `temporal.toml` to read (else `TEMPORAL_CONFIG_FILE`, else the default path). */
  configFile?: string;
  /** Read no config file at all (e.g. the demo, which runs its own dev server). */
  disableConfigFile?: boolean;
}

export class ConnectionConfigError extends Error {
  override name = 'ConnectionConfigError';
}

/** The project's own names, kept working beside the names envconfig reads. */
export const TLS_ENV_ALIASES = {
  TEMPORAL_TLS_CERT: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  TEMPORAL_TLS_CA: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
} as const;

export function parseBoolean(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConnectionConfigError(`${name}=${value} is not a boolean; use true or false`);
}

/** A config file: where it is, how it was chosen, and its text (`undefined`: there is no such file). */
export interface ConfigFileContents {
  path: string;
  from: 'flag' | 'env' | 'default';
  text?: string;
}

/** envconfig's default location of `temporal.toml`, or undefined when the environment has no home. */
export function defaultConfigFilePath(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = os.platform(),
): string | undefined {
  let dir: string | undefined;
  if (platform === 'win32') dir = env.APPDATA || undefined;
  else if (platform === 'darwin')
    dir = env.HOME ? path.join(env.HOME, 'Library', 'Application Support') : undefined;
  else if (env.XDG_CONFIG_HOME) dir = path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined;
  else dir = env.HOME ? path.join(env.HOME, '.config') : undefined;
  return dir === undefined ? undefined : path.join(dir, 'temporalio', 'temporal.toml');
}

/** Which config file applies (no I/O). */
export function locateConfigFile(
  env: NodeJS.ProcessEnv,
  flags: ConnectionFlags = {},
): Omit<ConfigFileContents, 'text'> | undefined {
  if (flags.disableConfigFile) return undefined;
  if (flags.configFile !== undefined) return { path: flags.configFile, from: 'flag' };
  if (env.TEMPORAL_CONFIG_FILE) return { path: env.TEMPORAL_CONFIG_FILE, from: 'env' };
  const p = defaultConfigFilePath(env);
  return p === undefined ? undefined : { path: p, from: 'default' };
}

/** Reads the config file that applies; a file that is not there comes back without `text`. */
export function readConfigFile(
  env: NodeJS.ProcessEnv,
  flags: ConnectionFlags = {},
): ConfigFileContents | undefined {
  const location = locateConfigFile(env, flags);
  if (!location) return undefined;
  try {
    return { ...location, text: fs.readFileSync(location.path, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return location;
    throw new ConnectionConfigError(
      `cannot read Temporal config file ${location.path} (${fileSourceName(location.from)}): ${code ?? err}`,
    );
  }
}

function fileSourceName(from: ConfigFileContents['from']): string {
  return from === 'flag' ? '--config-file' : from === 'env' ? 'TEMPORAL_CONFIG_FILE' : 'default location';
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}

/** The environment as envconfig should see it: empty means unset, aliases mapped, booleans normalised. */
function envForEnvconfig(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('TEMPORAL_') && v) out[k] = v;
  for (const [alias, name] of Object.entries(TLS_ENV_ALIASES)) {
    const value = out[alias];
    if (value === undefined) continue;
    if (out[name] !== undefined && out[name] !== value) {
      throw new ConnectionConfigError(
        `${alias} and ${name} name different files (${value}, ${out[name]}); set only one of them`,
      );
    }
    out[name] = value;
  }
  const tls = parseBoolean(env.TEMPORAL_TLS, 'TEMPORAL_TLS');
  if (tls === undefined) delete out.TEMPORAL_TLS;
  else out.TEMPORAL_TLS = String(tls);
  return out;
}

/** The profile selected from the file, or `{}` when none applies; errors name the flag or variable. */
function profileFromFile(
  env: NodeJS.ProcessEnv,
  flags: ConnectionFlags,
  file: ConfigFileContents | undefined,
): { profile: ClientConfigProfile; name?: string } {
  const fromFlag = flags.profile !== undefined;
  const name = flags.profile ?? (env.TEMPORAL_PROFILE || undefined);
  const how = fromFlag ? '--profile' : 'TEMPORAL_PROFILE';
  if (flags.disableConfigFile) return { profile: {} };
  if (file && file.from !== 'default' && file.text === undefined) {
    throw new ConnectionConfigError(
      `Temporal config file ${file.path} (${fileSourceName(file.from)}) does not exist; fix the path, or create it with a [profile.${name ?? 'default'}] table`,
    );
  }
  if (!file || file.text === undefined) {
    if (name === undefined) return { profile: {} };
    const where = file
      ? `there is no config file at ${file.path}`
      : 'no config file location is known (HOME is not set)';
    throw new ConnectionConfigError(
      `Temporal profile "${name}" (${how}) was asked for but ${where}; create it with a [profile.${name}] table, or name the file with --config-file / TEMPORAL_CONFIG_FILE`,
    );
  }
  let config: ClientConfig;
  try {
    config = loadClientConfigFromToml(new TextEncoder().encode(file.text), { strict: false });
  } catch (err) {
    // A file without any [profile.*] table holds no profiles (envconfig trips over it).
    if (!(err instanceof TypeError)) {
      throw new ConnectionConfigError(`cannot load Temporal config file ${file.path}: ${firstLine(err)}`);
    }
    config = { profiles: {} };
  }
  const profile = config.profiles[name ?? 'default'];
  if (profile === undefined) {
    if (name === undefined) return { profile: {} };
    const names = Object.keys(config.profiles);
    throw new ConnectionConfigError(
      `Temporal profile "${name}" (${how}) is not in ${file.path} (${names.length ? `profiles there: ${names.join(', ')}` : 'it has no profiles'}); add a [profile.${name}] table or pick another profile`,
    );
  }
  return { profile, name: name ?? 'default' };
}

function dataSource(source: ConfigDataSource | undefined): { path?: string; data?: string } {
  if (!source) return {};
  if ('path' in source) return { path: source.path };
  return { data: typeof source.data === 'string' ? source.data : Buffer.from(source.data).toString('utf8') };
}

/**
 * The connection from flags, environment and the config file's text (pure). Every error names the
 * field, where it came from (flag, variable or profile field) and the fix.
 */
export function resolveConnectionConfig(
  env: NodeJS.ProcessEnv,
  flags: ConnectionFlags = {},
  file?: ConfigFileContents,
): TemporalConnectionConfig {
  const fromFile = profileFromFile(env, flags, file);
  const fileProfile = fromFile.profile;
  const profileField = (field: string) => `profile.${fromFile.name}.${field} in ${file?.path}`;
  let envProfile: ClientConfigProfile;
  try {
    envProfile = loadClientConfigProfile({ disableFile: true, overrideEnvVars: envForEnvconfig(env) });
  } catch (err) {
    if (err instanceof ConnectionConfigError) throw err;
    throw new ConnectionConfigError(`TEMPORAL_TLS_*: ${firstLine(err)}`);
  }

  const fileAddress = fileProfile.address === undefined ? undefined : String(fileProfile.address);
  const address = flags.address ?? envProfile.address ?? fileAddress ?? DEFAULT_TEMPORAL_ADDRESS;
  const addressFromFile =
    flags.address === undefined && envProfile.address === undefined && fileAddress !== undefined;
  if (!/^[^\s:/]+:\d{1,5}$/.test(address) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(address)) {
    const where = addressFromFile ? profileField('address') : '--address / TEMPORAL_ADDRESS';
    throw new ConnectionConfigError(
      `Temporal address "${address}" (${where}) must be host:port, e.g. localhost:7233`,
    );
  }
  const fileNamespace = fileProfile.namespace === undefined ? undefined : String(fileProfile.namespace);
  const namespace = flags.namespace ?? envProfile.namespace ?? fileNamespace ?? 'default';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(namespace)) {
    const namespaceFromFile =
      flags.namespace === undefined && envProfile.namespace === undefined && fileNamespace !== undefined;
    const where = namespaceFromFile ? profileField('namespace') : '--namespace / TEMPORAL_NAMESPACE';
    throw new ConnectionConfigError(`Temporal namespace "${namespace}" (${where}) is not valid`);
  }

  // TLS material, field by field: a flag, else the environment, else the profile.
  const fileTls: ClientConfigTLS = fileProfile.tls ?? {};
  const envTls: ClientConfigTLS = envProfile.tls ?? {};
  const material = (
    flag: string | undefined,
    field: 'clientCert' | 'clientKey' | 'serverCACert',
  ): { path?: string; data?: string; fromFile: boolean } => {
    if (flag !== undefined) return { path: flag, fromFile: false };
    if (envTls[field]) return { ...dataSource(envTls[field]), fromFile: false };
    return { ...dataSource(fileTls[field]), fromFile: fileTls[field] !== undefined };
  };
  const cert = material(flags.tlsCertPath, 'clientCert');
  const key = material(flags.tlsKeyPath, 'clientKey');
  const ca = material(flags.tlsCaPath, 'serverCACert');
  const hasCert = Boolean(cert.path || cert.data);
  if (hasCert !== Boolean(key.path || key.data)) {
    const inProfile =
      cert.fromFile || key.fromFile
        ? ` (profile.${fromFile.name}.tls in ${file?.path} sets only ${hasCert ? 'the certificate' : 'the key'}: add client_${hasCert ? 'key' : 'cert'}_path there)`
        : '';
    throw new ConnectionConfigError(
      `TLS client certificate and key go together: set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (or --tls-cert-path and --tls-key-path)${inProfile}`,
    );
  }
  const serverName = flags.tlsServerName ?? envTls.serverName ?? fileTls.serverName;
  const fileApiKey = fileProfile.apiKey === undefined ? undefined : String(fileProfile.apiKey);
  const apiKey = flags.apiKey ?? envProfile.apiKey ?? fileApiKey;
  // Explicit on/off: --tls, else TEMPORAL_TLS, else the profile's tls.disabled. A [tls] table in the
  // profile means TLS (as envconfig has it); so do an API key and any TLS material (as the CLI has it).
  const disabled = envTls.disabled ?? fileTls.disabled;
  const tls =
    flags.tls ??
    (disabled !== undefined ? !disabled : undefined) ??
    (fileProfile.tls !== undefined ||
      Boolean(cert.path || cert.data || ca.path || ca.data || serverName || apiKey));

  const config: TemporalConnectionConfig = { address, namespace };
  if (tls) {
    config.tls = {
      ...(cert.path ? { clientCertPath: cert.path } : {}),
      ...(cert.data ? { clientCertData: cert.data } : {}),
      ...(key.path ? { clientKeyPath: key.path } : {}),
      ...(key.data ? { clientKeyData: key.data } : {}),
      ...(ca.path ? { serverRootCaPath: ca.path } : {}),
      ...(ca.data ? { serverRootCaData: ca.data } : {}),
      ...(serverName ? { serverName } : {}),
    };
  }
  if (apiKey) config.apiKey = apiKey;
  const grpcMeta = { ...fileProfile.grpcMeta, ...envProfile.grpcMeta };
  if (Object.keys(grpcMeta).length) config.grpcMeta = grpcMeta;
  if (fromFile.name !== undefined && file) config.profile = { name: fromFile.name, file: file.path };
  return config;
}

/** The connection from flags, the environment and the config file the environment points at. */
export function parseConnectionConfig(
  env: NodeJS.ProcessEnv,
  flags: ConnectionFlags = {},
): TemporalConnectionConfig {
  return resolveConnectionConfig(env, flags, readConfigFile(env, flags));
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

function readPem(p: string | undefined, data: string | undefined, what: string): Buffer | undefined {
  if (data) return Buffer.from(data, 'utf8');
  if (!p) return undefined;
  try {
    return fs.readFileSync(p);
  } catch (err) {
    throw new ConnectionConfigError(
      `cannot read ${what} ${p}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
}

export function loadTlsFiles(config: TemporalConnectionConfig): TlsMaterial | undefined {
  if (!config.tls) return undefined;
  const t = config.tls;
  const crt = readPem(t.clientCertPath, t.clientCertData, 'TLS client certificate');
  const key = readPem(t.clientKeyPath, t.clientKeyData, 'TLS client key');
  const ca = readPem(t.serverRootCaPath, t.serverRootCaData, 'TLS CA certificate');
  return {
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(t.serverName ? { serverNameOverride: t.serverName } : {}),
  };
}

/** What `Connection.connect` / `NativeConnection.connect` take, via envconfig's conversion. */
export interface ConnectionOptionsFromConfig {
  address: string;
  tls: TlsMaterial | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/** Reads the TLS files (errors name the file) and converts the config to connection options. */
export function toConnectionOptions(config: TemporalConnectionConfig): ConnectionOptionsFromConfig {
  const tls = loadTlsFiles(config);
  const profile: ClientConfigProfile = {
    address: config.address,
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
    ...(config.grpcMeta ? { grpcMeta: config.grpcMeta } : {}),
    tls: tls
      ? {
          ...(tls.serverNameOverride ? { serverName: tls.serverNameOverride } : {}),
          ...(tls.clientCertPair
            ? { clientCert: { data: tls.clientCertPair.crt }, clientKey: { data: tls.clientCertPair.key } }
            : {}),
          ...(tls.serverRootCACertificate ? { serverCACert: { data: tls.serverRootCACertificate } } : {}),
        }
      : { disabled: true },
  };
  const { connectionOptions } = toClientOptions(profile);
  const converted = connectionOptions.tls;
  return {
    address: config.address,
    tls:
      typeof converted === 'object' && converted !== null ? (converted as TlsMaterial) : Boolean(converted),
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
    ...(connectionOptions.metadata ? { metadata: connectionOptions.metadata as Record<string, string> } : {}),
  };
}
