import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  ConnectionConfigError,
  type ConnectionFlags,
  defaultConfigFilePath,
  locateConfigFile,
  parseConnectionConfig,
  resolveConnectionConfig,
  type TemporalConnectionConfig,
  toConnectionOptions,
} from '../../src/temporal/connection-config';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'connection-config-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes a temporal.toml in a fresh directory and returns its path. */
function tomlFile(text: string): string {
  const d = fs.mkdtempSync(path.join(dir, 'cfg-'));
  const p = path.join(d, 'temporal.toml');
  fs.writeFileSync(p, text);
  return p;
}

const PROFILES = `
[profile.default]
address = "file-default:7233"
namespace = "from-file"

[profile.prod]
address = "prod.tmprl.cloud:7233"
namespace = "prod.acct"
api_key = "file-key"

[profile.mtls]
address = "mtls.example:7233"
[profile.mtls.tls]
client_cert_path = "/certs/client.pem"
client_key_path = "/certs/client.key"
server_ca_cert_path = "/certs/ca.pem"
server_name = "temporal.internal"

[profile.inline]
address = "inline.example:7233"
[profile.inline.tls]
client_cert_data = "CERT PEM"
client_key_data = "KEY PEM"

[profile.tlsoff]
address = "off.example:7233"
api_key = "k"
[profile.tlsoff.tls]
disabled = true

[profile.emptytls]
address = "e.example:7233"
[profile.emptytls.tls]

[profile.meta]
address = "m.example:7233"
[profile.meta.grpc_meta]
x_team = "keepers"

[profile.badaddr]
address = "http://nope"

[profile.badns]
namespace = "-bad"

[profile.halfcert.tls]
client_cert_path = "/only/cert.pem"
`;
const file = tomlFile(PROFILES);
const home = fs.mkdtempSync(path.join(dir, 'home-'));
fs.mkdirSync(path.join(home, '.config', 'temporalio'), { recursive: true });
fs.writeFileSync(path.join(home, '.config', 'temporalio', 'temporal.toml'), PROFILES);
const emptyHome = fs.mkdtempSync(path.join(dir, 'empty-home-'));

interface Case {
  name: string;
  env?: NodeJS.ProcessEnv;
  flags?: ConnectionFlags;
  want: Partial<TemporalConnectionConfig> | RegExp;
  /** When set, `tls` must equal this exactly (undefined: no TLS). */
  tls?: TemporalConnectionConfig['tls'] | null;
}

