/**
 * lit-session-keeper's package entry: the client library and the shared types.
 *
 *   import { createKeeperClient } from 'lit-session-keeper';
 *   const keeper = await createKeeperClient();
 *   const source = keeper.sessionSigsSource('agent-1', { minValidityMs: 5 * 60_000 });
 *   await litNodeClient.decrypt({ ...params, sessionSigs: await source.get() });
 */
export * from './client';
export {
  AgentSpecError,
  type AgentSpecInput,
  BUILT_IN_NETWORKS,
  MAX_SESSION_TTL_MS,
  MIN_SESSION_TTL_MS,
  parseAgentSpec,
  parseDuration,
  sameSpec,
} from './shared/agent-spec';
export { currentSessionSigsQuery, rotateNowUpdate, rotateSignal, stopSignal } from './shared/messages';
export { DEFAULT_TASK_QUEUE, WORKFLOW_ID_PREFIX, WORKFLOW_TYPE, workflowIdFor } from './shared/names';
export {
  type CustomNetworkConfig,
  loadNetworkConfig,
  type NetworkConfig,
  NetworkConfigError,
} from './shared/network-config';
export {
  LitAgentId,
  LitNetwork,
  LitSessionExpiresAt,
  LitSessionGeneration,
  LitSessionState,
  SEARCH_ATTRIBUTE_TYPES,
} from './shared/search-attributes';
export type * from './shared/types';
export {
  ConnectionConfigError,
  type ConnectionFlags,
  parseConnectionConfig,
  resolveConnectionConfig,
  type TemporalConnectionConfig,
  toConnectionOptions,
} from './temporal/connection-config';
