/** The client library: everything an operator tool or an agent process needs. */

export {
  AgentSessionSigner,
  type AgentSessionSignerOptions,
  type AgentSessionSigsResult,
  type CapabilityStatus,
  type CapabilityView,
  type ConnectedLitClient,
  capabilityView,
  DEFAULT_MIN_SESSION_SIG_VALIDITY_MS,
  DEFAULT_SESSION_SIG_TTL_MS,
  decideCapability,
  sigsStillServe,
} from './agent-session-signer';
export {
  AgentNotFoundError,
  AgentNotRunningError,
  AgentSpecConflictError,
  FleetRotationError,
  InvalidQueryError,
  NamespaceNotFoundError,
  OperationTimeoutError,
  SearchAttributesMissingError,
  SessionKeeperError,
  SessionSigsUnavailableError,
  TemporalUnreachableError,
} from './errors';
export {
  describeFleetRotation,
  type FleetRotationOptions,
  type FleetRotationProgress,
  type FleetRotationResult,
  startFleetRotation,
  type WaitForFleetRotationOptions,
  waitForFleetRotation,
} from './fleet-rotation';
export {
  type AgentStatus,
  type AgentSummary,
  type BulkStartItem,
  createKeeperClient,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_QUERY_TIMEOUT_MS,
  type FleetRotationStart,
  type KeeperClientOptions,
  type ListAgentsOptions,
  type RotateFleetOptions,
  type RotateOptions,
  type RotateResult,
  SessionKeeperClient,
  type StartAgentOptions,
  type StartAgentResult,
  type StartOutcome,
  type StopAgentOptions,
  specDifferences,
} from './keeper-client';
export {
  planSearchAttributes,
  registerSearchAttributes,
  type SearchAttributeSetupRow,
} from './search-attributes-setup';
export {
  capabilityFor,
  grantsCover,
  recapGrants,
  requestsGranted,
  sdkResourceRequests,
  sessionKeyUri,
  sessionSigExpiry,
  sessionSigMessage,
  siweFields,
  type VerifiedCapability,
  verifyCapability,
} from './session-capability';
export {
  readSessionKeyFile,
  readSessionPublicKey,
  SessionKeyFileError,
  type SessionKeyPair,
  writeNewSessionKeyFile,
} from './session-key-file';
export {
  type CachedSigs,
  DEFAULT_MIN_VALIDITY_MS,
  DEFAULT_SIGS_POLL_INTERVAL_MS,
  DEFAULT_SIGS_WAIT_TIMEOUT_MS,
  decideSessionSigs,
  type FetchedStatus,
  type SessionSigsResult,
  SessionSigsSource,
  type SessionSigsSourceOptions,
  type SigsDecision,
  type SigsDecisionInput,
  type StatusFetcher,
  validFor,
} from './session-sigs-source';
export { validateAgentSpec, validateAgentSpecs } from './validate';
export { agentsQuery, type PublishedSession, publishedSession, statusFromPublished } from './visibility';
