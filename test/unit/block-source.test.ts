import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  coalescingBlockSource,
  DEFAULT_NONCE_OPTIONS,
  type LatestBlock,
  type LatestBlockSource,
} from '../../src/lit/nonce-source';

/** A block indexer whose answers the test releases by hand; it records every request. */
function manualIndexer() {
  const requests: { url: string; resolve: (b: LatestBlock) => void; reject: (e: Error) => void }[] = [];
  const fetchBlock: LatestBlockSource = (url) =>
    new Promise<LatestBlock>((resolve, reject) => {
      requests.push({ url, resolve, reject });
    });
  return { requests, fetchBlock };
}

const block = (n: number): LatestBlock => ({
  blockhash: `0x${n.toString(16).padStart(64, '0')}`,
  timestamp: n,
});
const A = 'http://indexer-a/latest';
const B = 'http://indexer-b/latest';

test('mints asking while a request is on its way share it; another indexer gets its own', async () => {
  const indexer = manualIndexer();
  const latest = coalescingBlockSource(indexer.fetchBlock);
  const fromA = [1, 2, 3, 4, 5].map(() => latest(A, DEFAULT_NONCE_OPTIONS));
  const fromB = latest(B, DEFAULT_NONCE_OPTIONS);
  assert.deepEqual(
    indexer.requests.map((r) => r.url),
    [A, B],
  );
  indexer.requests[0].resolve(block(7));
  indexer.requests[1].resolve(block(9));
  for (const answer of await Promise.all(fromA)) assert.deepEqual(answer, block(7));
  assert.deepEqual(await fromB, block(9));
});

test('nothing is kept once answered: the next mint asks again, after a failure too', async () => {
  const indexer = manualIndexer();
  const latest = coalescingBlockSource(indexer.fetchBlock);
  const first = latest(A, DEFAULT_NONCE_OPTIONS);
  indexer.requests[0].resolve(block(1));
  assert.deepEqual(await first, block(1));

  const failing = [latest(A, DEFAULT_NONCE_OPTIONS), latest(A, DEFAULT_NONCE_OPTIONS)];
  assert.equal(indexer.requests.length, 2);
  indexer.requests[1].reject(new Error('indexer down'));
  for (const f of failing) await assert.rejects(f, /indexer down/);

  const after = latest(A, DEFAULT_NONCE_OPTIONS);
  assert.equal(indexer.requests.length, 3, 'a failure is not remembered');
  indexer.requests[2].resolve(block(2));
  assert.deepEqual(await after, block(2));
});
