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
  const [workflow, activity] = await Promise.all(
    kinds.map(async (taskQueueType) => {
      const res = await workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
        taskQueueType,
      });
      return new Set((res.pollers ?? []).map((p) => p.identity ?? ''));
    }),
  );
  return new Set([...workflow].filter((id) => activity.has(id)));
}
