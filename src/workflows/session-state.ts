/**
 * The state of one agent's session, and every decision about it that does not need Temporal: when
 * to mint next, how rotations coalesce, what a success or failure does, what the status shows and
 * which search attributes changed. The workflow (session-refresh.ts) only waits, calls the activity
 * and reports here. Time and randomness come from a `Clock`: the workflow's deterministic
 * `Date.now`/`Math.random` in production, a fake in unit tests.
 */

import {
  ApplicationFailure,
  type SearchAttributeUpdatePair,
  type TypedSearchAttributes,
} from '@temporalio/common';
import { maskKeyShaped } from '../shared/input-limits';
import {
  LitAgentId,
  LitNetwork,
  LitSessionExpiresAt,
  LitSessionGeneration,
  LitSessionState,
} from '../shared/search-attributes';
import { normaliseSessionPublicKey, sessionPublicKeyProblem } from '../shared/spec-rules';
import type {
  AgentSpec,
  CarriedState,
  LastError,
  MintRequest,
  MintResult,
  RotateRequest,
  RotateSessionKeyRequest,
  SessionCapability,
  SessionRefreshOptions,
  SessionSigsMap,
  SessionState,
  SessionStatus,
} from '../shared/types';
import { backoffDelay } from './backoff';
import type { MintFailure } from './mint-failure';
import { computeRefreshAt } from './refresh-policy';

export const DEFAULT_MAX_MINTS_PER_RUN = 100;
/** Floor on the wait after a success, so odd timestamps from the activity cannot cause a hot loop. */
export const MIN_REFRESH_WAIT_MS = 1_000;

export interface Clock {
  now(): number;
  random(): number;
}

/** Inside a workflow both are deterministic (replayed from history / seeded per run). */
const workflowClock: Clock = { now: () => Date.now(), random: () => Math.random() };

/** Why the run is ending. */
export type Closing = 'stop' | 'continue-as-new';

/** States worth a search attribute upsert; `refreshing` and `pending` are too short-lived. */
const PUBLISHED_STATES: ReadonlySet<SessionState> = new Set(['degraded', 'expired', 'failed']);

interface Pending {
  reason?: string;
  requestedAt: number;
  notBefore: number;
}

export interface SessionInit {
  spec: AgentSpec;
  carried?: CarriedState;
  options?: SessionRefreshOptions;
  /** Search attribute values the run starts with (set by the client or copied on continue-as-new). */
  published?: { state?: string; generation?: number };
  clock?: Clock;
}

export class AgentSession {
  /** Replaced (never mutated) by `requestSessionKeyRotation`; continue-as-new passes it on. */
  spec: AgentSpec;
  state: SessionState = 'pending';
  generation = 0;
  closing: Closing | null = null;
  attemptsThisRun = 0;

  private sigs: SessionSigsMap | null = null;
  /** Agent-held mode: the capability for the current key, and the previous key's until it expires. */
  private capability: SessionCapability | null = null;
  private previousCapability: SessionCapability | null = null;
  private issuedAt: number | null = null;
  private expiresAt: number | null = null;
  private nodeUrls: string[] = [];
  private capacityDelegationExpiresAt?: number;
  /** Next planned refresh, or retry while degraded/expired; null while failed or minting. */
  private nextAttemptAt: number | null;
  private failedAttempts = 0;
  private lastError?: LastError;
  /** At most one: rotations requested before an attempt starts are all satisfied by it. */
  private pending?: Pending;

  // rotateNow bookkeeping. Attempts are numbered; an update is answered by the first attempt that
  // starts after it arrived (its "ticket"), once that attempt succeeds or fails permanently.
  private attemptSeq = 0;
  private lastSuccessSeq = 0;
  private lastPermanentFailureSeq = 0;

  /** The latest deadline known to have passed (see `reached`). */
  private passed = 0;

  private readonly maxMintsPerRun: number;
  private readonly clock: Clock;
  private published: { state?: string; generation?: number };

