/**
 * Runs the production worker entry (`session-keeper worker`, configured from the environment) as a
 * child process against a dev server and the devnet, starts agents, then scrapes `/metrics`,
 * `/readyz` and reads the worker's JSON logs.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ethers } from 'ethers';
import { createKeeperClient, type SessionKeeperClient } from '../../src/client';
import { type Devnet, startDevnet } from '../../src/devnet';
import { type DevServer, freePort, startDevServer } from '../../src/temporal/dev-server';

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'session-keeper.js');
const wallets = [ethers.Wallet.createRandom(), ethers.Wallet.createRandom()];
const codecKeys = `m1:${randomBytes(32).toString('base64')}`;

let server: DevServer;
let devnet: Devnet;
let worker: ChildProcess;
let keeper: SessionKeeperClient;
let metricsUrl: string;
let logs = '';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}: ${String(last)}\nworker logs:\n${logs.slice(-2000)}`);
}

function metric(text: string, name: string, labels: Record<string, string> = {}): number[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
}

before(async () => {
  server = await startDevServer();
  devnet = await startDevnet({ blockTimeMs: 1000 });
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}`;
  const networks = JSON.stringify({ networks: { devnet: devnet.networkConfig() } });
  worker = spawn(process.execPath, [CLI, 'worker'], {
    env: {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: server.address,
      LIT_NETWORKS: networks,
      SESSION_KEEPER_CODEC_KEYS: codecKeys,
      SESSION_KEEPER_METRICS_ADDRESS: `127.0.0.1:${port}`,
      SESSION_KEEPER_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
      SESSION_KEEPER_FLEET_METRICS_INTERVAL: '1s',
      METRICS_AGENT_0: wallets[0].privateKey,
      METRICS_AGENT_1: wallets[1].privateKey,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout?.on('data', (d) => {
    logs += d;
  });
  worker.stderr?.on('data', (d) => {
    logs += d;
  });
  keeper = await createKeeperClient({
    env: { SESSION_KEEPER_CODEC_KEYS: codecKeys, LIT_NETWORKS: networks },
    connection: { address: server.address },
  });
});

after(async () => {
  await keeper?.close().catch(() => undefined);
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
  }
  await server?.stop();
  await devnet?.close();
});

test('the worker reports readiness, refresh and expiry metrics, and logs without secrets', async () => {
  await until('readiness', async () =>
    (await fetch(`${metricsUrl}/readyz`)).status === 200 ? true : undefined,
  );
  for (const [i] of wallets.entries()) {
    await keeper.startAgent({
      agentId: `metrics-${i}`,
      network: 'devnet',
      mode: 'eoa',
      signer: `env:METRICS_AGENT_${i}`,
      sessionTtl: '10m',
    });
  }
  const text = await until('fleet gauges for both fresh agents', async () => {
    const body = await (await fetch(`${metricsUrl}/metrics`)).text();
    return metric(body, 'lit_session_agents', { state: 'fresh', network: 'devnet' })[0] === 2
      ? body
      : undefined;
  });
  const successes = metric(text, 'lit_session_refreshes_total', { result: 'success', network: 'devnet' });
  assert.equal(
    successes.reduce((a, b) => a + b, 0),
    2,
  );
  assert.ok(metric(text, 'lit_session_refresh_duration_seconds_count', { network: 'devnet' })[0] >= 2);
  for (const [i] of wallets.entries()) {
    const [left] = metric(text, 'lit_session_seconds_until_expiry', { agent_id: `metrics-${i}` });
    assert.ok(left > 500 && left <= 600, `metrics-${i} expires in ${left}s`);
  }
  const [minLeft] = metric(text, 'lit_session_min_seconds_until_expiry', { network: 'devnet' });
  assert.ok(minLeft > 500 && minLeft <= 600);
  assert.equal(
    metric(text, 'lit_session_agents_expiring_within_seconds', { network: 'devnet', le: '900' })[0],
    2,
  );
  assert.equal(
    metric(text, 'lit_session_agents_expiring_within_seconds', { network: 'devnet', le: '300' })[0],
    0,
  );
  assert.ok(/^temporal_/m.test(text), 'the Temporal runtime metrics are appended');

  const lines = logs
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const minted = lines.filter((l) => l.msg === 'minted session sigs');
  assert.deepEqual(minted.map((l) => l.agentId).sort(), ['metrics-0', 'metrics-1']);
  assert.ok(minted.every((l) => l.workflowId && l.attempt === 1 && l.generation === 1));
  const status = await keeper.getStatus('metrics-0');
  const sig = Object.values(status.sessionSigs!)[0];
  for (const secret of [sig.sig, wallets[0].privateKey.slice(2), wallets[1].privateKey.slice(2)]) {
    assert.ok(!logs.includes(secret), 'logs hold no sig or key');
  }
});
