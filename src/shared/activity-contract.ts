/**
 * The contract between the workflow and the activities. The workflow imports only these types
 * (never the activity code, which touches the network and secrets).
 */
import type { MintRequest, MintResult } from './types';

export interface SessionActivities {
  /**
   * Connects (pooled) to the agent's Lit network, fetches the latest blockhash nonce, makes a fresh
   * session key pair and mints session sigs. Throws an `ApplicationFailure` whose `type` is a
   * classified error (see `ERROR_TYPES`); permanent causes are `nonRetryable`.
   */
  mintSessionSigs(req: MintRequest): Promise<MintResult>;
}

/** Error types the activity reports (ApplicationFailure.type). */
export const PERMANENT_ERROR_TYPES = [
  'InvalidSigner', // reference unresolvable, key malformed
  'UnknownNetwork',
  'NodePKPNotAuthorized',
  'NodeInvalidPKPAddress',
  'NodeSIWECapabilityInvalid',
  'NodeAuthFailed',
  'NodeInvalidAuthSig',
  'NodeBadInput',
  'InvalidResource',
] as const;

export const TRANSIENT_ERROR_TYPES = [
  'NotEnoughNodes', // fewer than minNodeCount nodes answered the handshake
  'NodeSystemFault',
  'NodeConcurrencyOverload',
  'NodeRpcError',
  'NodeBlockchainError',
  'NodeBlsWrongEpochError',
  'NodeNotAuthorized',
  'NodeInvalidBlockhash', // needs a new nonce: retry re-fetches it
  'NodeSIWEMessageError',
  'NodeExpWrongOrTooLarge',
  'NodeIatOutsideGracePeriod',
  'StaleBlockhash',
  'NodeTimeout',
  // A Lit Action that decides a PKP's session threw or ran out of time or memory: its inputs (an
  // RPC, a condition) may answer next time; an action that answers "no" is NodeAuthFailed, permanent.
  'NodeJsExecutionError',
  'NodeJsTimeoutError',
  'NodeJsMemoryLimitError',
  'NetworkError',
  'Unknown',
] as const;

export type ActivityErrorType =
  | (typeof PERMANENT_ERROR_TYPES)[number]
  | (typeof TRANSIENT_ERROR_TYPES)[number];
