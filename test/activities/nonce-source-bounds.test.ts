/**
 * The block-indexer request against local servers that misbehave (issue 17, item 5): one that
 * streams a body without end at loopback speed (a worker once reached 2.4 GB in 5 s reading one),
 * one that trickles a body without end, one that never answers. Each must fail at its bound with a
 * transient error naming the indexer and the bound, hang up on the server, and keep memory flat.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { classifyLitError, TypedActivityError } from '../../src/lit/error-classification';
import { DEFAULT_NONCE_OPTIONS, fetchLatestBlock } from '../../src/lit/nonce-source';
import { until } from '../polling';
import {
  type HungServer,
  type StreamingServer,
  startHungServer,
  startStreamingServer,
} from './misbehaving-servers';

const DEADLINE_MS = 2_000;
/** Loopback and a loaded 2-core machine: how late a deadline may trip. */
/**
 * Not a timing target: only a hang detector (the messages say which bound fired; a loaded CI
 * machine must not fail a test over scheduling delay).
 */
const HANG_MS = DEADLINE_MS * 5;
const opts = { ...DEFAULT_NONCE_OPTIONS, timeoutMs: DEADLINE_MS };

async function failureOf(call: () => Promise<unknown>): Promise<{ err: TypedActivityError; ms: number }> {
  const started = performance.now();
  try {
    await call();
  } catch (err) {
    assert.ok(
      err instanceof TypedActivityError,
      `expected a typed error, got ${(err as Error)?.stack ?? err}`,
    );
    return { err, ms: performance.now() - started };
  }
  throw new Error('expected the block-indexer request to fail');
}

function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers + m.external;
}

let flood: StreamingServer;
let trickle: StreamingServer;
let hung: HungServer;
before(async () => {
  flood = await startStreamingServer();
  trickle = await startStreamingServer({ chunkBytes: 16, intervalMs: 20 });
  hung = await startHungServer();
});
after(async () => {
  await Promise.all([flood.close(), trickle.close(), hung.close()]);
});

test('an indexer that streams without end: stopped at the size cap at once, memory stays flat', async () => {
  global.gc?.();
  const before = memory();
  const { err, ms } = await failureOf(() => fetchLatestBlock(flood.url, opts));
  const grewBy = memory() - before;
  console.log(
    `flood: failed after ${Math.round(ms)} ms, server sent ${(flood.sent() / 1024).toFixed(0)} KiB, ` +
      `client memory grew ${(grewBy / 1024 / 1024).toFixed(1)} MiB: ${err.message}`,
  );
  assert.equal(err.type, 'NetworkError');
  assert.equal(err.source, 'block-indexer');
  assert.ok(err.message.includes(flood.url), err.message);
  assert.match(err.message, /more than 65536 bytes/);
  assert.ok(grewBy < 32 * 1024 * 1024, `memory grew by ${grewBy} bytes`);
  const c = classifyLitError(err);
  assert.equal(c.retryable, true);
  // The request is aborted, not left streaming into a socket buffer.
  await until('the indexer connection to close', () => (flood.streaming() === 0 ? true : undefined), {
    timeoutMs: 5_000,
    intervalMs: 20,
  });
});

test('an indexer that trickles a body without end, or never answers: fails at the deadline and hangs up', async () => {
  // The deadline covers the body: before, it stopped only the wait for the headers.
  const { err, ms } = await failureOf(() => fetchLatestBlock(trickle.url, opts));
  console.log(`trickle: failed after ${Math.round(ms)} ms: ${err.message}`);
  assert.equal(err.type, 'NodeTimeout');
  assert.equal(err.source, 'block-indexer');
  assert.equal(err.message, `block indexer ${trickle.url} did not answer within ${DEADLINE_MS} ms`);
  assert.ok(ms >= DEADLINE_MS - 50 && ms < HANG_MS, `${Math.round(ms)} ms`);
  assert.equal(classifyLitError(err).retryable, true);
  await until('the trickling connection to close', () => (trickle.streaming() === 0 ? true : undefined), {
    timeoutMs: 5_000,
    intervalMs: 20,
  });

  const url = `${hung.url}/get_most_recent_valid_block`;
  const silent = await failureOf(() => fetchLatestBlock(url, opts));
  console.log(`hung: failed after ${Math.round(silent.ms)} ms: ${silent.err.message}`);
  assert.equal(silent.err.type, 'NodeTimeout');
  assert.equal(silent.err.message, `block indexer ${url} did not answer within ${DEADLINE_MS} ms`);
  assert.ok(silent.ms >= DEADLINE_MS - 50 && silent.ms < HANG_MS, `${Math.round(silent.ms)} ms`);
  await until('the silent connection to close', () => (hung.open() === 0 ? true : undefined), {
    timeoutMs: 5_000,
    intervalMs: 20,
  });
});