  constructor(init: SessionInit) {
    this.spec = init.spec;
    this.clock = init.clock ?? workflowClock;
    const max = init.options?.maxMintsPerRun;
    this.maxMintsPerRun =
      max !== undefined && Number.isFinite(max) && max >= 1 ? Math.floor(max) : DEFAULT_MAX_MINTS_PER_RUN;
    this.published = { ...init.published };
    const c = init.carried;
    // A fresh start mints at once; a continued run picks up its predecessor's plan.
    this.nextAttemptAt = this.clock.now();
    if (c) {
      this.state = c.state;
      this.generation = c.generation;
      this.sigs = c.sessionSigs;
      this.capability = c.capability ?? null;
      this.previousCapability = c.previousCapability ?? null;
      this.issuedAt = parseTime(c.issuedAt);
      this.expiresAt = parseTime(c.expiresAt);
      this.nodeUrls = [...c.nodeUrls];
      this.capacityDelegationExpiresAt = parseTime(c.capacityDelegationExpiresAt) ?? undefined;
      // Only a failed agent waits without a plan; anything else missing one mints now, never hangs.
      this.nextAttemptAt = parseTime(c.nextAttemptAt) ?? (c.state === 'failed' ? null : this.clock.now());
      this.failedAttempts = c.failedAttempts ?? 0;
      this.lastError = c.lastError;
      if (c.pendingRotation) {
        this.pending = {
          reason: c.pendingRotation.reason,
          requestedAt: Date.parse(c.pendingRotation.requestedAt),
          notBefore: Date.parse(c.pendingRotation.notBefore),
        };
      }
    }
  }

  // ---- messages -------------------------------------------------------------------------------

  status(): SessionStatus {
    const now = this.now();
    const unexpired = this.expiresAt !== null && now < this.expiresAt;
    const valid = this.sigs !== null && unexpired;
    return {
      agentId: this.spec.agentId,
      network: this.spec.network,
      state: this.state,
      generation: this.generation,
      // Expired sigs are useless to an agent and would only mislead it.
      sessionSigs: valid ? this.sigs : null,
      // Agent-held mode only (delivered agents' statuses keep their shape): never sigs, the capability.
      ...(this.agentHeld
        ? {
            sessionSigs: null,
            capability: unexpired ? this.capability : null,
            previousCapability: this.liveCapability(this.previousCapability, now),
          }
        : {}),
      issuedAt: toIso(this.issuedAt),
      expiresAt: toIso(this.expiresAt),
      refreshAt: toIso(this.nextMintAt()),
      nodeUrls: [...this.nodeUrls],
      ...(this.lastError ? { lastError: { ...this.lastError } } : {}),
    };
  }

  /** Agent-held mode: the spec names the agent's session public key, or a capability is still held. */
  get agentHeld(): boolean {
    return this.spec.sessionPublicKey !== undefined || this.capability !== null;
  }

  /**
   * Rejects a `rotateSessionKey` update before it is written to history (synchronous, plain TS):
   * only an agent-held agent has a key to move, and only to a public key (never a secret one).
   */
  validateSessionKeyRotation(req: RotateSessionKeyRequest): void {
    this.validateRotation();
    if (this.spec.sessionPublicKey === undefined) {
      throw ApplicationFailure.create({
        type: 'DeliveredModeAgent',
        message: `agent ${this.spec.agentId} runs in delivered mode (the keeper makes its sigs): it has no session key of its own to rotate; use rotate, or start it again with a sessionPublicKey`,
      });
    }
    const problem = sessionPublicKeyProblem(req?.sessionPublicKey);
    if (problem) {
      throw ApplicationFailure.create({
        type: 'InvalidSessionPublicKey',
        message: `sessionPublicKey ${problem}`,
      });
    }
  }

  /**
   * Moves the agent to a new session public key and asks for a mint for it at once (a ticket, as
   * `requestRotation`). The current capability stays served as the previous one until it expires
   * (see `succeeded`), so an agent still using the old key keeps working while it switches.
   */
  requestSessionKeyRotation(req: RotateSessionKeyRequest): number {
    this.spec = { ...this.spec, sessionPublicKey: normaliseSessionPublicKey(req.sessionPublicKey) };
    return this.requestRotation({ reason: req.reason ?? 'session key rotation' });
  }

