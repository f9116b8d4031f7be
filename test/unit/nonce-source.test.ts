import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLatestBlock } from '../../src/lit/nonce-source';

const hash = `0x${'ab'.repeat(32)}`;
const now = 1_700_000_000_000;

const cases: [string, unknown, RegExp | null][] = [
  ['fresh block', { blockhash: hash, timestamp: now / 1000 - 5 }, null],
  ['numeric string timestamp', { blockhash: hash, timestamp: String(now / 1000) }, null],
  ['block older than the limit is stale', { blockhash: hash, timestamp: now / 1000 - 3600 }, /stale nonce/],
  ['malformed hash', { blockhash: '0x12', timestamp: now / 1000 }, /valid blockhash/],
  ['missing timestamp', { blockhash: hash }, /valid timestamp/],
  ['empty body', null, /valid blockhash/],
];
for (const [name, body, error] of cases) {
  test(`checkLatestBlock: ${name}`, () => {
    if (error) assert.throws(() => checkLatestBlock(body, now, 600_000), error);
    else assert.equal(checkLatestBlock(body, now, 600_000).blockhash, hash);
  });
}
