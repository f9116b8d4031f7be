/**
 * `SessionSigsSource`: what an agent process uses to get its session sigs.
 *
 * - Returns the cached sigs while they stay valid for at least `minValidityMs`; no network call.
 * - Otherwise queries the agent's workflow (one query shared by concurrent callers).
 * - While the agent has no usable sigs yet (a new agent before its first mint, a refresh in
 *   progress, a degraded agent retrying), polls until `waitTimeoutMs` has passed.
 * - Never returns sigs valid for less than `minValidityMs` (so never expired ones): it throws
 *   `SessionSigsUnavailableError` saying why instead.
 *
 * The decision (use the cache? fetch? wait how long? give up?) is the pure function
 * `decideSessionSigs`, table-tested; the class only does the I/O around it.
 */
import { formatDuration } from '../shared/duration';
import type { SessionSigsMap, SessionStatus } from '../shared/types';
import { SessionSigsUnavailableError } from './errors';

/** Sigs held by the source, with the expiry that decides whether they are still usable. */
export interface CachedSigs {
  sessionSigs: SessionSigsMap;
  expiresAtMs: number;
  generation: number;
}

/** The parts of a `SessionStatus` the decision looks at. */
export type FetchedStatus = Pick<
  SessionStatus,
  'state' | 'sessionSigs' | 'expiresAt' | 'refreshAt' | 'generation' | 'lastError'
>;

export interface SigsDecisionInput {
  nowMs: number;
  minValidityMs: number;
  cached?: CachedSigs;
  /** Status fetched during this `get()` and not yet acted on; absent before the first fetch. */
  fetched?: FetchedStatus;
  /** When this `get()` started waiting (ms since epoch). */
  startedMs: number;
  /** Give up waiting at this time (ms since epoch). */
  deadlineMs: number;
  pollIntervalMs: number;
}

export type SigsDecision =
  | { action: 'use-cached' }
  | { action: 'fetch' }
  | { action: 'use-fetched' }
  | { action: 'wait'; delayMs: number; why: string }
  | { action: 'fail'; reason: string };

/** Pure: true when `expiresAtMs` leaves at least `minValidityMs` from `nowMs`. */
export function validFor(expiresAtMs: number, nowMs: number, minValidityMs: number): boolean {
  return Number.isFinite(expiresAtMs) && expiresAtMs - nowMs >= minValidityMs;
}

function ms(iso: string | null | undefined): number {
  return iso ? Date.parse(iso) : Number.NaN;
}

function describeUnusable(f: FetchedStatus, nowMs: number, minValidityMs: number): string {
  const error = f.lastError ? `; last error ${f.lastError.type}: ${f.lastError.message}` : '';
  if (!f.sessionSigs) return `not minted yet (state ${f.state}${error})`;
  const left = ms(f.expiresAt) - nowMs;
  if (!(left > 0)) return `the current sigs expired at ${f.expiresAt} (state ${f.state}${error})`;
  return (
    `the current sigs expire in ${formatDuration(left)}, less than the required ${formatDuration(minValidityMs)} ` +
    `(state ${f.state}${f.refreshAt ? `, next refresh at ${f.refreshAt}` : ''}${error})`
  );
}

/** Pure: what the source does next. */
export function decideSessionSigs(input: SigsDecisionInput): SigsDecision {
  const { nowMs, minValidityMs, cached, fetched } = input;
  if (fetched?.sessionSigs && validFor(ms(fetched.expiresAt), nowMs, minValidityMs)) {
    return { action: 'use-fetched' };
  }
  if (cached && validFor(cached.expiresAtMs, nowMs, minValidityMs)) return { action: 'use-cached' };
  if (!fetched) return { action: 'fetch' };
  const why = describeUnusable(fetched, nowMs, minValidityMs);
  if (fetched.state === 'failed') {
    return { action: 'fail', reason: `${why}; the agent stopped retrying (fix the cause and rotate it)` };
  }
  const remaining = input.deadlineMs - nowMs;
  if (remaining <= 0) {
    const waited = nowMs - input.startedMs;
    return { action: 'fail', reason: waited > 0 ? `${why}, after waiting ${formatDuration(waited)}` : why };
  }
  // Valid sigs that are merely too short for the caller and will not be refreshed before the
  // deadline: waiting cannot help, say so now.
  const refreshAtMs = ms(fetched.refreshAt);
  if (
    fetched.sessionSigs &&
    fetched.state === 'fresh' &&
    Number.isFinite(refreshAtMs) &&
    refreshAtMs > input.deadlineMs
  ) {
    return {
      action: 'fail',
      reason: `${why}; rotate the agent (\`session-keeper rotate <agentId> --wait\`) or ask for a shorter minimum validity`,
    };
  }
  return { action: 'wait', delayMs: Math.max(1, Math.min(input.pollIntervalMs, remaining)), why };
}

