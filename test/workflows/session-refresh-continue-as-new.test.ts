/**
 * sessionRefreshWorkflow continues-as-new after `maxMintsPerRun` attempts, handing over the sigs,
 * the generation, the retry streak and any rotation that arrived but was not done yet.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { currentSessionSigsQuery, rotateSignal, stopSignal } from '../../src/shared/messages';
import { LitSessionGeneration, LitSessionState } from '../../src/shared/search-attributes';
import type { SessionRefreshInput } from '../../src/shared/types';
import { DEFAULT_BACKOFF } from '../../src/workflows/backoff';
import {
  agentSpec,
  type Harness,
  HOUR,
  now,
  startAgent,
  startHarness,
  transientError,
} from './session-refresh.fixtures';

const EventType = temporal.api.enums.v1.EventType;
const SLACK_MS = 2_000;

describe('sessionRefreshWorkflow continue-as-new', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('session-refresh-can');
  });
  after(async () => {
    await h?.close();
  });

  /** The input and the closing event of one run. */
  async function run(workflowId: string, runId: string) {
    const events = (await h.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    const started = events[0].workflowExecutionStartedEventAttributes!;
    const input = defaultPayloadConverter.fromPayload<SessionRefreshInput>(started.input!.payloads![0]);
    return { input, last: events.at(-1)!, events };
  }

  it('hands fresh sigs and the generation to the next run, which does not mint again early', async () => {
    const spec = agentSpec('can-fresh');
    const handle = await startAgent(h, spec, { maxMintsPerRun: 2 });
    await h.env.sleep(18 * HOUR); // mint 1 at start, mint 2 at ~16 h, then continue-as-new
    const beforeCan = h.fake.callsFor(handle.workflowId);
    assert.equal(beforeCan.length, 2);

    const latest = await handle.describe();
    assert.notEqual(latest.runId, handle.firstExecutionRunId, 'continued as new');
    const first = await run(handle.workflowId, handle.firstExecutionRunId);
    assert.equal(first.last.eventType, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    const second = await run(handle.workflowId, latest.runId);
    assert.equal(second.input.carried?.generation, 2);
    assert.equal(second.input.carried?.state, 'fresh');
    assert.equal(second.input.options?.maxMintsPerRun, 2, 'options are kept');
    assert.equal(second.input.carried?.pendingRotation, undefined);

    const status = await handle.query(currentSessionSigsQuery);
    assert.equal(status.generation, 2);
    assert.equal(status.state, 'fresh');
    assert.equal(Object.values(status.sessionSigs!)[0].signedMessage, `can-fresh#2@${beforeCan[1].at}`);
    assert.equal(latest.typedSearchAttributes.get(LitSessionGeneration), 2, 'search attributes carried over');
    assert.equal(latest.typedSearchAttributes.get(LitSessionState), 'fresh');
    assert.equal(
      second.events.filter((e) => e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
        .length,
      0,
      'nothing to upsert in the new run until it mints',
    );

    // The new run waits for the carried refresh time, then refreshes as usual.
    await h.env.sleep(Date.parse(status.refreshAt!) + 60_000 - (await now(h)));
    const calls = h.fake.callsFor(handle.workflowId);
    assert.equal(calls.length, 3);
    assert.equal(calls[2].runId, latest.runId);
    assert.ok(Math.abs(calls[2].at - Date.parse(status.refreshAt!)) < SLACK_MS);
    assert.equal((await handle.query(currentSessionSigsQuery)).generation, 3);

    await handle.signal(stopSignal);
    await handle.result();
  });

  it('carries a rotation that arrived during the last mint of a run into the next run', async () => {
    const spec = agentSpec('can-rotate');
    const handle = await startAgent(h, spec, { maxMintsPerRun: 2 });
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
    const skipping = h.env.sleep(18 * HOUR); // time stands still while the gated mint runs
    await h.fake.waitForCalls(base + 1);
    await handle.signal(rotateSignal, { reason: 'validator-set-changed' });
    release();
    await skipping;

    const calls = h.fake.callsFor(handle.workflowId);
    assert.equal(calls.length, 3, 'one follow-up mint, in the new run');
    assert.notEqual(calls[2].runId, calls[1].runId);
    assert.ok(calls[2].at - calls[1].at < SLACK_MS, 'the carried rotation is minted at once');
    const second = await run(handle.workflowId, calls[2].runId);
    assert.equal(second.input.carried?.generation, 2);
    assert.equal(second.input.carried?.pendingRotation?.reason, 'validator-set-changed');
    assert.equal(
      Object.values(second.input.carried!.sessionSigs!)[0].signedMessage,
      `can-rotate#2@${calls[1].at}`,
      'the sigs of the last mint are carried',
    );
    const status = await handle.query(currentSessionSigsQuery);
    assert.equal(status.generation, 3);
    assert.equal(status.state, 'fresh');

    h.fake.reset();
    await handle.signal(stopSignal);
    await handle.result();
  });

  it('keeps the retry streak across runs while degraded', async () => {
    const spec = agentSpec('can-degraded');
    const t0 = await now(h);
    h.fake.behaviour = (call, fake) => {
      if (call.request.generation > 1 && call.at < t0 + 20 * HOUR) throw transientError('NodeSystemFault');
      return fake.sigsFor(call);
    };
    const handle = await startAgent(h, spec, { maxMintsPerRun: 3 });
    await h.env.sleep(21 * HOUR);

    const calls = h.fake.callsFor(handle.workflowId);
    const runs = [...new Set(calls.map((c) => c.runId))];
    assert.ok(runs.length >= 3, `${runs.length} runs`);
    // The waits keep growing across run boundaries: failure n waits about initial * 2^(n-1).
    for (let n = 1; n < calls.length - 1; n++) {
      if (calls[n].outcome !== 'error') continue;
      const gap = calls[n + 1].at - calls[n].at;
      const base = Math.min(DEFAULT_BACKOFF.maxMs, DEFAULT_BACKOFF.initialMs * 2 ** (n - 1));
      assert.ok(
        gap >= base * (1 - DEFAULT_BACKOFF.jitter) - 1 && gap <= base + SLACK_MS,
        `retry ${n}: ${gap} ms`,
      );
    }
    const status = await handle.query(currentSessionSigsQuery);
    assert.equal(status.state, 'fresh');
    assert.equal(status.generation, 2);

    h.fake.reset();
    await handle.signal(stopSignal);
    await handle.result();
  });
});
