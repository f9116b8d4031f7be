/**
 * identitiesPollingBoth answers only once both describeTaskQueue calls have settled: a caller
 * closes its connection on the answer, and a call still waiting out a retry backoff would then
 * fire on a shut-down channel and kill the process (seen in `npm run cluster`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { identitiesPollingBoth } from '../../src/temporal/task-queue-pollers';

const { TASK_QUEUE_TYPE_WORKFLOW } = temporal.api.enums.v1.TaskQueueType;

test('one call failing: the answer waits for the other call to settle, then names the failure', async () => {
  let otherSettled = false;
  const workflowService = {
    async describeTaskQueue(req: { taskQueueType: number }) {
      if (req.taskQueueType === TASK_QUEUE_TYPE_WORKFLOW) throw new Error('14 UNAVAILABLE: starting');
      // The other call is still in flight (a retry backoff) when the first one fails.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      otherSettled = true;
      return { pollers: [{ identity: 'w1' }] };
    },
  };
  await assert.rejects(identitiesPollingBoth(workflowService as never, 'default', 'q'), /UNAVAILABLE/);
  assert.ok(otherSettled, 'the rejection came before the other call settled');
});

test('both answer: the identities polling both kinds', async () => {
  const workflowService = {
    async describeTaskQueue(req: { taskQueueType: number }) {
      return {
        pollers:
          req.taskQueueType === TASK_QUEUE_TYPE_WORKFLOW
            ? [{ identity: 'w1' }, { identity: 'w2' }]
            : [{ identity: 'w2' }, { identity: 'w3' }],
      };
    },
  };
  assert.deepEqual([...(await identitiesPollingBoth(workflowService as never, 'default', 'q'))], ['w2']);
});
