/**
 * Issue 17, items 4 and 5, as a user meets them: `npx session-keeper worker` (from the repository
 * root, configured from the environment like the README and the compose file) with two custom Lit
 * networks, one whose RPC accepts connections and never answers, one (the local devnet) whose block
 * indexer streams a body without end; an agent on each started with `npx session-keeper agent
 * start`; then, with a mint stuck in the RPC, SIGTERM. The indexer's agent must fail its mints at
 * the size cap with the worker's memory flat (one worker once reached 2.4 GB in 5 s), and the
 * worker must be gone within its graceful-shutdown time plus a few seconds (before, one took
 * 5 min 41 s to stop and another was still alive 11 minutes later).
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
import { type Devnet, startDevnet } from '../../src/devnet';
import { workflowIdFor } from '../../src/shared/names';
import { DEFAULT_SHUTDOWN_GRACE_MS } from '../../src/worker/config';
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
/** The worker's resident memory must stay under this while its mints meet an endless indexer. */
const MAX_WORKER_RSS_BYTES = 1024 * 1024 * 1024;

let env: TestWorkflowEnvironment;
let rpc: HungServer;
let indexer: StreamingServer;
let keeper: SessionKeeperClient;
let devnet: Devnet;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hung-rpc-worker-'));
const children = new Set<ChildProcess>();

before(async () => {
  env = await startLocalTemporal();
  rpc = await startHungServer();
  indexer = await startStreamingServer();
  devnet = await startDevnet({ blockTimeMs: 500 });
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
  await devnet?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The resident memory of the largest process of the group `pgid` (the worker), from /proc. */
function largestRssInGroup(pgid: number): number {
  let largest = 0;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // After "pid (comm) ": state, ppid, pgrp, ...
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp !== pgid) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (rss) largest = Math.max(largest, Number(rss[1]) * 1024);
    } catch {
      // The process ended meanwhile.
    }
  }
  return largest;
}

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

test('an endless indexer fails mints at the size cap with memory flat; SIGTERM during a mint stuck in a silent RPC: the worker exits within its grace time plus a few seconds', async () => {
  const networksFile = path.join(dir, 'networks.json');
  fs.writeFileSync(
    networksFile,
    JSON.stringify({
      networks: {
        'hung-rpc': {
          rpcUrl: rpc.url,
          stakingAddress: `0x${'11'.repeat(20)}`,
          blockIndexerUrl: `${rpc.url}/get_most_recent_valid_block`,
        },
        'endless-indexer': { ...devnet.networkConfig(), blockIndexerUrl: indexer.url },
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
  const flooded = 'endless-indexer';
  for (const [id, network] of [
    [flooded, 'endless-indexer'],
    [agentId, 'hung-rpc'],
  ]) {
    const start = await runCli(
      [
        'agent',
        'start',
        id,
        '--network',
        network,
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
  }

  keeper = await createKeeperClient({
    env: clientEnv,
    connection: { address: env.address },
    warn: () => undefined,
  });
  // The endless indexer: each mint stops reading at the size cap; the worker's memory stays flat.
  let maxRss = largestRssInGroup(pgid);
  const failing = await until(
    `three mints of ${flooded} failed at the indexer's size cap`,
    async () => {
      maxRss = Math.max(maxRss, largestRssInGroup(pgid));
      const s = await keeper.getStatus(flooded);
      return (s.lastError?.attempts ?? 0) >= 3 ? s.lastError : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 100 },
  );
  maxRss = Math.max(maxRss, largestRssInGroup(pgid));
  console.log(
    `${failing?.attempts} mints against the endless indexer failed (${failing?.type}: ${failing?.message}); ` +
      `worker RSS at most ${(maxRss / 1024 / 1024).toFixed(0)} MiB; the indexer sent ${(indexer.sent() / 1024 / 1024).toFixed(1)} MiB`,
  );
  assert.equal(failing?.type, 'NetworkError');
  assert.equal(
    failing?.message,
    `block indexer ${indexer.url} sent more than 65536 bytes; stopped reading (limit 65536 bytes)`,
  );
  assert.ok(maxRss > 0 && maxRss < MAX_WORKER_RSS_BYTES, `worker RSS reached ${maxRss} bytes`);

  // A mint of the other agent is in flight: Temporal has the activity as started, and the RPC
  // holds its request.
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