const cases: Case[] = [
  // defaults
  { name: 'defaults', env: {}, want: { address: 'localhost:7233', namespace: 'default' }, tls: null },
  {
    name: 'defaults when the default file location has no file',
    env: { HOME: emptyHome },
    want: { address: 'localhost:7233', namespace: 'default', profile: undefined },
    tls: null,
  },
  // env only
  {
    name: 'env only',
    env: { TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'agents', TEMPORAL_API_KEY: 'env-key' },
    want: { address: 'temporal:7233', namespace: 'agents', apiKey: 'env-key' },
    tls: {},
  },
  {
    name: 'empty variables count as unset',
    env: { TEMPORAL_API_KEY: '', TEMPORAL_TLS: '' },
    want: {},
    tls: null,
  },
  // profile file only
  {
    name: 'default profile from the default location',
    env: { HOME: home },
    want: {
      address: 'file-default:7233',
      namespace: 'from-file',
      profile: { name: 'default', file: path.join(home, '.config', 'temporalio', 'temporal.toml') },
    },
    tls: null,
  },
  {
    name: 'default profile from TEMPORAL_CONFIG_FILE',
    env: { TEMPORAL_CONFIG_FILE: file },
    want: { address: 'file-default:7233', namespace: 'from-file', profile: { name: 'default', file } },
  },
  {
    name: 'TEMPORAL_PROFILE selects a profile',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' },
    want: { address: 'prod.tmprl.cloud:7233', namespace: 'prod.acct', apiKey: 'file-key' },
    tls: {},
  },
  {
    name: '--profile and --config-file select a profile',
    env: {},
    flags: { configFile: file, profile: 'prod' },
    want: { address: 'prod.tmprl.cloud:7233', namespace: 'prod.acct', apiKey: 'file-key' },
  },
  {
    name: 'a file without the default profile is fine when no profile was named',
    env: { TEMPORAL_CONFIG_FILE: tomlFile('[profile.other]\naddress = "o:1"\n') },
    want: { address: 'localhost:7233', profile: undefined },
  },
  {
    name: 'a file without profiles is fine when no profile was named',
    env: { TEMPORAL_CONFIG_FILE: tomlFile('# nothing here\n') },
    want: { address: 'localhost:7233' },
  },
  // precedence: flag > env > profile > default
  {
    name: 'env overrides the profile',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_ADDRESS: 'env:7233' },
    want: { address: 'env:7233', namespace: 'prod.acct', apiKey: 'file-key' },
  },
  {
    name: 'flags override env, env overrides the profile, field by field',
    env: {
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_ADDRESS: 'env:7233',
      TEMPORAL_NAMESPACE: 'env-ns',
    },
    flags: { address: 'flag:7233' },
    want: { address: 'flag:7233', namespace: 'env-ns', apiKey: 'file-key' },
  },
  {
    name: '--profile overrides TEMPORAL_PROFILE, --config-file overrides TEMPORAL_CONFIG_FILE',
    env: { TEMPORAL_CONFIG_FILE: '/nowhere/temporal.toml', TEMPORAL_PROFILE: 'nope' },
    flags: { configFile: file, profile: 'mtls' },
    want: { address: 'mtls.example:7233' },
  },
  {
    name: 'a TLS flag overrides the profile file material',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'mtls', TEMPORAL_TLS_CA: '/env/ca.pem' },
    flags: { tlsCertPath: '/flag/c.pem', tlsKeyPath: '/flag/k.pem' },
    want: {},
    tls: {
      clientCertPath: '/flag/c.pem',
      clientKeyPath: '/flag/k.pem',
      serverRootCaPath: '/env/ca.pem',
      serverName: 'temporal.internal',
    },
  },
  {
    name: 'TEMPORAL_TLS=false turns off the TLS an API key implies',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_TLS: 'false' },
    want: { apiKey: 'file-key' },
    tls: null,
  },
  {
    name: '--tls overrides a profile that disables TLS',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'tlsoff' },
    flags: { tls: true },
    want: { apiKey: 'k' },
    tls: {},
  },
  {
    name: 'disableConfigFile ignores the file and the profile',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' },
    flags: { disableConfigFile: true },
    want: { address: 'localhost:7233', namespace: 'default', apiKey: undefined },
  },
  // old aliases
  {
    name: 'old aliases TEMPORAL_TLS_CERT / _KEY / _CA',
    env: { TEMPORAL_TLS_CERT: '/a/c.pem', TEMPORAL_TLS_KEY: '/a/k.pem', TEMPORAL_TLS_CA: '/a/ca.pem' },
    want: {},
    tls: { clientCertPath: '/a/c.pem', clientKeyPath: '/a/k.pem', serverRootCaPath: '/a/ca.pem' },
  },
  {
    name: "envconfig's names TEMPORAL_TLS_CLIENT_CERT_PATH / …",
    env: {
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/b/c.pem',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '/b/k.pem',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/b/ca.pem',
      TEMPORAL_TLS_SERVER_NAME: 'sn',
    },
    want: {},
    tls: {
      clientCertPath: '/b/c.pem',
      clientKeyPath: '/b/k.pem',
      serverRootCaPath: '/b/ca.pem',
      serverName: 'sn',
    },
  },
  {
    name: 'an alias beside the same standard value is fine',
    env: { TEMPORAL_TLS_CA: '/x/ca.pem', TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/x/ca.pem' },
    want: {},
    tls: { serverRootCaPath: '/x/ca.pem' },
  },
  {
    name: 'an alias and the standard name disagreeing is an error',
    env: { TEMPORAL_TLS_CA: '/x/ca.pem', TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/y/ca.pem' },
    want: /TEMPORAL_TLS_CA and TEMPORAL_TLS_SERVER_CA_CERT_PATH name different files .*set only one/,
  },
  {
    name: 'TEMPORAL_TLS accepts yes/no as before',
    env: { TEMPORAL_TLS: 'yes' },
    want: {},
    tls: {},
  },
  {
    name: 'TEMPORAL_TLS must be a boolean',
    env: { TEMPORAL_TLS: 'maybe' },
    want: /TEMPORAL_TLS=maybe is not a boolean/,
  },
  // TLS / API key from a profile
  {
    name: 'mTLS from a profile',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'mtls' },
    want: { address: 'mtls.example:7233' },
    tls: {
      clientCertPath: '/certs/client.pem',
      clientKeyPath: '/certs/client.key',
      serverRootCaPath: '/certs/ca.pem',
      serverName: 'temporal.internal',
    },
  },
  {
    name: 'inline PEM data from a profile',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'inline' },
    want: {},
    tls: { clientCertData: 'CERT PEM', clientKeyData: 'KEY PEM' },
  },
  {
    name: 'an env path overrides inline data of the profile',
    env: {
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'inline',
      TEMPORAL_TLS_CERT: '/e/c.pem',
      TEMPORAL_TLS_KEY: '/e/k.pem',
    },
    want: {},
    tls: { clientCertPath: '/e/c.pem', clientKeyPath: '/e/k.pem' },
  },
  {
    name: 'API key from a profile implies TLS',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' },
    want: { apiKey: 'file-key' },
    tls: {},
  },
  {
    name: 'tls.disabled in a profile wins over its API key',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'tlsoff' },
    want: { apiKey: 'k' },
    tls: null,
  },
  {
    name: 'an empty [tls] table in a profile means TLS',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'emptytls' },
    want: {},
    tls: {},
  },
  {
    name: 'grpc_meta from a profile and TEMPORAL_GRPC_META_*',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'meta', TEMPORAL_GRPC_META_X_ENV: 'e' },
    want: { grpcMeta: { 'x-team': 'keepers', 'x-env': 'e' } },
  },
  // errors
  {
    name: 'named profile missing (--profile)',
    env: { TEMPORAL_CONFIG_FILE: file },
    flags: { profile: 'staging' },
    want: /^Temporal profile "staging" \(--profile\) is not in .*temporal\.toml \(profiles there: default, prod, .*\); add a \[profile\.staging\] table/,
  },
  {
    name: 'named profile missing (TEMPORAL_PROFILE)',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' },
    want: /^Temporal profile "staging" \(TEMPORAL_PROFILE\) is not in /,
  },
  {
    name: 'named profile with no file at the default location',
    env: { HOME: emptyHome, TEMPORAL_PROFILE: 'prod' },
    want: /^Temporal profile "prod" \(TEMPORAL_PROFILE\) was asked for but there is no config file at .*temporalio\/temporal\.toml; create it with a \[profile\.prod\] table, or name the file with --config-file \/ TEMPORAL_CONFIG_FILE/,
  },
  {
    name: 'named profile with no home at all',
    env: {},
    flags: { profile: 'prod' },
    want: /^Temporal profile "prod" \(--profile\) was asked for but no config file location is known/,
  },
  {
    name: 'explicit --config-file missing',
    env: {},
    flags: { configFile: '/nowhere/temporal.toml' },
    want: /^Temporal config file \/nowhere\/temporal\.toml \(--config-file\) does not exist; fix the path, or create it/,
  },
  {
    name: 'explicit TEMPORAL_CONFIG_FILE missing',
    env: { TEMPORAL_CONFIG_FILE: '/nowhere/temporal.toml' },
    want: /^Temporal config file \/nowhere\/temporal\.toml \(TEMPORAL_CONFIG_FILE\) does not exist/,
  },
  {
    name: 'a config file that is not TOML',
    env: { TEMPORAL_CONFIG_FILE: tomlFile('[profile.default\naddress = ') },
    want: /^cannot load Temporal config file .*temporal\.toml: /,
  },
  {
    name: 'bad address in the profile names the profile field',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'badaddr' },
    want: /^Temporal address "http:\/\/nope" \(profile\.badaddr\.address in .*temporal\.toml\) must be host:port, e\.g\. localhost:7233$/,
  },
  {
    name: 'a good address from env hides the bad one in the profile',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'badaddr', TEMPORAL_ADDRESS: 'ok:1' },
    want: { address: 'ok:1' },
  },
  {
    name: 'bad namespace in the profile names the profile field',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'badns' },
    want: /^Temporal namespace "-bad" \(profile\.badns\.namespace in .*\) is not valid$/,
  },
  {
    name: 'bad address from env keeps the message it had',
    env: { TEMPORAL_ADDRESS: 'http://x' },
    want: /^Temporal address "http:\/\/x" \(--address \/ TEMPORAL_ADDRESS\) must be host:port, e\.g\. localhost:7233$/,
  },
  {
    name: 'bad namespace from a flag keeps the message it had',
    env: {},
    flags: { namespace: 'a b' },
    want: /^Temporal namespace "a b" \(--namespace \/ TEMPORAL_NAMESPACE\) is not valid$/,
  },
  {
    name: 'cert without key (env) keeps the message it had',
    env: { TEMPORAL_TLS_CERT: '/c.pem' },
    want: /^TLS client certificate and key go together: set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY \(or --tls-cert-path and --tls-key-path\)$/,
  },
  {
    name: 'cert without key in a profile names the profile',
    env: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'halfcert' },
    want: /TLS client certificate and key go together: .*\(profile\.halfcert\.tls in .*temporal\.toml sets only the certificate: add client_key_path there\)/,
  },
];

