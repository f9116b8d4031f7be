import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  RetryState,
  TimeoutFailure,
} from '@temporalio/common';
import { PERMANENT_ERROR_TYPES, TRANSIENT_ERROR_TYPES } from '../../src/shared/activity-contract';
import { classifyMintFailure, type MintFailureKind } from '../../src/workflows/mint-failure';

/** What the workflow sees when the activity fails: an ActivityFailure wrapping the cause. */
function fromActivity(cause: Error): ActivityFailure {
  return new ActivityFailure(
    'Activity task failed',
    'mintSessionSigs',
    '1',
    RetryState.MAXIMUM_ATTEMPTS_REACHED,
    'worker@host',
    cause,
  );
}
const app = (type: string | null, nonRetryable: boolean) =>
  ApplicationFailure.create({ type: type ?? undefined, message: `boom ${type}`, nonRetryable });

describe('classifyMintFailure', () => {
  const cases: { name: string; err: unknown; kind: MintFailureKind; type: string }[] = [
    {
      name: 'permanent type, nonRetryable',
      err: fromActivity(app('NodePKPNotAuthorized', true)),
      kind: 'permanent',
      type: 'NodePKPNotAuthorized',
    },
    {
      name: 'permanent type without the flag: still permanent',
      err: fromActivity(app('InvalidSigner', false)),
      kind: 'permanent',
      type: 'InvalidSigner',
    },
    {
      name: 'transient type',
      err: fromActivity(app('NotEnoughNodes', false)),
      kind: 'transient',
      type: 'NotEnoughNodes',
    },
    {
      name: 'transient type flagged nonRetryable: the list wins',
      err: fromActivity(app('NodeTimeout', true)),
      kind: 'transient',
      type: 'NodeTimeout',
    },
    {
      name: 'unknown type, nonRetryable: permanent',
      err: fromActivity(app('SomethingNew', true)),
      kind: 'permanent',
      type: 'SomethingNew',
    },
    {
      name: 'unknown type, retryable: transient',
      err: fromActivity(app('SomethingNew', false)),
      kind: 'transient',
      type: 'SomethingNew',
    },
    {
      name: 'no type: Unknown, transient',
      err: fromActivity(app(null, false)),
      kind: 'transient',
      type: 'Unknown',
    },
    {
      name: 'bare ApplicationFailure (not wrapped)',
      err: app('NodeBadInput', true),
      kind: 'permanent',
      type: 'NodeBadInput',
    },
    {
      name: 'start-to-close timeout',
      err: fromActivity(new TimeoutFailure('timed out', undefined, 'START_TO_CLOSE')),
      kind: 'transient',
      type: 'ActivityTimeout',
    },
    {
      name: 'schedule-to-close timeout (no worker)',
      err: fromActivity(new TimeoutFailure('timed out', undefined, 'SCHEDULE_TO_CLOSE')),
      kind: 'transient',
      type: 'ActivityTimeout',
    },
    {
      name: 'cancelled',
      err: fromActivity(new CancelledFailure('cancelled')),
      kind: 'cancelled',
      type: 'Cancelled',
    },
    {
      name: 'bare CancelledFailure',
      err: new CancelledFailure('cancelled'),
      kind: 'cancelled',
      type: 'Cancelled',
    },
    { name: 'plain Error', err: new TypeError('x is undefined'), kind: 'transient', type: 'TypeError' },
    { name: 'not an error at all', err: 'weird', kind: 'transient', type: 'Unknown' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = classifyMintFailure(c.err);
      assert.equal(f.kind, c.kind);
      assert.equal(f.type, c.type);
      assert.ok(f.message.length > 0);
    });
  }

  it('uses the cause message, not "Activity task failed"', () => {
    assert.equal(classifyMintFailure(fromActivity(app('NodeRpcError', false))).message, 'boom NodeRpcError');
  });

  it('every listed type classifies as listed, with or without the flag', () => {
    for (const type of PERMANENT_ERROR_TYPES) {
      for (const flag of [true, false])
        assert.equal(classifyMintFailure(fromActivity(app(type, flag))).kind, 'permanent');
    }
    for (const type of TRANSIENT_ERROR_TYPES) {
      for (const flag of [true, false])
        assert.equal(classifyMintFailure(fromActivity(app(type, flag))).kind, 'transient');
    }
  });
});
