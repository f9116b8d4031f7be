/**
 * Which workers serve a task queue right now: the identities polling both its workflow and its
 * activity side (a worker that polls one side only cannot run a refresh). For tests and the local
 * cluster, which wait for a started worker to be really serving before they go on.
 */
import type { WorkflowService } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export async function identitiesPollingBoth(
  workflowService: WorkflowService,
  namespace: string,
  taskQueue: string,
): Promise<Set<string>> {
  const kinds = [
    temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  ];
  // allSettled, not all: when one call fails, the other may be waiting out a retry backoff in the
  // client's retry interceptor, and a caller that closes the connection on our rejection would
  // have that timer fire on a shut-down channel ("Channel has been shut down", thrown from a
  // timer: the process dies). Both calls settle before we answer.
  const [workflow, activity] = await Promise.allSettled(
    kinds.map(async (taskQueueType) => {
      const res = await workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
        taskQueueType,
      });
      return new Set((res.pollers ?? []).map((p) => p.identity ?? ''));
    }),
  );
  if (workflow.status === 'rejected') throw workflow.reason;
  if (activity.status === 'rejected') throw activity.reason;
  return new Set([...workflow.value].filter((id) => activity.value.has(id)));
}
