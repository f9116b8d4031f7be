/**
 * Classifies a failed mint attempt. Pure, so the rules are a table test.
 *
 * The activity runs with `maximumAttempts: 1`, so every failure reaches the workflow, which then
 * decides: `permanent` parks the agent in state `failed` until an operator rotates it; `transient`
 * goes through the backoff loop; `cancelled` means the workflow itself is being cancelled.
 *
 * Parking an agent whose error was in fact transient lets its sigs expire until someone notices,
 * while retrying a permanent error only costs one attempt every few minutes. So the lists of known
 * types win over the `nonRetryable` flag, and the flag only decides for types neither list knows.
 */
import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure } from '@temporalio/common';
import { PERMANENT_ERROR_TYPES, TRANSIENT_ERROR_TYPES } from '../shared/activity-contract';

export type MintFailureKind = 'permanent' | 'transient' | 'cancelled';

export interface MintFailure {
  kind: MintFailureKind;
  /** Classified type, shown as `lastError.type`. */
  type: string;
  message: string;
}

const PERMANENT = new Set<string>(PERMANENT_ERROR_TYPES);
const TRANSIENT = new Set<string>(TRANSIENT_ERROR_TYPES);

export function classifyMintFailure(err: unknown): MintFailure {
  // The interesting part of an ActivityFailure ("Activity task failed") is its cause.
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (cause instanceof CancelledFailure)
    return { kind: 'cancelled', type: 'Cancelled', message: cause.message };
  if (cause instanceof ApplicationFailure) {
    const type = cause.type || 'Unknown';
    const permanent = PERMANENT.has(type) || (!TRANSIENT.has(type) && cause.nonRetryable === true);
    return { kind: permanent ? 'permanent' : 'transient', type, message: cause.message };
  }
  if (cause instanceof TimeoutFailure) {
    // Start-to-close (a hung Lit call) or schedule-to-close (no worker picked it up): both pass.
    return { kind: 'transient', type: 'ActivityTimeout', message: `${cause.timeoutType}: ${cause.message}` };
  }
  if (cause instanceof Error)
    return { kind: 'transient', type: cause.name || 'Unknown', message: cause.message };
  return { kind: 'transient', type: 'Unknown', message: String(cause) };
}
