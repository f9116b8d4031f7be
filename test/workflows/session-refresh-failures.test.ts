/**
 * sessionRefreshWorkflow when minting fails: transient failures degrade, then expire, then recover
 * by themselves; a permanent failure parks the agent without a retry loop until it is rotated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { currentSessionSigsQuery, rotateSignal, stopSignal } from '../../src/shared/messages';
import { LitSessionGeneration, LitSessionState } from '../../src/shared/search-attributes';
import { DEFAULT_BACKOFF } from '../../src/workflows/backoff';
import {
  agentSpec,
  DAY,
  type Harness,
  HOUR,
  now,
  permanentError,
  rotateNow,
  startAgent,
  startHarness,
  transientError,
} from './session-refresh.fixtures';

const EventType = temporal.api.enums.v1.EventType;
const MINUTE = 60_000;
const SLACK_MS = 2_000;

async function searchAttributes(handle: WorkflowHandle) {
  const sa = (await handle.describe()).typedSearchAttributes;
  return { state: sa.get(LitSessionState), generation: sa.get(LitSessionGeneration) };
}

describe('sessionRefreshWorkflow failures', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('session-refresh-failures');
  });
  after(async () => {
    await h?.close();
  });

  it('goes degraded, then expired on time, then recovers by itself (transient failures outlasting the TTL)', async (t) => {
    const spec = agentSpec('transient', { sessionTtl: '1h' });
    const t0 = await now(h);
    const outageEnds = t0 + 2 * HOUR; // the refresh is due at ~40 min, the sigs expire at 60 min
    h.fake.behaviour = (call, fake) => {
      if (call.request.generation > 1 && call.at < outageEnds) throw transientError('NotEnoughNodes');
      return fake.sigsFor(call);
    };
    const handle = await startAgent(h, spec);
    await h.env.sleep(50 * MINUTE);

    const degraded = await handle.query(currentSessionSigsQuery);
    assert.equal(degraded.state, 'degraded');
    assert.equal(degraded.generation, 1);
    assert.ok(degraded.sessionSigs, 'the current sigs keep being served while valid');
    assert.equal(degraded.lastError?.type, 'NotEnoughNodes');
    assert.ok(degraded.lastError!.attempts >= 3);
    assert.ok(
      Date.parse(degraded.refreshAt!) > Date.parse(degraded.lastError!.at),
      'refreshAt is the next retry',
    );
    assert.deepEqual(await searchAttributes(handle), { state: 'degraded', generation: 1 });

    const expiresAt = Date.parse(degraded.expiresAt!);
    await h.env.sleep(expiresAt + 1_000 - (await now(h)));
    const expired = await handle.query(currentSessionSigsQuery);
    assert.equal(expired.state, 'expired');
    assert.equal(expired.sessionSigs, null, 'expired sigs are not handed out');
    assert.deepEqual(await searchAttributes(handle), { state: 'expired', generation: 1 });

    await h.env.sleep(outageEnds + 6 * MINUTE - (await now(h)));
    const recovered = await handle.query(currentSessionSigsQuery);
    assert.equal(recovered.state, 'fresh');
    assert.equal(recovered.generation, 2);
    assert.equal(recovered.lastError, undefined, 'recovery clears lastError');
    assert.ok(recovered.sessionSigs);
    assert.deepEqual(await searchAttributes(handle), { state: 'fresh', generation: 2 });

    // The backoff: each wait inside its jitter band, capped at 5 min; the retry plan survived the
    // extra wake-up at expiry unchanged.
    const calls = h.fake.callsFor(handle.workflowId);
    const failures = calls.filter((c) => c.outcome === 'error');
    for (let n = 1; n < calls.length - 1; n++) {
      if (calls[n].outcome !== 'error') continue;
      const gap = calls[n + 1].at - calls[n].at;
      const base = Math.min(DEFAULT_BACKOFF.maxMs, DEFAULT_BACKOFF.initialMs * 2 ** (n - 1));
      assert.ok(
        gap >= base * (1 - DEFAULT_BACKOFF.jitter) - 1 && gap <= base + SLACK_MS,
        `retry ${n}: waited ${gap} ms, base ${base} ms`,
      );
    }
    // ~80 min of outage: 9 ramping retries and then one every 4-5 min, nowhere near a hot loop.
    assert.ok(failures.length >= 15 && failures.length <= 30, `${failures.length} failed attempts`);
    t.diagnostic(
      `${failures.length} failed attempts over the 80 min outage; waits ${calls
        .slice(1)
        .map((c, i) => Math.round((c.at - calls[i].at) / 1000))
        .join(', ')} s`,
    );

    // The state flipped to expired at expiry itself, not at the next retry.
    const events = (await handle.fetchHistory()).events ?? [];
    const upserts = events.filter(
      (e) => e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
    );
    const expiredUpsert = upserts.find((e) => {
      const payload =
        e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.LitSessionState;
      return payload?.data && Buffer.from(payload.data).toString() === '"expired"';
    });
    assert.ok(expiredUpsert, 'an upsert to expired');
    const flippedAt =
      Number(expiredUpsert.eventTime!.seconds) * 1000 + (expiredUpsert.eventTime!.nanos ?? 0) / 1e6;
    assert.ok(
      flippedAt >= expiresAt && flippedAt - expiresAt < SLACK_MS,
      `flipped ${flippedAt - expiresAt} ms late`,
    );
    t.diagnostic(`state flipped to expired ${Math.round(flippedAt - expiresAt)} ms after expiry`);
    // One upsert per state change and per mint: fresh(1) degraded expired fresh(2).
    assert.equal(upserts.length, 4);

    h.fake.reset();
    await handle.signal(stopSignal);
    await handle.result();
  });

  it('a single transient failure degrades, never fails, and the retry recovers within seconds', async () => {
    const spec = agentSpec('blip');
    h.fake.behaviour = (call, fake) => {
      if (call.request.generation === 2 && h.fake.callsFor(call.workflowId).length === 2) {
        throw transientError('NodeTimeout');
      }
      return fake.sigsFor(call);
    };
    const handle = await startAgent(h, spec);
    await h.env.sleep(18 * HOUR);
    const calls = h.fake.callsFor(handle.workflowId);
    assert.equal(calls.length, 3);
    assert.equal(calls[1].outcome, 'error');
    assert.ok(calls[2].at - calls[1].at <= DEFAULT_BACKOFF.initialMs + SLACK_MS);
    const status = await handle.query(currentSessionSigsQuery);
    assert.equal(status.state, 'fresh');
    assert.equal(status.generation, 2);
    h.fake.reset();
    await handle.signal(stopSignal);
    await handle.result();
  });

  it('parks in failed on a permanent error without retrying, and recovers on rotate', async () => {
    const spec = agentSpec('permanent');
    let broken = true;
    h.fake.behaviour = (call, fake) => {
      if (call.request.generation > 1 && broken) throw permanentError('NodePKPNotAuthorized');
      return fake.sigsFor(call);
    };
    const handle = await startAgent(h, spec);
    await h.env.sleep(18 * HOUR); // the refresh at 14.4-17.6 h fails permanently

    const failed = await handle.query(currentSessionSigsQuery);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.lastError?.type, 'NodePKPNotAuthorized');
    assert.equal(failed.lastError?.attempts, 1);
    assert.equal(failed.refreshAt, null, 'no retry planned');
    assert.ok(failed.sessionSigs, 'still valid sigs are still served');
    assert.equal((await searchAttributes(handle)).state, 'failed');

    await h.env.sleep(10 * DAY);
    assert.equal(h.fake.callsFor(handle.workflowId).length, 2, 'no retries in 10 days: no hot loop');
    const stale = await handle.query(currentSessionSigsQuery);
    assert.equal(stale.state, 'failed');
    assert.equal(stale.sessionSigs, null, 'the sigs expired meanwhile');

    // Still broken: rotateNow tries once and reports the permanent error to the caller.
    await assert.rejects(rotateNow(handle, { reason: 'try' }), (err: any) => {
      assert.equal(err.cause?.type, 'NodePKPNotAuthorized');
      return true;
    });
    assert.equal(h.fake.callsFor(handle.workflowId).length, 3);
    assert.equal((await handle.query(currentSessionSigsQuery)).lastError?.attempts, 2);

    // The operator fixes the cause and rotates.
    broken = false;
    await handle.signal(rotateSignal, { reason: 'pkp authorized' });
    await h.env.sleep(MINUTE);
    const recovered = await handle.query(currentSessionSigsQuery);
    assert.equal(recovered.state, 'fresh');
    assert.equal(recovered.generation, 2);
    assert.equal(recovered.lastError, undefined);
    assert.deepEqual(await searchAttributes(handle), { state: 'fresh', generation: 2 });

    // And the normal schedule resumes.
    await h.env.sleep(18 * HOUR);
    assert.equal((await handle.query(currentSessionSigsQuery)).generation, 3);
    h.fake.reset();
    await handle.signal(stopSignal);
    await handle.result();
  });

  it('a key quoted in a failure message never reaches lastError (status, query, agent status)', async () => {
    const spec = agentSpec('quoted-key');
    const key = 'ab'.repeat(32);
    h.fake.behaviour = (call, fake) => {
      if (call.request.generation === 1) return fake.sigsFor(call);
      throw ApplicationFailure.create({
        type: 'InvalidSigner',
        message: `signer env:${key}: environment variable ${key} is not set on this worker`,
        nonRetryable: true,
      });
    };
    const handle = await startAgent(h, spec);
    await h.env.sleep(18 * HOUR);
    const failed = await handle.query(currentSessionSigsQuery);
    assert.equal(failed.state, 'failed');
    assert.equal(
      failed.lastError?.message,
      'signer env:[redacted]: environment variable [redacted] is not set on this worker',
    );
    h.fake.reset();
    await handle.signal(stopSignal);
    await handle.result();
  });
});