describe('parseConnectionConfig: flags > env > profile > defaults', () => {
  for (const c of cases) {
    test(c.name, () => {
      const run = () => parseConnectionConfig(c.env ?? {}, c.flags ?? {});
      if (c.want instanceof RegExp) {
        const want = c.want;
        assert.throws(run, (err: unknown) => {
          assert.ok(err instanceof ConnectionConfigError, `ConnectionConfigError, got ${err}`);
          assert.match(err.message, want);
          assert.ok(!err.message.includes('\n'), 'one line');
          return true;
        });
        return;
      }
      const got = run();
      for (const [k, v] of Object.entries(c.want)) {
        assert.deepEqual(got[k as keyof TemporalConnectionConfig], v, k);
      }
      if (c.tls !== undefined) assert.deepEqual(got.tls, c.tls ?? undefined, 'tls');
    });
  }
});

describe('resolveConnectionConfig is pure: file text in, config out', () => {
  test('the text given is used, not the disk', () => {
    const got = resolveConnectionConfig(
      { TEMPORAL_PROFILE: 'x' },
      {},
      { path: '/not/read/temporal.toml', from: 'default', text: '[profile.x]\naddress = "x:1"\n' },
    );
    assert.equal(got.address, 'x:1');
    assert.deepEqual(got.profile, { name: 'x', file: '/not/read/temporal.toml' });
  });

  test('a default-location file that is absent means no profile', () => {
    const got = resolveConnectionConfig({}, {}, { path: '/p/temporal.toml', from: 'default' });
    assert.equal(got.address, 'localhost:7233');
  });
});

