/**
 * Fleet-wide rotation as a server-side Temporal batch operation: the server finds every matching
 * workflow by visibility query and signals `rotate` to each, rate-limited. The client does not
 * enumerate the fleet, so it works the same for 10 agents or 100,000, and survives the client
 * going away. The raw gRPC call bypasses the data converter, so the signal input is encoded with
 * the client's own converter (encryption included).
 */

import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { encodeToPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import { rotateSignal } from '../shared/messages';
import type { RotateRequest, SessionState } from '../shared/types';
import { OperationTimeoutError } from './errors';
import { agentsQuery } from './visibility';

export interface FleetRotationOptions {
  /** Visibility query selecting agents, e.g. `LitNetwork = "datil"`; all running agents when omitted. */
  query?: string;
  /** Signals per second the server sends; omitted means the server default. */
  rps?: number;
  /** Each workflow waits a random delay up to this long before minting, so nodes are not hit at once. */
  spreadMs?: number;
  reason?: string;
  /** Each agent rotates only if it is in one of these states when its signal arrives. */
  onlyIfStates?: SessionState[];
  /** Only delivered-mode agents rotate (see `RotateRequest.onlyIfDelivered`). */
  onlyIfDelivered?: boolean;
  /** Supply for idempotency: a second start with the same id is rejected by the server. */
  jobId?: string;
  identity?: string;
}

export interface FleetRotationProgress {
  jobId: string;
  state: 'running' | 'completed' | 'failed' | 'unspecified';
  total: number;
  completed: number;
  failed: number;
  startTime?: Date;
  closeTime?: Date;
}

export async function startFleetRotation(client: Client, opts: FleetRotationOptions = {}): Promise<string> {
  const jobId = opts.jobId ?? `rotate-${randomUUID()}`;
  const input: RotateRequest = { reason: opts.reason ?? 'fleet rotation' };
  if (opts.spreadMs) input.spreadMs = opts.spreadMs;
  if (opts.onlyIfStates?.length) input.onlyIfStates = opts.onlyIfStates;
  if (opts.onlyIfDelivered) input.onlyIfDelivered = true;
  const payloads = await encodeToPayloads(client.options.loadedDataConverter, input);
  await client.workflowService.startBatchOperation({
    namespace: client.options.namespace,
    jobId,
    reason: input.reason,
    visibilityQuery: agentsQuery({ query: opts.query }),
    ...(opts.rps ? { maxOperationsPerSecond: opts.rps } : {}),
    signalOperation: {
      signal: rotateSignal.name,
      input: { payloads },
      identity: opts.identity ?? client.options.identity,
    },
  });
  return jobId;
}

const STATES: Record<number, FleetRotationProgress['state']> = {
  [temporal.api.enums.v1.BatchOperationState.BATCH_OPERATION_STATE_RUNNING]: 'running',
  [temporal.api.enums.v1.BatchOperationState.BATCH_OPERATION_STATE_COMPLETED]: 'completed',
  [temporal.api.enums.v1.BatchOperationState.BATCH_OPERATION_STATE_FAILED]: 'failed',
};

export async function describeFleetRotation(client: Client, jobId: string): Promise<FleetRotationProgress> {
  const res = await client.workflowService.describeBatchOperation({
    namespace: client.options.namespace,
    jobId,
  });
  const ts = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
    t?.seconds !== undefined && t?.seconds !== null
      ? new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6))
      : undefined;
  return {
    jobId,
    state: STATES[res.state] ?? 'unspecified',
    total: Number(res.totalOperationCount ?? 0),
    completed: Number(res.completeOperationCount ?? 0),
    failed: Number(res.failureOperationCount ?? 0),
    startTime: ts(res.startTime),
    closeTime: ts(res.closeTime),
  };
}

/** Final state of a fleet rotation, as `waitForFleetRotation` returns it. */
export interface FleetRotationResult extends FleetRotationProgress {
  /** Wall-clock duration of the batch (server times when known). */
  seconds: number;
}

export interface WaitForFleetRotationOptions {
  /** How often to ask the server. Default 500 ms. */
  pollIntervalMs?: number;
  /** Give up (the batch keeps running on the server) after this long. Default: wait forever. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Pure: seconds between the batch's start and close (or `nowMs` while it runs). */
export function fleetRotationSeconds(p: FleetRotationProgress, startedAtMs: number, nowMs: number): number {
  const start = p.startTime?.getTime() ?? startedAtMs;
  const end = p.closeTime?.getTime() ?? nowMs;
  return Math.max(0, (end - start) / 1000);
}

/**
 * Polls the batch operation until it completes or fails, calling `onProgress` with every answer.
 * "completed" counts signals delivered; each workflow then mints on its own (after its spread).
 */
export async function waitForFleetRotation(
  client: Client,
  jobId: string,
  onProgress?: (progress: FleetRotationProgress) => void,
  opts: WaitForFleetRotationOptions = {},
): Promise<FleetRotationResult> {
  const pollIntervalMs = opts.pollIntervalMs ?? 500;
  const sleep = opts.sleep ?? ((d: number) => new Promise<void>((resolve) => setTimeout(resolve, d)));
  const startedAtMs = Date.now();
  const deadline = opts.timeoutMs !== undefined ? startedAtMs + opts.timeoutMs : Number.POSITIVE_INFINITY;
  for (;;) {
    let progress: FleetRotationProgress;
    try {
      progress = await describeFleetRotation(client, jobId);
    } catch (err) {
      // The batch's record can lag its start by a moment; anything else (or a lasting NOT_FOUND) is real.
      const notFound = (err as { code?: number }).code === 5;
      if (!notFound || Date.now() - startedAtMs > 10_000) throw err;
      progress = { jobId, state: 'running', total: 0, completed: 0, failed: 0 };
    }
    onProgress?.(progress);
    if (progress.state === 'completed' || progress.state === 'failed') {
      return { ...progress, seconds: fleetRotationSeconds(progress, startedAtMs, Date.now()) };
    }
    if (Date.now() + pollIntervalMs > deadline) {
      throw new OperationTimeoutError(
        `fleet rotation ${jobId} still running after ${Math.round((Date.now() - startedAtMs) / 1000)}s ` +
          `(${progress.completed}/${progress.total} signalled); it continues on the server: ` +
          `\`temporal batch describe --job-id ${jobId}\``,
      );
    }
    await sleep(pollIntervalMs);
  }
}
