/**
 * Delay before the next mint attempt after consecutive failures: capped exponential backoff with
 * jitter (1 s, 2 s, 4 s … 5 min), the same shape as Vault Agent's. Pure: the caller passes the
 * random draw, so the workflow stays deterministic.
 *
 * The jitter only shortens the delay (by up to `jitter`), so the cap stays a true upper bound
 * while agents that fail together still spread out instead of retrying in lock-step.
 */

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** Relative jitter in [0, 1): the delay is scaled by a factor in (1 - jitter, 1]. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 1_000,
  maxMs: 5 * 60_000,
  multiplier: 2,
  jitter: 0.2,
};

/**
 * @param failures consecutive failed attempts so far (1 after the first failure).
 * @param random a draw in [0, 1).
 */
export function backoffDelay(
  failures: number,
  random: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  const exponent = Math.max(0, Math.floor(failures) - 1);
  // Capping before the multiplication would be equivalent; min() also absorbs Infinity for huge streaks.
  const base = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** exponent);
  return Math.max(1, Math.round(base * (1 - policy.jitter * random)));
}