  /** Rejects a `rotateNow` update before it is written to history (must stay synchronous). */
  validateRotation(req?: RotateRequest): void {
    // Also the first check of rotateSessionKey: a closing run takes no update.
    if (this.closing) {
      throw ApplicationFailure.create({
        type: 'WorkflowClosing',
        message: `the session workflow is ${this.closing === 'stop' ? 'stopping' : 'continuing as new'}; retry`,
      });
    }
    const spread = req?.spreadMs;
    if (spread !== undefined && !(typeof spread === 'number' && Number.isFinite(spread) && spread >= 0)) {
      throw ApplicationFailure.create({
        type: 'InvalidRotateRequest',
        message: 'spreadMs must be a number ≥ 0',
      });
    }
  }

  /**
   * Records a rotation request and returns its ticket (see `settled`). Requests coalesce: while one
   * is pending, another one with a spread changes nothing, and one without a spread only pulls
   * the pending rotation forward to now. So a fleet-wide rotate with a spread stays spread out.
   */
  requestRotation(req?: RotateRequest): number {
    // Signals cannot be refused, so a malformed list is ignored rather than trusted.
    const only = Array.isArray(req?.onlyIfStates) ? req.onlyIfStates : [];
    if (only.length && !only.includes(this.state)) return this.attemptSeq;
    if (req?.onlyIfDelivered === true && this.spec.sessionPublicKey !== undefined) return this.attemptSeq;
    const now = this.now();
    const spread = validSpread(req?.spreadMs);
    if (this.pending) {
      if (spread === 0) this.pending.notBefore = Math.min(this.pending.notBefore, now);
    } else {
      const delay = spread > 0 ? Math.floor(this.clock.random() * spread) : 0;
      this.pending = { reason: req?.reason, requestedAt: now, notBefore: now + delay };
    }
    return this.attemptSeq + 1;
  }

  close(why: Closing): void {
    // A stop wins over a continue-as-new that is still draining.
    if (this.closing !== 'stop') this.closing = why;
  }

  /** True once the ticket's rotation is done (or failed permanently), or the run is ending. */
  settled(ticket: number): boolean {
    return this.closing !== null || this.lastSuccessSeq >= ticket || this.lastPermanentFailureSeq >= ticket;
  }

  /** The `rotateNow` answer for a settled ticket: the new status, or the reason there is none. */
  rotationOutcome(ticket: number): SessionStatus {
    if (this.lastSuccessSeq >= ticket) return this.status();
    if (this.lastPermanentFailureSeq >= ticket && this.lastError) {
      throw ApplicationFailure.create({
        type: this.lastError.type,
        message: `rotation failed permanently: ${this.lastError.message}`,
        nonRetryable: true,
      });
    }
    // Closing: a continue-as-new carries the rotation over; a retry reaches the new run.
    throw ApplicationFailure.create({
      type: 'WorkflowClosing',
      message:
        this.closing === 'continue-as-new'
          ? 'the workflow continued as new before the rotation finished; it is carried over, retry to wait for it'
          : 'the session workflow stopped before the rotation finished',
    });
  }

  // ---- scheduling -----------------------------------------------------------------------------

  /** When the next mint starts: the planned refresh/retry or a pending rotation, whichever is first. */
  nextMintAt(): number | null {
    const times = [this.nextAttemptAt, this.pending?.notBefore ?? null].filter(
      (t): t is number => t !== null,
    );
    return times.length ? Math.min(...times) : null;
  }

  mintDue(): boolean {
    const at = this.nextMintAt();
    return at !== null && at <= this.now();
  }

  /**
   * When the waiting loop must wake up by itself: the next mint, or expiry (so the state flips on
   * time), or the expiry of a previous key's capability (so the status stops serving it on time).
   */
  nextWakeAt(): number | null {
    const now = this.now();
    const previousExpiry = this.previousCapability ? Date.parse(this.previousCapability.expiresAt) : null;
    const times = [
      this.nextMintAt(),
      this.expiresAt !== null && this.expiresAt > now ? this.expiresAt : null,
      // A previous key's capability leaves the status when it expires, not at the next refresh.
      previousExpiry !== null && previousExpiry > now ? previousExpiry : null,
    ];
    const future = times.filter((t): t is number => t !== null);
    return future.length ? Math.min(...future) : null;
  }

