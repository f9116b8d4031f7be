/**
 * Issue 17, item 4, as a user meets it: `npx session-keeper worker` (from the repository root,
 * configured from the environment like the README and the compose file) on a custom Lit network
 * whose RPC accepts connections and never answers (and whose block indexer would stream without
 * end), an agent started with `npx session-keeper agent start`, a mint stuck in the RPC, then
 * SIGTERM. The worker must be gone within its graceful-shutdown time plus a few seconds: before,
 * one took 5 min 41 s to stop and another was still alive 11 minutes later.
 *
 * The network's own deadlines are set far beyond the test (10 minutes) so that only the shutdown
 * can end the mint: the worker's stop must not depend on what the network does.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ethers } from 'ethers';
import { createKeeperClient, type SessionKeeperClient } from '../../src/client';
import { workflowIdFor } from '../../src/shared/names';
import { DEFAULT_SHUTDOWN_GRACE_MS } from '../../src/worker-config';
import {
  type HungServer,
  type StreamingServer,
  startHungServer,
  startStreamingServer,
} from '../activities/misbehaving-servers';
import { runCli } from '../client/harness';
import { until } from '../polling';
import { startLocalTemporal } from './harness';

const REPO = path.resolve(__dirname, '..', '..');
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
/** "Plus a few seconds": the activity's cancellation, the pool's disposal, closing connections. */
const AFTER_GRACE_MS = 8_000;

let env: TestWorkflowEnvironment;
let rpc: HungServer;
let indexer: StreamingServer;
let keeper: SessionKeeperClient;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hung-rpc-worker-'));
const children = new Set<ChildProcess>();

before(async () => {
  env = await startLocalTemporal();
  rpc = await startHungServer();
  indexer = await startStreamingServer();
});
after(async () => {
  for (const c of children) {
    try {
      process.kill(-(c.pid as number), 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  await keeper?.close().catch(() => undefined);
  await env?.teardown();
  await rpc?.close();
  await indexer?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Is any process of the group `pgid` (npx, its shell, the worker) still there? */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

test('SIGTERM during a mint stuck in an RPC that never answers: the worker exits within its grace time plus a few seconds', async () => {
  const networksFile = path.join(dir, 'networks.json');
  fs.writeFileSync(
    networksFile,
    JSON.stringify({
      networks: {
        'hung-rpc': {
          rpcUrl: rpc.url,
          stakingAddress: `0x${'11'.repeat(20)}`,
          blockIndexerUrl: indexer.url,
        },
      },
    }),
  );
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(base)) {
    if (/^(TEMPORAL_|LIT_NETWORKS|SESSION_KEEPER_)/.test(k)) delete base[k];
  }
  const clientEnv: NodeJS.ProcessEnv = {
    ...base,
    TEMPORAL_ADDRESS: env.address,
    LIT_NETWORKS_FILE: networksFile,
    SESSION_KEEPER_CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    AGENT_KEY: ethers.Wallet.createRandom().privateKey,
  };
  const workerEnv: NodeJS.ProcessEnv = {
    ...clientEnv,
    SESSION_KEEPER_LOG_LEVEL: 'info',
    // Far beyond this test: only the shutdown may end the stuck mint.
    SESSION_KEEPER_CONNECT_TIMEOUT: '10m',
    SESSION_KEEPER_RPC_TIMEOUT: '10m',
  };
  const graceMs = DEFAULT_SHUTDOWN_GRACE_MS;

  const worker = spawn('npx', ['--no-install', 'session-keeper', 'worker'], {
    cwd: REPO,
    env: workerEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(worker);
  const pgid = worker.pid as number;
  let log = '';
  worker.stdout?.on('data', (d) => {
    log += d;
  });
  worker.stderr?.on('data', (d) => {
    log += d;
  });
  const logged = (msg: string) =>
    log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .filter((r) => r.msg === msg);
  await until('the worker to start', () => (logged('worker started').length ? true : undefined), {
    timeoutMs: 120_000,
    intervalMs: 200,
  });

  const agentId = 'stuck-in-rpc';
  const start = await runCli(
    [
      'agent',
      'start',
      agentId,
      '--network',
      'hung-rpc',
      '--mode',
      'eoa',
      '--signer',
      'env:AGENT_KEY',
      '--address',
      env.address,
    ],
    clientEnv,
  );
  assert.equal(start.code, 0, start.stderr);

  // A mint is in flight: Temporal has the activity as started, and the RPC holds its request.
  keeper = await createKeeperClient({
    env: clientEnv,
    connection: { address: env.address },
    warn: () => undefined,
  });
  await until(
    'a mint activity started and waiting on the RPC',
    async () => {
      const d = await keeper.temporal.workflow.getHandle(workflowIdFor(agentId)).describe();
      const running = (d.raw.pendingActivities ?? []).some((p) => p.state === STARTED);
      return running && rpc.waiting() > 0 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );

  const signalledAt = performance.now();
  // As a terminal's Ctrl-C or `kill` of the session does: npx, its shell and the worker.
  process.kill(-pgid, 'SIGTERM');
  const boundMs = graceMs + AFTER_GRACE_MS;
  await until('every process of the worker to exit', () => (groupAlive(pgid) ? undefined : true), {
    timeoutMs: boundMs + 60_000,
    intervalMs: 50,
  });
  const stopMs = Math.round(performance.now() - signalledAt);
  children.delete(worker);
  const stopped = logged('worker stopped')[0];
  console.log(
    `worker gone ${stopMs} ms after SIGTERM (grace ${graceMs} ms; the worker logged 'worker stopped' ` +
      `${stopped?.stopMs} ms after the signal); RPC connections still open: ${rpc.open()}`,
  );
  assert.ok(stopped, `the worker logged its stop:\n${log}`);
  assert.ok(stopMs <= boundMs, `the worker took ${stopMs} ms to exit (bound ${boundMs} ms)`);
  // The mint gave up on its cancellation (not on the force-stop backstop).
  assert.ok(
    logged('mint failed').some((r) => r.agentId === agentId && r.errorType === 'Cancelled'),
    `the stuck mint was cancelled:\n${log}`,
  );
  assert.doesNotMatch(log, /Timed out while waiting for worker to shutdown gracefully/);
  await until('the RPC connections to close', () => (rpc.open() === 0 ? true : undefined), {
    timeoutMs: 5_000,
    intervalMs: 20,
  });
});
