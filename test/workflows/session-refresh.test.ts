/**
 * sessionRefreshWorkflow on a time-skipping server with a fake mint activity: the steady-state
 * schedule over 30 days, the cost of one refresh cycle in history events, rotation by signal and
 * update, stop and cancellation, and spec validation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { currentSessionSigsQuery, rotateSignal, stopSignal } from '../../src/shared/messages';
import { workflowIdFor } from '../../src/shared/names';
import {
  LitSessionExpiresAt,
  LitSessionGeneration,
  LitSessionState,
} from '../../src/shared/search-attributes';
import { sessionRefreshWorkflow } from '../../src/workflows';
import { refreshWindow } from '../../src/workflows/refresh-policy';
import {
  agentSpec,
  DAY,
  type Harness,
  HOUR,
  now,
  rotateNow,
  startAgent,
  startHarness,
} from './session-refresh.fixtures';

const EventType = temporal.api.enums.v1.EventType;
/** The workflow task that schedules an activity runs a few real milliseconds after its timer fired. */
const SLACK_MS = 2_000;

describe('sessionRefreshWorkflow', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('session-refresh-test');
  });
  after(async () => {
    await h?.close();
  });

  it('refreshes on schedule for 30 days with a 24 h TTL, each mint inside the policy window', async () => {
    const spec = agentSpec('thirty-days', { sessionTtl: '24h' });
    const handle = await startAgent(h, spec);
    const t0 = await now(h);
    await h.env.sleep(30 * DAY);

    const calls = h.fake.callsFor(handle.workflowId);
    assert.ok(calls[0].at - t0 < SLACK_MS, 'first mint immediately on start');
    for (let i = 1; i < calls.length; i++) {
      const issued = calls[i - 1].at;
      const w = refreshWindow(issued, issued + spec.sessionTtlMs, spec.refresh);
      assert.ok(
        calls[i].at >= w.earliest && calls[i].at <= w.latest + SLACK_MS,
        `mint ${i + 1} at +${((calls[i].at - issued) / HOUR).toFixed(2)} h, window [${((w.earliest - issued) / HOUR).toFixed(2)}, ${((w.latest - issued) / HOUR).toFixed(2)}] h`,
      );
    }
    // 2/3 of 24 h ± 10 % is 14.4 h to 17.6 h per cycle: 41 to 51 mints in 30 days, counting the first.
    const expectedMin = 1 + Math.floor((30 * DAY) / (17.6 * HOUR));
    const expectedMax = 1 + Math.ceil((30 * DAY) / (14.4 * HOUR));
    assert.ok(calls.length >= expectedMin && calls.length <= expectedMax, `${calls.length} mints`);
    assert.ok(
      calls.every((c) => c.runId === calls[0].runId),
      'no continue-as-new below maxMintsPerRun',
    );

    const status = await handle.query(currentSessionSigsQuery);
    assert.equal(status.state, 'fresh');
    assert.equal(status.generation, calls.length);
    assert.deepEqual(
      calls.map((c) => c.request.generation),
      calls.map((_, i) => i + 1),
    );
    const last = calls.at(-1)!;
    assert.equal(status.issuedAt, new Date(last.at).toISOString());
    assert.equal(
      Object.values(status.sessionSigs!)[0].signedMessage,
      `thirty-days#${calls.length}@${last.at}`,
    );

    const sa = (await handle.describe()).typedSearchAttributes;
    assert.equal(sa.get(LitSessionState), 'fresh');
    assert.equal(sa.get(LitSessionGeneration), calls.length);
    assert.equal(sa.get(LitSessionExpiresAt)?.toISOString(), status.expiresAt);

    await handle.signal(stopSignal, { reason: 'test done' });
    const final = await handle.result();
    assert.equal(final.generation, calls.length);
  });

  it('uses at most 12 history events per steady-state refresh cycle', async (t) => {
    const spec = agentSpec('events-per-cycle', { sessionTtl: '24h' });
    const handle = await startAgent(h, spec);
    await h.env.sleep(5 * DAY);
    await handle.signal(stopSignal);
    await handle.result();

    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events
      .map((e, i) => (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ? i : -1))
      .filter((i) => i >= 0);
    assert.ok(scheduled.length >= 6, `${scheduled.length} cycles in 5 days`);
    // A cycle: from one ActivityTaskScheduled to the next. The first includes start-up, skip it.
    const cycles = scheduled.slice(2).map((end, k) => events.slice(scheduled[k + 1], end));
    const sizes = cycles.map((c) => c.length);
    const names = cycles[0].map((e) => EventType[e.eventType!].replace('EVENT_TYPE_', ''));
    t.diagnostic(`events per refresh cycle: ${sizes.join(', ')}; one cycle: ${names.join(' ')}`);
    assert.ok(Math.max(...sizes) <= 12, `cycles of ${Math.max(...sizes)} events`);
    const upserts = cycles[0].filter(
      (e) => e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
    );
    assert.equal(upserts.length, 1, 'one upsert per successful mint');
  });

  it('rotates on a signal, after a random delay within spreadMs, coalescing repeated signals', async () => {
    const spec = agentSpec('rotate-signal');
    const handle = await startAgent(h, spec);
    await h.env.sleep(HOUR);
    const before = await handle.query(currentSessionSigsQuery);
    assert.equal(before.generation, 1);

    // Without a spread: minted straight away.
    const t1 = await now(h);
    await handle.signal(rotateSignal, { reason: 'validator-set-changed' });
    await h.env.sleep(1_000);
    const calls = h.fake.callsFor(handle.workflowId);
    assert.equal(calls.length, 2);
    assert.ok(calls[1].at - t1 < SLACK_MS);
    const rotated = await handle.query(currentSessionSigsQuery);
    assert.equal(rotated.generation, 2);
    assert.notDeepEqual(rotated.sessionSigs, before.sessionSigs);

    // With a spread: one mint at a random point in [0, spread), however many signals arrive meanwhile.
    const spreadMs = 30 * 60_000;
    const t2 = await now(h);
    await handle.signal(rotateSignal, { reason: 'operator', spreadMs });
    const pending = await handle.query(currentSessionSigsQuery);
    assert.ok(
      Date.parse(pending.refreshAt!) >= t2 && Date.parse(pending.refreshAt!) < t2 + spreadMs + SLACK_MS,
    );
    await h.env.sleep(60_000);
    await handle.signal(rotateSignal, { reason: 'operator', spreadMs });
    await handle.signal(rotateSignal, { reason: 'operator again', spreadMs });
    await h.env.sleep(spreadMs + 60_000);
    const after = h.fake.callsFor(handle.workflowId);
    assert.equal(after.length, 3, 'the signals during the spread wait coalesced into one mint');
    assert.ok(after[2].at >= t2 && after[2].at < t2 + spreadMs + SLACK_MS);
    assert.equal((await handle.query(currentSessionSigsQuery)).generation, 3);

    await handle.signal(stopSignal);
    await handle.result();
  });

  it('rotateNow returns the status with the newly minted sigs', async () => {
    const spec = agentSpec('rotate-now');
    const handle = await startAgent(h, spec);
    await h.env.sleep(HOUR);
    const before = await handle.query(currentSessionSigsQuery);

    const status = await rotateNow(handle, { reason: 'test' });
    assert.equal(status.generation, before.generation + 1);
    assert.equal(status.state, 'fresh');
    assert.notDeepEqual(status.sessionSigs, before.sessionSigs);
    assert.equal(h.fake.callsFor(handle.workflowId).length, 2);

    // Invalid input is rejected by the validator and leaves no trace.
    await assert.rejects(rotateNow(handle, { spreadMs: -1 }), (err: any) => {
      assert.equal(err.cause?.type, 'InvalidRotateRequest');
      return true;
    });
    assert.equal((await handle.query(currentSessionSigsQuery)).generation, status.generation);

    await handle.signal(stopSignal);
    await handle.result();
  });

  it('rotations requested during a mint coalesce into exactly one follow-up mint', async () => {
    const spec = agentSpec('rotate-during-mint');
    const handle = await startAgent(h, spec);
    await h.env.sleep(HOUR);
    const base = h.fake.calls.length;

    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.fake.behaviour = async (call, fake) => {
      if (call.request.generation === 2) await gate;
      return fake.sigsFor(call);
    };
    const first = rotateNow(handle, { reason: 'first' });
    await h.fake.waitForCalls(base + 1); // the mint for `first` is running now
    const second = rotateNow(handle, { reason: 'second' });
    await handle.signal(rotateSignal, { reason: 'third' });
    await handle.signal(rotateSignal, { reason: 'fourth' });
    release();

    const [s1, s2] = await Promise.all([first, second]);
    assert.equal(s1.generation, 2, 'the first update is answered by the mint it started');
    assert.equal(
      s2.generation,
      3,
      'the second one needs the follow-up mint: it arrived after the first began',
    );
    await h.env.sleep(HOUR);
    assert.equal(h.fake.callsFor(handle.workflowId).length, 3, 'one follow-up mint for all three requests');
    h.fake.reset();

    await handle.signal(stopSignal);
    assert.equal((await handle.result()).generation, 3);
  });

  it('stops on cancellation and returns the final status', async () => {
    const spec = agentSpec('cancel-me');
    const handle = await startAgent(h, spec);
    await h.env.sleep(HOUR);
    await handle.cancel();
    const final = await handle.result();
    assert.equal(final.generation, 1);
    assert.equal(final.state, 'fresh');
    assert.ok(final.sessionSigs);
  });

  it('on stop, finishes the mint in flight, rejects rotateNow meanwhile and returns the final status', async () => {
    const spec = agentSpec('stop-me');
    const handle = await startAgent(h, spec);
    await h.env.sleep(HOUR);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.fake.behaviour = async (call, fake) => {
      if (call.request.generation === 2) await gate;
      return fake.sigsFor(call);
    };
    const base = h.fake.calls.length;
    await handle.signal(rotateSignal, { reason: 'before stop' });
    await h.fake.waitForCalls(base + 1);
    await handle.signal(stopSignal, { reason: 'test' });
    await assert.rejects(rotateNow(handle, { reason: 'too late' }), (err: any) => {
      assert.equal(err.cause?.type, 'WorkflowClosing');
      return true;
    });
    release();
    const final = await handle.result();
    assert.equal(final.generation, 2, 'the mint in flight completed');
    assert.equal(h.fake.callsFor(handle.workflowId).length, 2, 'the rejected update minted nothing');
    h.fake.reset();
  });

  it('fails at once, naming the fields, when the spec is invalid', async () => {
    const spec = { ...agentSpec('bad-spec'), signer: '0x' + 'ab'.repeat(32), network: 'Not A Network' };
    const handle = await h.client.workflow.start(sessionRefreshWorkflow, {
      taskQueue: h.taskQueue,
      workflowId: workflowIdFor('bad-spec'),
      args: [{ spec }],
    });
    const err = await handle.result().then(
      () => assert.fail('should fail'),
      (e) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, 'InvalidAgentSpec');
    assert.equal(err.cause.nonRetryable, true);
    assert.match(err.cause.message, /signer/);
    assert.match(err.cause.message, /network/);
    assert.equal(h.fake.callsFor(handle.workflowId).length, 0);
  });

  // Last on purpose: the test server keeps the abandoned activity "running" until its
  // start-to-close timeout (in real time: it does not skip time while an activity runs), which
  // would stall any later test's time skipping by two minutes.
  it('stops on cancellation during a mint, abandoning it', async () => {
    const spec = agentSpec('cancel-mid-mint');
    const handle = await startAgent(h, spec);
    await h.env.sleep(HOUR);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.fake.behaviour = async (call, fake) => {
      if (call.request.generation === 2) await gate;
      return fake.sigsFor(call);
    };
    const base = h.fake.calls.length;
    const waiting = rotateNow(handle, { reason: 'in flight' }).then(
      () => 'resolved',
      (err) => err,
    );
    await h.fake.waitForCalls(base + 1);
    await handle.cancel();
    const final = await handle.result();
    // The abandoned activity still runs in the worker, and the test server stops skipping time
    // while it does: let it finish.
    release();
    h.fake.reset();
    assert.equal(final.generation, 1, 'the cancelled mint does not count');
    assert.equal(final.state, 'refreshing', 'the last state as it was');
    assert.ok(
      (await waiting) instanceof WorkflowUpdateFailedError,
      'the waiting update is answered, not left hanging',
    );
  });
});