  /**
   * Records that `at` has passed: a timer set for it fired. Decisions then use at least this time,
   * because the workflow clock can lag: with SDK 1.24, after workers were killed and restarted
   * while agents were queried every second, a worker handled a fired refresh timer with the time of
   * the task before it, found the refresh not due and started the same timer again; a replay, with
   * the right time, mints instead, so the history no longer replayed and the agent was stuck. With
   * a clock that does not lag this changes nothing: a timer's task never starts before its deadline.
   */
  reached(at: number): void {
    this.passed = Math.max(this.passed, at);
  }

  /** Attempts are counted, not successes: a long outage must not grow one run's history forever. */
  runIsFull(): boolean {
    return this.attemptsThisRun >= this.maxMintsPerRun;
  }

  // ---- attempts -------------------------------------------------------------------------------

  beginAttempt(): MintRequest {
    // Every rotation requested so far is satisfied by this attempt; later ones need another.
    this.pending = undefined;
    this.nextAttemptAt = null;
    this.attemptSeq++;
    this.attemptsThisRun++;
    if (this.state === 'fresh') this.state = 'refreshing';
    // What the mint needs is the spec minus the workflow's own concerns (when to refresh, labels).
    const { refresh: _refresh, labels: _labels, ...mint } = this.spec;
    return { ...mint, generation: this.generation + 1 };
  }

  succeeded(result: MintResult): void {
    const now = this.now();
    const issuedAt = Date.parse(result.issuedAt);
    const expiresAt = Date.parse(result.expiresAt);
    if (!Number.isFinite(issuedAt) || !(expiresAt > now)) {
      // Sigs that are already expired would be refreshed at once, again and again.
      this.failed({
        kind: 'transient',
        type: 'InvalidMintResult',
        message: `activity returned sigs issued ${result.issuedAt}, expiring ${result.expiresAt}`,
      });
      return;
    }
    const delegationExpiresAt = parseTime(result.capacityDelegationExpiresAt) ?? undefined;
    this.generation++;
    this.state = 'fresh';
    this.sigs = result.sessionSigs;
    if (result.capability) {
      // A new key's capability demotes the old key's, which is served until it expires; a refresh
      // for the same key keeps whatever previous capability is still live.
      const old = this.capability;
      if (old && old.sessionPublicKey !== result.capability.sessionPublicKey)
        this.previousCapability = this.liveCapability(old, now);
      else this.previousCapability = this.liveCapability(this.previousCapability, now);
      this.capability = result.capability;
      this.sigs = null;
    }
    this.issuedAt = issuedAt;
    this.expiresAt = expiresAt;
    this.nodeUrls = [...result.nodeUrls];
    this.capacityDelegationExpiresAt = delegationExpiresAt;
    // Recovery clears the error: `lastError` always describes the current trouble, never history.
    this.failedAttempts = 0;
    this.lastError = undefined;
    this.lastSuccessSeq = this.attemptSeq;
    const refreshAt = computeRefreshAt(
      { issuedAtMs: issuedAt, expiresAtMs: expiresAt, capacityDelegationExpiresAtMs: delegationExpiresAt },
      this.spec.refresh,
      this.clock.random(),
    );
    this.nextAttemptAt = Math.max(refreshAt, now + MIN_REFRESH_WAIT_MS);
  }

  failed(failure: MintFailure): void {
    const now = this.now();
    this.failedAttempts++;
    this.lastError = {
      type: failure.type,
      // Free text from the network or a user's action: a key quoted in it must not reach
      // `agent status`, the query, or the carried state of the next run.
      message: maskKeyShaped(failure.message, '[redacted]'),
      at: toIso(now)!,
      attempts: this.failedAttempts,
    };
    if (failure.kind === 'permanent') {
      // No retry until someone fixes the cause and rotates: retrying cannot help and only costs.
      this.state = 'failed';
      this.nextAttemptAt = null;
      this.lastPermanentFailureSeq = this.attemptSeq;
      return;
    }
    // The current sigs keep being served while valid; the status says they are at risk.
    this.state = this.isExpired(now) ? 'expired' : 'degraded';
    this.nextAttemptAt = now + backoffDelay(this.failedAttempts, this.clock.random());
  }

