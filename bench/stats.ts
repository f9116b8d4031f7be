/**
 * Summary statistics for the benchmarks. Pure: no clock, no I/O.
 *
 * Percentiles interpolate linearly between the two nearest ranks (the "R-7" / spreadsheet
 * definition): p of n sorted samples sits at index (n - 1) * p. So the median of an even count is
 * the mean of the middle two, and p95 of 20 samples lies between the 19th and the 20th.
 */

export interface Summary {
  n: number;
  min: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

function sortedCopy(samples: readonly number[]): number[] {
  if (samples.length === 0) throw new RangeError('no samples');
  for (const s of samples) {
    if (!Number.isFinite(s)) throw new RangeError(`sample ${s} is not a finite number`);
  }
  return [...samples].sort((a, b) => a - b);
}

function atRank(sorted: number[], p: number): number {
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The p-th percentile (0 ≤ p ≤ 1) of the samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile ${p} is outside [0, 1]`);
  return atRank(sortedCopy(samples), p);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 0.5);
}

export function p95(samples: readonly number[]): number {
  return percentile(samples, 0.95);
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = sortedCopy(samples);
  return {
    n: sorted.length,
    min: sorted[0],
    median: atRank(sorted, 0.5),
    p95: atRank(sorted, 0.95),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

/** a / b, or NaN when b is not a positive finite number. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN;
}
