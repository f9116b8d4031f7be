/**
 * What a worker does when a Lit network changes under it: a node joins (agents re-sign, since sigs
 * are per node URL) or the network answers again after failures (agents in backoff retry now).
 * Every worker sees the same event; a shared batch job id makes the server run each rotation once.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { GRPC, grpcCode } from '../client/errors';
import { type FleetRotationOptions, startFleetRotation } from '../client/fleet-rotation';
import type { LitClientPool, NodeSetChange } from '../lit/lit-client-pool';
import type { Logger } from '../observability/logger';

/** Subscribes the worker's reactions to the pool's network events (without a client it only logs). */
export function reactToNetworkEvents(
  pool: LitClientPool,
  client: Client | undefined,
  spreadMs: number,
  logger: Logger,
): void {
  pool.on('nodeSetChanged', (change) => {
    void rotateOnNodeSetChange(change, client, spreadMs, logger);
  });
  pool.on('recovered', ({ network }) => {
    void retryWaitingAgents(network, client, spreadMs, logger);
  });
}

/**
 * The rotation's job id is shared by the workers that see the same change at about the same time,
 * so the server runs it once. It includes the minute: the server refuses a batch job id that was
 * ever used, even by a finished batch, so without it a node set seen before (a node that drops out
 * and comes back a second time) would never have its agents re-signed.
 */
const NODE_SET_JOB_WINDOW_MS = 60_000;

/**
 * Sigs are keyed by node URL, so delivered-mode agents must re-sign when a node joins (agent-held
 * ones sign for the new node themselves: their capability names no node). Every worker sees the change;
 * a job id derived from the new node set (and the minute, see above) makes the server run the batch once.
 */
async function rotateOnNodeSetChange(
  change: NodeSetChange,
  client: Client | undefined,
  spreadMs: number,
  logger: Logger,
): Promise<void> {
  const added = change.after.filter((u) => !change.before.includes(u));
  logger.info(
    { network: change.network, before: change.before, after: change.after, reason: change.reason },
    'lit node set changed',
  );
  if (added.length === 0 || !client) return;
  const digest = createHash('sha256')
    .update([...change.after].sort().join(','))
    .digest('hex')
    .slice(0, 16);
  await startSharedRotation(
    client,
    {
      query: `LitNetwork = "${change.network}"`,
      onlyIfDelivered: true,
      spreadMs,
      reason: 'validator-set-changed',
      jobId: `node-set-${change.network}-${digest}-${Math.floor(Date.now() / NODE_SET_JOB_WINDOW_MS)}`,
    },
    logger,
    { network: change.network, added },
    {
      started: 'rotating agents for the new node set',
      failed: 'could not rotate agents after node set change',
    },
  );
}

/**
 * Pure: the agents of a network that are waiting out a backoff after network failures (not the
 * `failed` ones: a permanent error needs a person, not a retry).
 */
export function waitingAgentsQuery(network: string): string {
  return `LitNetwork = "${network}" AND LitSessionState IN ("degraded", "expired")`;
}

/**
 * The network answers again (a replacement client connected after failures): agents in backoff
 * retry now instead of when their backoff ends, which can be minutes. Deduplicated across workers
 * like the node-set rotation: one batch per network per minute.
 */
async function retryWaitingAgents(
  network: string,
  client: Client | undefined,
  spreadMs: number,
  logger: Logger,
): Promise<void> {
  if (!client) return;
  await startSharedRotation(
    client,
    {
      query: waitingAgentsQuery(network),
      spreadMs,
      reason: 'lit-network-recovered',
      // Chosen by a visibility query: an agent that recovered by itself since must not mint again.
      onlyIfStates: ['degraded', 'expired'],
      jobId: `recovered-${network}-${Math.floor(Date.now() / NODE_SET_JOB_WINDOW_MS)}`,
    },
    logger,
    { network },
    {
      started: 'lit network answers again; agents in backoff retry now',
      failed: 'could not signal agents after the network recovered',
    },
  );
}

/**
 * Every worker sees the same network event and tries the same batch job: the job id lets one of
 * them start it, and the others' ALREADY_EXISTS is the expected outcome, not an error.
 */
async function startSharedRotation(
  client: Client,
  options: FleetRotationOptions & { jobId: string },
  logger: Logger,
  context: Record<string, unknown>,
  messages: { started: string; failed: string },
): Promise<void> {
  try {
    const jobId = await startFleetRotation(client, options);
    logger.info({ ...context, jobId }, messages.started);
  } catch (err) {
    if (grpcCode(err) === GRPC.ALREADY_EXISTS) return;
    logger.error({ ...context, err: (err as Error).message }, messages.failed);
  }
}
