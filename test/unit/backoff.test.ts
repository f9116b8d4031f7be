import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF } from '../../src/workflows/backoff';

describe('backoffDelay', () => {
  const cases: { failures: number; random: number; expect: number }[] = [
    { failures: 1, random: 0, expect: 1_000 },
    { failures: 1, random: 0.5, expect: 900 },
    { failures: 1, random: 0.999, expect: 800 },
    { failures: 2, random: 0, expect: 2_000 },
    { failures: 3, random: 0, expect: 4_000 },
    { failures: 9, random: 0, expect: 256_000 },
    { failures: 10, random: 0, expect: 300_000 }, // 512 s capped at 5 min
    { failures: 10, random: 0.999, expect: 240_060 },
    { failures: 1_000, random: 0, expect: 300_000 }, // no overflow
    { failures: 0, random: 0, expect: 1_000 }, // treated as the first
    { failures: -3, random: 0, expect: 1_000 },
  ];
  for (const c of cases) {
    it(`failure ${c.failures}, random ${c.random} → ${c.expect} ms`, () => {
      assert.equal(backoffDelay(c.failures, c.random), c.expect);
    });
  }

  it('grows monotonically (at the same draw) and never exceeds the cap', () => {
    let previous = 0;
    for (let n = 1; n <= 40; n++) {
      const d = backoffDelay(n, 0.3);
      assert.ok(d >= previous && d <= DEFAULT_BACKOFF.maxMs);
      previous = d;
    }
  });

  it('takes a custom policy', () => {
    const policy = { initialMs: 100, maxMs: 1_000, multiplier: 3, jitter: 0 };
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoffDelay(n, 0.7, policy)),
      [100, 300, 900, 1_000, 1_000],
    );
  });
});
