/**
 * What a Lit endpoint sees of the node that serves it. node-server.ts owns the transport (HTTP
 * routing, fault injection, counters) and hands each request to one endpoint file of this folder
 * with the node's context: its identity and key share, its clock, and the devnet's shared state.
 */
import type { BlockClock } from '../block-clock';
import type { BlsKeyShare } from '../bls-threshold';
import type { BlockhashAdvertiser } from '../faults';
import type { LitActionPool } from '../lit-action-runner';
import type { DevnetLogger } from '../logger';
import type { PkpRegistry } from '../pkp-registry';

/** Time limit of one Lit Action run unless the devnet sets another. */
export const DEFAULT_LIT_ACTION_TIMEOUT_MS = 2000;

export interface LitNodeDeps {
  /** Stable 0-based id of the node within the devnet. */
  index: number;
  /** The node's on-chain identity (`nodeAddress` of its validator struct). */
  chainAddress: string;
  share: BlsKeyShare;
  clock: BlockClock;
  advertiser: BlockhashAdvertiser;
  pkps: PkpRegistry;
  hdRootPubkeys: string[];
  currentEpoch: () => number;
  /** Indices of the nodes that deal ECDSA shares (the validator set); defaults to this node alone. */
  signingParticipants?: () => number[];
  now?: () => number;
  logger?: DevnetLogger;
  /** The chain's JSON-RPC URL, what a Lit Action's `getRpcUrl` answers (any chain name). */
  rpcUrl?: () => string | undefined;
  /** The code stored under an IPFS id, for `executeJs` by `ipfsId` (the devnet's content store). */
  litActionCode?: (ipfsId: string) => string | undefined;
  /** Time limit of one Lit Action run, ms (default DEFAULT_LIT_ACTION_TIMEOUT_MS). */
  litActionTimeoutMs?: number;
  /** The worker pool Lit Actions run in (memory limit, workers; default: the process-wide pool). */
  litActionPool?: LitActionPool;
  /**
   * Threshold-many shares of the network key (the devnet's validator set), what a Lit Action's
   * `decryptAndCombine` collects from the network; without it only this node's share is used.
   */
  networkShares?: () => BlsKeyShare[];
}

/** The node an endpoint answers for. */
export interface NodeContext {
  readonly index: number;
  readonly chainAddress: string;
  readonly share: BlsKeyShare;
  /** `host:port`, what session sigs must name as `nodeAddress`. */
  readonly hostPort: string;
  /** The node's communication key, reported in handshakes. */
  readonly serverPublicKey: string;
  readonly deps: LitNodeDeps;
  /** The node's clock (the host's, plus the devnet's clock offset). */
  now(): number;
}
