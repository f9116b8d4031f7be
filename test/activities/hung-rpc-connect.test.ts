/**
 * The Lit client pool against a custom network whose RPC accepts connections and never answers
 * (issue 17, item 4: mints waited 480 s in `connect()`, and a stopped worker stayed alive holding
 * sockets). Connecting must fail at its deadline with a transient error naming the network's RPC
 * and the bound, and leave nothing behind: the pool runs in its own process (hung-rpc-child.ts),
 * which must exit by itself once its connects have failed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { until } from '../polling';
import { type HungServer, startHungServer } from './misbehaving-servers';

const REPO = path.resolve(__dirname, '..', '..');
const CHILD = path.join(__dirname, 'hung-rpc-child.ts');
/** A loaded 2-core machine: how late a deadline may trip. */
/** Hang detectors, not timing targets: the messages say which bound fired. */
const SLACK_MS = 10_000;
/** How long the process may take to exit once its work is done (nothing may hold it open). */
const EXIT_BOUND_MS = 30_000;

let rpc: HungServer;
before(async () => {
  rpc = await startHungServer();
});
after(async () => {
  await rpc.close();
});

interface Attempt {
  name: string;
  ms: number;
  type: string;
  retryable: boolean;
  message: string;
}

test('an RPC that never answers: connect fails at its deadline, and the process can exit', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, rpc.url], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  let exitedAt: number | undefined;
  let exitCode: number | null = null;
  child.once('exit', (code) => {
    exitedAt = performance.now();
    exitCode = code;
  });
  try {
    const lines = () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
    const done = await until(
      'the child to report both connect attempts',
      () => (lines().some((l) => l.done) ? performance.now() : undefined),
      { timeoutMs: 3_000 + 2 * 1_000 + 3 * SLACK_MS + 30_000, intervalMs: 50 },
    );
    const attempts = new Map<string, Attempt>(lines().map((l) => [l.name, l]));
    console.log(out.trim());

    const byConnect = attempts.get('connect deadline');
    assert.ok(byConnect, out);
    assert.equal(byConnect.type, 'NodeTimeout');
    assert.equal(byConnect.retryable, true);
    assert.equal(
      byConnect.message,
      `connecting to Lit network "hung" (RPC ${rpc.url}) did not finish within 3000 ms`,
    );
    assert.ok(byConnect.ms >= 2_950 && byConnect.ms < 3_000 + SLACK_MS, `${byConnect.ms} ms`);

    // Each RPC request has its own deadline, shorter than a connect's: the error names the RPC.
    const byRpc = attempts.get('rpc deadline');
    assert.ok(byRpc, out);
    assert.equal(byRpc.type, 'NodeTimeout');
    assert.equal(byRpc.retryable, true);
    assert.equal(byRpc.message, `RPC ${rpc.url} did not answer within 1000 ms`);
    assert.ok(byRpc.ms < 2 * 1_000 + SLACK_MS, `${byRpc.ms} ms`);
    assert.ok(rpc.accepted() >= 2, 'the RPC was really asked');

    // Nothing the failed connects started may keep the process alive.
    await until('the child to exit by itself', () => (exitedAt !== undefined ? true : undefined), {
      timeoutMs: EXIT_BOUND_MS + 30_000,
      intervalMs: 50,
    });
    const exitMs = Math.round((exitedAt as number) - done);
    console.log(`child exited ${exitMs} ms after its connects failed`);
    assert.equal(exitCode, 0, err);
    assert.ok(exitMs < EXIT_BOUND_MS, `exited ${exitMs} ms after its work was done`);
    await until('every connection to the RPC to be closed', () => (rpc.open() === 0 ? true : undefined), {
      timeoutMs: 5_000,
      intervalMs: 20,
    });
  } finally {
    if (exitedAt === undefined) child.kill('SIGKILL');
  }
});
