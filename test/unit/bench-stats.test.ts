import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, p95, percentile, ratio, summarize } from '../../bench/stats';

test('median: middle sample, or the mean of the middle two; input order does not matter', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
});

test('p95 interpolates between the nearest ranks', () => {
  const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);
  // index (20 - 1) * 0.95 = 18.05: between 19 and 20
  assert.ok(Math.abs(p95(oneToTwenty) - 19.05) < 1e-9);
  assert.equal(percentile([10, 20], 0), 10);
  assert.equal(percentile([10, 20], 1), 20);
});

test('summarize does not reorder its input and reports n, min, max and mean', () => {
  const samples = [5, 1, 3];
  const s = summarize(samples);
  assert.deepEqual(samples, [5, 1, 3]);
  assert.deepEqual(s, { n: 3, min: 1, median: 3, p95: 4.8, max: 5, mean: 3 });
});

test('empty, non-finite and out-of-range input is refused; ratio of a zero divisor is NaN', () => {
  assert.throws(() => median([]), RangeError);
  assert.throws(() => median([1, Number.NaN]), RangeError);
  assert.throws(() => percentile([1], 1.5), RangeError);
  assert.equal(ratio(6, 2), 3);
  assert.ok(Number.isNaN(ratio(1, 0)));
});
