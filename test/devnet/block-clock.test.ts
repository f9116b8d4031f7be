/**
 * Block hashes of the devnet chain are self-authenticating under the chain's secret, so a chain
 * restored with its secret still knows (with their age) the hashes it issued before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ethers } from 'ethers';
import { BlockClock } from '../../src/devnet/block-clock';

test('a clock with the same secret recognises earlier hashes with their number and time; others do not', () => {
  const first = new BlockClock({ blockTimeMs: 1000 });
  const block = first.mine();
  const genesis = first.genesis();
  const restored = new BlockClock({ blockTimeMs: 1000, secret: first.secret });
  const stranger = new BlockClock({ blockTimeMs: 1000 });
  for (const b of [block, genesis]) {
    const found = restored.byHash(b.hash.toUpperCase().replace('0X', '0x'));
    assert.equal(found?.number, b.number);
    assert.equal(found?.timestamp, b.timestamp);
    assert.equal(stranger.byHash(b.hash), undefined);
  }
  assert.equal(restored.byHash(ethers.utils.hexlify(ethers.utils.randomBytes(32))), undefined);
  assert.equal(restored.byHash('0x1234'), undefined);
  assert.throws(() => new BlockClock({ blockTimeMs: 1000, secret: new Uint8Array(8) }), /16 bytes/);
});

test('hashes are distinct per block and link to their parent', () => {
  const clock = new BlockClock({ blockTimeMs: 1000 });
  const blocks = [clock.genesis(), clock.byNumber(1)!, clock.mine(), clock.mine()];
  assert.equal(new Set(blocks.map((b) => b.hash)).size, blocks.length);
  for (let i = 1; i < blocks.length; i++) assert.equal(blocks[i].parentHash, blocks[i - 1].hash);
});