describe('config file location', () => {
  test('--config-file, else TEMPORAL_CONFIG_FILE, else the default path', () => {
    assert.deepEqual(locateConfigFile({ TEMPORAL_CONFIG_FILE: '/e.toml' }, { configFile: '/f.toml' }), {
      path: '/f.toml',
      from: 'flag',
    });
    assert.deepEqual(locateConfigFile({ TEMPORAL_CONFIG_FILE: '/e.toml', HOME: '/h' }), {
      path: '/e.toml',
      from: 'env',
    });
    assert.equal(locateConfigFile({ HOME: '/h' }, { disableConfigFile: true }), undefined);
  });

  test("envconfig's default locations", () => {
    assert.equal(defaultConfigFilePath({ HOME: '/h' }, 'linux'), '/h/.config/temporalio/temporal.toml');
    assert.equal(
      defaultConfigFilePath({ HOME: '/h', XDG_CONFIG_HOME: '/x' }, 'linux'),
      '/x/temporalio/temporal.toml',
    );
    assert.equal(defaultConfigFilePath({ XDG_CONFIG_HOME: 'relative' }, 'linux'), undefined);
    assert.equal(
      defaultConfigFilePath({ HOME: '/Users/u' }, 'darwin'),
      '/Users/u/Library/Application Support/temporalio/temporal.toml',
    );
    assert.equal(defaultConfigFilePath({}, 'linux'), undefined);
  });
});

describe('toConnectionOptions', () => {
  test('plaintext stays plaintext even with an API key', () => {
    const o = toConnectionOptions({ address: 'h:1', namespace: 'n', apiKey: 'k' });
    assert.equal(o.tls, false);
    assert.equal(o.apiKey, 'k');
  });

  test('inline PEM and gRPC metadata reach the connection options', () => {
    const o = toConnectionOptions({
      address: 'h:1',
      namespace: 'n',
      tls: { clientCertData: 'C', clientKeyData: 'K', serverName: 's' },
      grpcMeta: { 'x-team': 'keepers' },
    });
    assert.ok(typeof o.tls === 'object');
    assert.equal(o.tls.clientCertPair?.crt.toString(), 'C');
    assert.equal(o.tls.clientCertPair?.key.toString(), 'K');
    assert.equal(o.tls.serverNameOverride, 's');
    assert.deepEqual(o.metadata, { 'x-team': 'keepers' });
  });

  test('TLS files are read; a missing one is named', () => {
    const ca = path.join(dir, 'ca.pem');
    fs.writeFileSync(ca, 'CA');
    const o = toConnectionOptions({ address: 'h:1', namespace: 'n', tls: { serverRootCaPath: ca } });
    assert.ok(typeof o.tls === 'object');
    assert.equal(o.tls.serverRootCACertificate?.toString(), 'CA');
    assert.throws(
      () => toConnectionOptions({ address: 'h:1', namespace: 'n', tls: { serverRootCaPath: '/no/ca.pem' } }),
      /cannot read TLS CA certificate \/no\/ca\.pem: ENOENT/,
    );
  });
});
