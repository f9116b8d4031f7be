/** Shapes shared by the devnet's programmatic API, admin API and CLI. */
import type { ChainFaults, FaultSpec } from './faults';
import type { NodeStats } from './node-server';
import type { PkpInfo, PkpRecord } from './pkp-registry';

/** What `npx session-keeper devnet` prints (one JSON line) and `startDevnet` returns. */
export interface DevnetInfo {
  rpcUrl: string;
  stakingAddress: string;
  /** Full URL of the block indexer endpoint (the value for the SDK's `_blockHashUrl`). */
  blockIndexerUrl: string;
  /** URLs of the nodes in the current validator set. */
  nodeUrls: string[];
  /** Hex of the network's BLS public key (48-byte compressed G1 point). */
  networkPublicKey: string;
  adminUrl: string;
}

export interface EpochChange {
  epoch: number;
  /** Node URLs of the new validator set. */
  nodeUrls: string[];
  addedNodeUrl?: string;
  droppedNodeUrl?: string;
  /** The block carrying the `StateChanged` events. */
  blockNumber: number;
}

export interface DevnetStats {
  epoch: number;
  threshold: number;
  blockNumber: number;
  nodeUrls: string[];
  chainFaults: ChainFaults;
  nodes: NodeStats[];
  totals: { requests: Record<string, number>; successes: Record<string, number> };
  blockIndexerRequests: number;
  rpc: Record<string, number>;
}

/** What the admin API drives. */
export interface DevnetControl {
  info(): DevnetInfo;
  stats(): DevnetStats;
  mintPkp(permittedAddresses: string[]): PkpInfo;
  /** Stores Lit Action code by its IPFS CID (the devnet's content store for `executeJs({ ipfsId })`). */
  addLitAction(code: string): { ipfsId: string };
  /** Lets the Lit Action `ipfsId` authorise sessions of the PKP (or, with `permitted` false, no longer). */
  setPkpAction(publicKey: string, ipfsId: string, permitted: boolean): PkpRecord;
  setFault(node: number, fault: FaultSpec): Promise<void>;
  setChainFaults(faults: ChainFaults): void;
  advanceEpoch(opts: { dropNode?: number; addNode?: boolean }): Promise<EpochChange>;
  /** Runs the nodes' clock `offsetMs` ahead of the host's (negative: behind; 0 resets it). */
  setClockOffset(offsetMs: number): { offsetMs: number };
}

/** A request the devnet refuses because of its arguments (the admin API answers 400). */
export class DevnetUsageError extends Error {}
