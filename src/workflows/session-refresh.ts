/**
 * sessionRefreshWorkflow: one durable workflow per agent (id `lit-session/<agentId>`) that keeps the
 * agent's Lit session sigs fresh for as long as it runs.
 *
 * Loop: mint, wait until the refresh time (or a rotate / stop), mint again. A failed mint keeps the
 * old sigs in service and retries with capped backoff (degraded, then expired once they run out);
 * a permanent failure parks the agent (failed) until an operator rotates it. Decisions live in
 * AgentSession (session-state.ts); this file only waits, calls the activity and publishes.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  log,
  makeContinueAsNewFunc,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SessionActivities } from '../shared/activity-contract';
import {
  currentSessionSigsQuery,
  rotateNowUpdate,
  rotateSessionKeyUpdate,
  rotateSignal,
  stopSignal,
} from '../shared/messages';
import { checkedSpec } from '../shared/spec-check';
import type {
  AgentSpec,
  RotateRequest,
  RotateSessionKeyRequest,
  SessionRefreshInput,
  SessionStatus,
} from '../shared/types';
import { classifyMintFailure } from './mint-failure';
import { AgentSession, missingIdentityAttributes, publishedSessionAttributes } from './session-state';

const { mintSessionSigs } = proxyActivities<SessionActivities>({
  startToCloseTimeout: '2 minutes',
  // Also bounds the time an attempt waits for a worker: with none up it fails into the backoff loop
  // (and the status says degraded) instead of sitting in the task queue unseen.
  scheduleToCloseTimeout: '5 minutes',
  // The activity heartbeats while it mints, so a worker that dies mid-mint (SIGKILL, OOM, lost
  // host) is noticed after this long, not after the start-to-close timeout: sigs with a short
  // lifetime would run out in those minutes.
  heartbeatTimeout: '15 seconds',
  // One attempt per activity: the workflow retries itself, so it knows it is retrying and says so.
  retry: { maximumAttempts: 1 },
});

export async function sessionRefreshWorkflow(input: SessionRefreshInput): Promise<SessionStatus> {
  const session = new AgentSession({
    spec: validatedSpec(input.spec),
    carried: input.carried,
    options: input.options,
    published: publishedSessionAttributes(workflowInfo().typedSearchAttributes),
  });

  setHandler(currentSessionSigsQuery, () => session.status());
  setHandler(rotateSignal, (req) => {
    session.requestRotation(req);
  });
  setHandler(
    rotateNowUpdate,
    async (req?: RotateRequest) => {
      const ticket = session.requestRotation(req);
      await condition(() => session.settled(ticket));
      return session.rotationOutcome(ticket);
    },
    // Synchronous on purpose: a throw from an async validator would not reject the update.
    { validator: (req?: RotateRequest) => session.validateRotation(req) },
  );
  // Agent-held mode: the agent moves to a new key; answered once the new key's capability exists
  // (the old one is still served until it expires, for the agent's requests already under way).
  setHandler(
    rotateSessionKeyUpdate,
    async (req: RotateSessionKeyRequest) => {
      const ticket = session.requestSessionKeyRotation(req);
      await condition(() => session.settled(ticket));
      return session.rotationOutcome(ticket);
    },
    { validator: (req: RotateSessionKeyRequest) => session.validateSessionKeyRotation(req) },
  );
  setHandler(stopSignal, (req) => {
    log.info('stop requested', { reason: req?.reason });
    session.close('stop');
  });

  publish(missingIdentityAttributes(session.spec, workflowInfo().typedSearchAttributes));

  try {
    while (!session.closing) {
      if (timeToContinueAsNew(session)) session.close('continue-as-new');
      else if (session.mintDue()) await mintOnce(session);
      else await waitForWork(session);
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    session.close('stop'); // cancelling the workflow is a stop, not a failure
  }

  // Waiting rotateNow updates see `closing` and answer now; the run must not end under them.
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  if (session.closing === 'stop') return session.status();
  // Search attributes are passed on explicitly so the new run starts with what this one published.
  const continueAsNew = makeContinueAsNewFunc<typeof sessionRefreshWorkflow>({
    typedSearchAttributes: workflowInfo().typedSearchAttributes,
  });
  // The spec as it is now: a rotateSessionKey changed the key the next run mints for.
  return continueAsNew({ ...input, spec: session.spec, carried: session.carry() });
}

/** Sleeps until the next mint or expiry is due, a rotation moves the next mint earlier, or a stop. */
async function waitForWork(session: AgentSession): Promise<void> {
  const planned = session.nextMintAt();
  // A rotate coalesced into one already pending changes nothing and costs no timer restart.
  const woken = () => session.closing !== null || session.nextMintAt() !== planned;
  const wakeAt = session.nextWakeAt();
  // No deadline only while failed with nothing left to expire: then only a rotate can help.
  if (wakeAt === null) await condition(woken);
  else if (!(await condition(woken, Math.max(1, wakeAt - Date.now())))) session.reached(wakeAt);
  if (session.markExpiredIfDue()) publish(session.takeSearchAttributeUpdates());
}

async function mintOnce(session: AgentSession): Promise<void> {
  const request = session.beginAttempt();
  try {
    session.succeeded(await mintSessionSigs(request));
  } catch (err) {
    const failure = classifyMintFailure(err);
    // Only our own cancellation ends the loop; a cancelled attempt otherwise is just a failed one.
    if (failure.kind === 'cancelled' && CancellationScope.current().consideredCancelled) throw err;
    session.failed(failure);
  }
  const { state, generation, refreshAt, lastError } = session.status();
  if (lastError) log.warn('mint failed', { state, retryAt: refreshAt, ...lastError });
  else log.info('next refresh scheduled', { generation, refreshAt });
  publish(session.takeSearchAttributeUpdates());
}

function timeToContinueAsNew(session: AgentSession): boolean {
  // A full run waits for in-flight rotateNow updates to be answered; a server suggestion does not.
  return workflowInfo().continueAsNewSuggested || (session.runIsFull() && allHandlersFinished());
}

function publish(pairs: SearchAttributeUpdatePair[]): void {
  if (pairs.length) upsertSearchAttributes(pairs);
}

/**
 * Checks the input (a spec the edge parsed and normalised), failing the workflow at once (not a
 * task retry loop) if it is bad.
 */
function validatedSpec(spec: unknown): AgentSpec {
  const checked = checkedSpec(spec);
  if (checked.spec) return checked.spec;
  throw ApplicationFailure.create({
    type: 'InvalidAgentSpec',
    message: `invalid agent spec: ${checked.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    nonRetryable: true,
    details: [checked.issues],
  });
}
