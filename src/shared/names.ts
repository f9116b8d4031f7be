/**
 * Public names: the CLI, the client library, the Temporal CLI and the Web UI all use these.
 * Changing one is a breaking change for every deployed fleet.
 */
export const WORKFLOW_TYPE = 'sessionRefreshWorkflow';
export const DEFAULT_TASK_QUEUE = 'lit-session-refresh';
export const WORKFLOW_ID_PREFIX = 'lit-session/';

export function workflowIdFor(agentId: string): string {
  return `${WORKFLOW_ID_PREFIX}${agentId}`;
}

export function agentIdFromWorkflowId(workflowId: string): string | undefined {
  return workflowId.startsWith(WORKFLOW_ID_PREFIX) ? workflowId.slice(WORKFLOW_ID_PREFIX.length) : undefined;
}
