/**
 * Replays the recorded histories in test/histories/ against the current workflow code. A change
 * that would break running workflows (a different command sequence for the same events) fails
 * here. Regenerate the histories with `node --import tsx test/histories/record.ts` only for a
 * compatible change; see that script.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { historyFromJson } from '../histories/history-json';
import { bundleWorkflows, installQuietRuntime } from './session-refresh.fixtures';

const HISTORY_DIR = path.resolve(__dirname, '../histories');
const EXPECTED = [
  'refresh-cycle',
  'rotate',
  'failure-recovery',
  'continue-as-new-run1',
  'continue-as-new-run2',
  'agent-held',
];

function load(name: string): temporal.api.history.v1.IHistory {
  return historyFromJson(fs.readFileSync(path.join(HISTORY_DIR, `${name}.json`), 'utf8'));
}

const EventType = temporal.api.enums.v1.EventType;

function eventTypes(history: temporal.api.history.v1.IHistory): Set<temporal.api.enums.v1.EventType> {
  return new Set((history.events ?? []).map((e) => e.eventType!));
}

describe('sessionRefreshWorkflow replay', () => {
  let workflowBundle: WorkflowBundleWithSourceMap;
  before(async () => {
    installQuietRuntime();
    workflowBundle = await bundleWorkflows();
  });

  it('has the recorded scenarios, each covering what it is named after', () => {
    const files = fs.readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.json'));
    for (const name of EXPECTED) assert.ok(files.includes(`${name}.json`), `${name}.json is missing`);
    const has = (name: string, type: keyof typeof EventType) =>
      assert.ok(eventTypes(load(name)).has(EventType[type]), `${name} has ${type}`);
    has('refresh-cycle', 'EVENT_TYPE_TIMER_FIRED');
    has('rotate', 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED');
    has('rotate', 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
    has('failure-recovery', 'EVENT_TYPE_ACTIVITY_TASK_FAILED');
    has('continue-as-new-run1', 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    has('continue-as-new-run2', 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED');
    has('agent-held', 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED');
  });

  it('replays every recorded history without a determinism error', async () => {
    const files = fs.readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.json'));
    const histories = files.map((f) => ({
      workflowId: f.replace(/\.json$/, ''),
      history: load(f.replace(/\.json$/, '')),
    }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error}`);
    }
    assert.equal(replayed, files.length);
    assert.deepEqual(failures, []);
  });

  it('would catch a determinism break (control: a tampered history fails)', async () => {
    const history = load('refresh-cycle');
    const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes)!;
    scheduled.activityTaskScheduledEventAttributes!.activityType = { name: 'someOtherActivity' };
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle }, history, 'tampered'),
      (err: unknown) => err instanceof DeterminismViolationError,
    );
  });
});