  /** Flips to `expired` when the sigs ran out while waiting. True if the state changed. */
  markExpiredIfDue(): boolean {
    if (this.state !== 'fresh' && this.state !== 'degraded') return false;
    if (!this.isExpired(this.now())) return false;
    this.state = 'expired';
    return true;
  }

  // ---- continue-as-new and search attributes ----------------------------------------------------

  carry(): CarriedState {
    const carried: CarriedState = {
      state: this.state,
      generation: this.generation,
      sessionSigs: this.sigs,
      ...(this.capability ? { capability: this.capability } : {}),
      ...(this.liveCapability(this.previousCapability, this.now())
        ? { previousCapability: this.previousCapability }
        : {}),
      issuedAt: toIso(this.issuedAt),
      expiresAt: toIso(this.expiresAt),
      nodeUrls: [...this.nodeUrls],
      nextAttemptAt: toIso(this.nextAttemptAt),
      failedAttempts: this.failedAttempts,
    };
    if (this.capacityDelegationExpiresAt !== undefined) {
      carried.capacityDelegationExpiresAt = toIso(this.capacityDelegationExpiresAt)!;
    }
    if (this.lastError) carried.lastError = { ...this.lastError };
    if (this.pending) {
      carried.pendingRotation = {
        ...(this.pending.reason !== undefined ? { reason: this.pending.reason } : {}),
        requestedAt: toIso(this.pending.requestedAt)!,
        notBefore: toIso(this.pending.notBefore)!,
      };
    }
    return carried;
  }

  /**
   * The search attribute changes since the last call: all three session keys after a successful
   * mint, only the state on a change to degraded/expired/failed, nothing otherwise.
   */
  takeSearchAttributeUpdates(): SearchAttributeUpdatePair[] {
    let pairs: SearchAttributeUpdatePair[];
    if (this.generation !== (this.published.generation ?? 0) && this.expiresAt !== null) {
      pairs = [
        { key: LitSessionState, value: this.state },
        { key: LitSessionExpiresAt, value: new Date(this.expiresAt) },
        { key: LitSessionGeneration, value: this.generation },
      ];
    } else if (this.state !== this.published.state && PUBLISHED_STATES.has(this.state)) {
      pairs = [{ key: LitSessionState, value: this.state }];
    } else {
      return [];
    }
    this.published = { state: this.state, generation: this.generation };
    return pairs;
  }

  private now(): number {
    return Math.max(this.clock.now(), this.passed);
  }

  /** The capability while it has not expired, else null. */
  private liveCapability(c: SessionCapability | null, now: number): SessionCapability | null {
    return c && Date.parse(c.expiresAt) > now ? c : null;
  }

  private isExpired(now: number): boolean {
    return this.expiresAt !== null && now >= this.expiresAt;
  }
}

/** LitAgentId / LitNetwork when the starter did not set them (the client normally does). */
export function missingIdentityAttributes(
  spec: AgentSpec,
  current: TypedSearchAttributes,
): SearchAttributeUpdatePair[] {
  const pairs: SearchAttributeUpdatePair[] = [];
  if (current.get(LitAgentId) === undefined) pairs.push({ key: LitAgentId, value: spec.agentId });
  if (current.get(LitNetwork) === undefined) pairs.push({ key: LitNetwork, value: spec.network });
  return pairs;
}

/** What the run starts with, so it does not upsert values that are already there. */
export function publishedSessionAttributes(current: TypedSearchAttributes): {
  state?: string;
  generation?: number;
} {
  return { state: current.get(LitSessionState), generation: current.get(LitSessionGeneration) };
}

function validSpread(ms: unknown): number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function parseTime(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

function toIso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
