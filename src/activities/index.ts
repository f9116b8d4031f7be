/**
 * The activities the worker registers. Built from dependencies (the Lit client pool, nonce options,
 * where signer references resolve) so tests and the worker wire them the same way.
 */
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { classifyLitError, TypedActivityError } from '../lit/error-classification';
import type { LitClientPool } from '../lit/lit-client-pool';
import { coalescingBlockSource, DEFAULT_NONCE_OPTIONS, type NonceOptions } from '../lit/nonce-source';
import type { SessionActivities } from '../shared/activity-contract';
import type { MintRequest, MintResult } from '../shared/types';
import { mintSessionSigs } from './mint-session-sigs';
import type { SignerEnvironment } from './signer-reference';

export interface MintOutcome {
  request: Pick<MintRequest, 'agentId' | 'network' | 'mode' | 'generation'>;
  durationMs: number;
  attempt: number;
  result?: Pick<MintResult, 'expiresAt' | 'nodeUrls'>;
  error?: { type: string; retryable: boolean; message: string };
}

export interface ActivityDeps {
  pool: LitClientPool;
  nonce?: NonceOptions;
  signerEnvironment?: SignerEnvironment;
  mintTimeoutMs?: number;
  /** Called after every mint, success or failure: metrics and logs hang off this. Never sees sigs. */
  onMint?: (outcome: MintOutcome) => void;
}

/** How often a running mint heartbeats; the workflow's heartbeat timeout is 15 s. */
export const HEARTBEAT_INTERVAL_MS = 3_000;

/** Error types that mean the pooled connection itself may be bad. */
const RECONNECT_ON = new Set(['NotEnoughNodes', 'NetworkError', 'NodeTimeout', 'NodeBlsWrongEpochError']);

export function createActivities(deps: ActivityDeps): SessionActivities {
  // One per worker: the mints of a rotation share their block-indexer requests.
  const latestBlock = coalescingBlockSource();
  return {
    async mintSessionSigs(req: MintRequest): Promise<MintResult> {
      const started = performance.now();
      const attempt = safeAttempt();
      const stopHeartbeat = keepHeartbeating();
      const request = {
        agentId: req.agentId,
        network: req.network,
        mode: req.mode,
        generation: req.generation,
      };
      try {
        const mint = mintSessionSigs(req, {
          acquire: (network) => deps.pool.acquire(network),
          nonce: deps.nonce ?? DEFAULT_NONCE_OPTIONS,
          latestBlock,
          signerEnvironment: deps.signerEnvironment,
          mintTimeoutMs: deps.mintTimeoutMs ?? 30_000,
        });
        const result = await untilCancelled(mint);
        deps.onMint?.({
          request,
          attempt,
          durationMs: performance.now() - started,
          result: { expiresAt: result.expiresAt, nodeUrls: result.nodeUrls },
        });
        return result;
      } catch (err) {
        if (err instanceof CancelledFailure) {
          deps.onMint?.({
            request,
            attempt,
            durationMs: performance.now() - started,
            error: { type: 'Cancelled', retryable: true, message: `mint cancelled (${err.message})` },
          });
          throw err;
        }
        const classified = classifyLitError(err);
        if (shouldReconnect(err, classified.type)) deps.pool.invalidate(req.network);
        deps.onMint?.({ request, attempt, durationMs: performance.now() - started, error: classified });
        // The message is already one bounded line with no sig or key material.
        throw ApplicationFailure.create({
          type: classified.type,
          message: classified.message,
          nonRetryable: !classified.retryable,
        });
      } finally {
        stopHeartbeat();
      }
    },
  };
}

/** Pure: a network-level failure of the Lit client's own round trips (not of the block indexer). */
export function shouldReconnect(err: unknown, type: string): boolean {
  if (err instanceof TypedActivityError && err.source === 'block-indexer') return false;
  return RECONNECT_ON.has(type);
}

/**
 * The mint, or the activity's cancellation, whichever comes first. Temporal cancels a running
 * activity when the worker shuts down (after its grace time), when the attempt timed out on the
 * server, or when the workflow asks: the slot and the worker's shutdown must not wait for a
 * network that does not answer. What the mint was doing goes on only until its own deadlines (or
 * the pool's disposal at shutdown, which aborts its requests) end it.
 */
function untilCancelled<T>(work: Promise<T>): Promise<T> {
  let cancelled: Promise<never>;
  try {
    cancelled = Context.current().cancelled;
  } catch {
    return work; // Called directly, outside an activity (tests).
  }
  work.catch(() => undefined);
  return Promise.race([work, cancelled]);
}

/** Heartbeats until the returned function is called; a no-op outside an activity (direct calls in tests). */
function keepHeartbeating(): () => void {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return () => undefined;
  }
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_INTERVAL_MS);
  return () => clearInterval(timer);
}

function safeAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}