/** Fetches an agent's status, e.g. `SessionKeeperClient.querySessionStatus`. */
export type StatusFetcher = (agentId: string) => Promise<SessionStatus>;

export interface SessionSigsSourceOptions {
  agentId: string;
  fetchStatus: StatusFetcher;
  /** Never hand out sigs that expire sooner than this. Default 2 minutes. */
  minValidityMs?: number;
  /** How long `get()` waits for usable sigs (first mint of a new agent, a refresh). Default 60 s. */
  waitTimeoutMs?: number;
  /** Query interval while waiting. Default 1 s. */
  pollIntervalMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface SessionSigsResult {
  sessionSigs: SessionSigsMap;
  expiresAt: string;
  generation: number;
  fromCache: boolean;
}

export const DEFAULT_MIN_VALIDITY_MS = 2 * 60_000;
export const DEFAULT_SIGS_WAIT_TIMEOUT_MS = 60_000;
export const DEFAULT_SIGS_POLL_INTERVAL_MS = 1_000;

export class SessionSigsSource {
  readonly agentId: string;
  private readonly fetchStatus: StatusFetcher;
  private readonly minValidityMs: number;
  private readonly waitTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private cached: CachedSigs | undefined;
  private inflight: Promise<SessionStatus> | undefined;

  constructor(opts: SessionSigsSourceOptions) {
    this.agentId = opts.agentId;
    this.fetchStatus = opts.fetchStatus;
    this.minValidityMs = opts.minValidityMs ?? DEFAULT_MIN_VALIDITY_MS;
    this.waitTimeoutMs = opts.waitTimeoutMs ?? DEFAULT_SIGS_WAIT_TIMEOUT_MS;
    this.pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_SIGS_POLL_INTERVAL_MS;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((d) => new Promise((resolve) => setTimeout(resolve, d)));
    if (!(this.minValidityMs >= 0)) throw new RangeError('minValidityMs must be ≥ 0');
  }

  /** The session sigs, valid for at least the minimum validity; pass as `sessionSigs` to the Lit SDK. */
  async get(opts: { minValidityMs?: number; waitTimeoutMs?: number } = {}): Promise<SessionSigsMap> {
    return (await this.getWithInfo(opts)).sessionSigs;
  }

  async getWithInfo(
    opts: { minValidityMs?: number; waitTimeoutMs?: number } = {},
  ): Promise<SessionSigsResult> {
    const minValidityMs = opts.minValidityMs ?? this.minValidityMs;
    const startedMs = this.now();
    const deadlineMs = startedMs + (opts.waitTimeoutMs ?? this.waitTimeoutMs);
    let fetched: SessionStatus | undefined;
    for (;;) {
      const decision = decideSessionSigs({
        nowMs: this.now(),
        minValidityMs,
        cached: this.cached,
        fetched,
        startedMs,
        deadlineMs,
        pollIntervalMs: this.pollIntervalMs,
      });
      switch (decision.action) {
        case 'use-cached': {
          const c = this.cached!;
          return {
            sessionSigs: c.sessionSigs,
            expiresAt: new Date(c.expiresAtMs).toISOString(),
            generation: c.generation,
            fromCache: true,
          };
        }
        case 'fetch':
          fetched = await this.fetchShared();
          this.remember(fetched);
          break;
        case 'use-fetched':
          return {
            sessionSigs: fetched!.sessionSigs!,
            expiresAt: fetched!.expiresAt!,
            generation: fetched!.generation,
            fromCache: false,
          };
        case 'wait':
          await this.sleep(decision.delayMs);
          fetched = undefined;
          break;
        case 'fail':
          throw new SessionSigsUnavailableError(this.agentId, decision.reason);
      }
    }
  }

  /** Forget the cached sigs (e.g. a node rejected them); the next `get()` queries the workflow. */
  invalidate(): void {
    this.cached = undefined;
  }

  /** The cached sigs without any check or fetch (for metrics and logs). */
  peek(): CachedSigs | undefined {
    return this.cached;
  }

  private fetchShared(): Promise<SessionStatus> {
    if (!this.inflight) {
      this.inflight = this.fetchStatus(this.agentId).finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  /** The workflow's current sigs replace the cached ones (after a rotation they are the ones to use). */
  private remember(status: SessionStatus): void {
    if (!status.sessionSigs || !status.expiresAt) return;
    const expiresAtMs = Date.parse(status.expiresAt);
    if (!Number.isFinite(expiresAtMs)) return;
    this.cached = { sessionSigs: status.sessionSigs, expiresAtMs, generation: status.generation };
  }
}
