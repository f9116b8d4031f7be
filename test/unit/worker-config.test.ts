import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLocalAddress, parseConnectionConfig } from '../../src/temporal/connection-config';
import { parseWorkerConfig, WorkerConfigError } from '../../src/worker/config';

test('defaults: local Temporal, default namespace, the public task queue', () => {
  const c = parseWorkerConfig({});
  assert.equal(c.connection.address, 'localhost:7233');
  assert.equal(c.connection.namespace, 'default');
  assert.equal(c.taskQueue, 'lit-session-refresh');
  assert.equal(c.handshakeTimeoutMs, 5_000);
  assert.equal(c.metricsAddress, undefined);
  assert.equal(c.ed25519, 'native');
});

test('reads every setting', () => {
  const c = parseWorkerConfig({
    TEMPORAL_ADDRESS: 'temporal:7233',
    TEMPORAL_NAMESPACE: 'agents',
    SESSION_KEEPER_TASK_QUEUE: 'q1',
    SESSION_KEEPER_MAX_CONCURRENT_ACTIVITIES: '10',
    SESSION_KEEPER_MAX_CACHED_WORKFLOWS: '5000',
    SESSION_KEEPER_HANDSHAKE_TIMEOUT: '2s',
    SESSION_KEEPER_MINT_TIMEOUT: '1m',
    SESSION_KEEPER_METRICS_ADDRESS: ':9464',
    SESSION_KEEPER_FLEET_METRICS_INTERVAL: '30s',
    SESSION_KEEPER_LOG_LEVEL: 'debug',
    SESSION_KEEPER_ED25519: 'sdk',
  });
  assert.equal(c.connection.address, 'temporal:7233');
  assert.equal(c.maxConcurrentActivities, 10);
  assert.equal(c.handshakeTimeoutMs, 2_000);
  assert.equal(c.mintTimeoutMs, 60_000);
  assert.equal(c.metricsAddress, '0.0.0.0:9464');
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.fleetMetricsIntervalMs, 30_000);
  assert.equal(c.ed25519, 'sdk');
});

const bad: [Record<string, string>, RegExp][] = [
  [{ TEMPORAL_ADDRESS: 'http://x' }, /TEMPORAL_ADDRESS\) must be host:port/],
  [
    { SESSION_KEEPER_MAX_CONCURRENT_ACTIVITIES: 'many' },
    /SESSION_KEEPER_MAX_CONCURRENT_ACTIVITIES=many must be a whole number/,
  ],
  [{ SESSION_KEEPER_HANDSHAKE_TIMEOUT: 'fast' }, /SESSION_KEEPER_HANDSHAKE_TIMEOUT=fast must be a duration/],
  [{ SESSION_KEEPER_METRICS_ADDRESS: 'nine' }, /SESSION_KEEPER_METRICS_ADDRESS=nine must be host:port/],
  [{ SESSION_KEEPER_LOG_LEVEL: 'loud' }, /SESSION_KEEPER_LOG_LEVEL=loud must be one of/],
  [{ SESSION_KEEPER_ALLOW_UNENCRYPTED: 'maybe' }, /not a boolean/],
  [{ SESSION_KEEPER_ED25519: 'fast' }, /SESSION_KEEPER_ED25519=fast must be "native" \(default\) or "sdk"/],
  [{ TEMPORAL_TLS_CERT: '/c.pem' }, /set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/],
];
for (const [env, message] of bad) {
  test(`one clear error for ${Object.keys(env)[0]}`, () => {
    assert.throws(
      () => parseWorkerConfig(env),
      (err: unknown) => err instanceof WorkerConfigError && message.test(err.message),
    );
  });
}

test('all problems are reported together', () => {
  assert.throws(
    () => parseWorkerConfig({ SESSION_KEEPER_LOG_LEVEL: 'loud', SESSION_KEEPER_MINT_TIMEOUT: 'x' }),
    (err: WorkerConfigError) => err.problems.length === 2,
  );
});

test('TLS is implied by an API key or TLS material, as the Temporal CLI does', () => {
  assert.equal(parseConnectionConfig({}).tls, undefined);
  assert.deepEqual(parseConnectionConfig({ TEMPORAL_API_KEY: 'k' }).tls, {});
  assert.deepEqual(parseConnectionConfig({ TEMPORAL_TLS: 'true' }).tls, {});
  assert.equal(parseConnectionConfig({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }).tls, undefined);
  assert.equal(parseConnectionConfig({}, { address: 'h:1' }).address, 'h:1');
});

test('isLocalAddress', () => {
  for (const a of ['localhost:7233', '127.0.0.1:7233', '127.1.2.3:1', '[::1]:7233'])
    assert.ok(isLocalAddress(a), a);
  for (const a of ['temporal:7233', '10.0.0.1:7233', 'x.tmprl.cloud:7233']) assert.ok(!isLocalAddress(a), a);
});

test('network bounds and the shutdown grace: defaults, settings, bad values', () => {
  const d = parseWorkerConfig({});
  assert.equal(d.connectTimeoutMs, 30_000);
  assert.equal(d.rpcTimeoutMs, 10_000);
  assert.equal(d.shutdownGraceMs, 20_000);
  const c = parseWorkerConfig({
    SESSION_KEEPER_CONNECT_TIMEOUT: '45s',
    SESSION_KEEPER_RPC_TIMEOUT: '2s',
    SESSION_KEEPER_SHUTDOWN_GRACE: '5s',
  });
  assert.equal(c.connectTimeoutMs, 45_000);
  assert.equal(c.rpcTimeoutMs, 2_000);
  assert.equal(c.shutdownGraceMs, 5_000);
  assert.equal(parseWorkerConfig({ SESSION_KEEPER_SHUTDOWN_GRACE: '0' }).shutdownGraceMs, 0);
  assert.throws(
    () => parseWorkerConfig({ SESSION_KEEPER_CONNECT_TIMEOUT: '10', SESSION_KEEPER_RPC_TIMEOUT: 'never' }),
    (err: WorkerConfigError) =>
      err.problems.length === 2 &&
      /SESSION_KEEPER_CONNECT_TIMEOUT=10 must be a duration of at least 1000 ms/.test(err.message) &&
      /SESSION_KEEPER_RPC_TIMEOUT=never must be a duration/.test(err.message),
  );
});
