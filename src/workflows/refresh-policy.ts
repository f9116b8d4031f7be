/**
 * When to refresh a set of session sigs. Pure (no clock, no randomness of its own), so the workflow
 * stays deterministic and the policy can be tested as a table.
 *
 * Like cert-manager's renewal time: refresh `renewBeforeMs` before expiry if set (and shorter than
 * the lifetime), otherwise at `fraction` of the lifetime. Unlike cert-manager the wait is jittered
 * (±`jitter` of the wait), so a fleet started together does not refresh together. The jitter is
 * capped at half the time left between the nominal point and expiry, so it can never push a
 * refresh past expiry, even with a short `renewBefore`.
 */
import type { RefreshPolicy } from '../shared/types';

export interface RefreshWindow {
  /** Milliseconds since the epoch of the earliest and latest refresh time; `nominal` is without jitter. */
  earliest: number;
  nominal: number;
  latest: number;
}

/** The window [earliest, latest] the jittered refresh time of one lifetime falls into. */
export function refreshWindow(issuedAtMs: number, expiresAtMs: number, policy: RefreshPolicy): RefreshWindow {
  const lifetime = expiresAtMs - issuedAtMs;
  // Already expired (or nonsense): refresh at once.
  if (!(lifetime > 0)) return { earliest: issuedAtMs, nominal: issuedAtMs, latest: issuedAtMs };
  const renewBefore = policy.renewBeforeMs;
  // A renewBefore as long as the lifetime would mean "refresh immediately, forever": fall back to
  // the fraction, as cert-manager does.
  const wait =
    renewBefore !== undefined && renewBefore > 0 && renewBefore < lifetime
      ? lifetime - renewBefore
      : lifetime * policy.fraction;
  const spread = Math.min(Math.max(policy.jitter, 0) * wait, (lifetime - wait) / 2);
  const nominal = issuedAtMs + wait;
  return { earliest: nominal - spread, nominal, latest: nominal + spread };
}

export interface RefreshInput {
  issuedAtMs: number;
  expiresAtMs: number;
  /** Expiry of the capacity delegation embedded in the sigs, when it may end before the sigs do. */
  capacityDelegationExpiresAtMs?: number;
}

/**
 * The refresh time for sigs issued at `issuedAtMs`: `random` in [0, 1) picks the point inside the
 * window. A capacity delegation that expires is treated as a second lifetime starting at the same
 * issue time (conservative if it was issued earlier) and the earlier of the two refresh points wins.
 */
export function computeRefreshAt(input: RefreshInput, policy: RefreshPolicy, random: number): number {
  const pick = (w: RefreshWindow) => Math.round(w.earliest + (w.latest - w.earliest) * random);
  let at = pick(refreshWindow(input.issuedAtMs, input.expiresAtMs, policy));
  if (input.capacityDelegationExpiresAtMs !== undefined) {
    at = Math.min(at, pick(refreshWindow(input.issuedAtMs, input.capacityDelegationExpiresAtMs, policy)));
  }
  return at;
}
