/**
 * The devnet's front door: a local Lit network ("devnet") the stock Lit SDK connects to with
 * litNetwork `custom` — a chain JSON-RPC endpoint with the Staking contract, a block indexer, N
 * nodes holding shares of a BLS threshold key, a PKP registry and an admin API, plus fault
 * injection for chaos tests. Everything outside src/devnet imports it from here
 * (`npm run lint:structure` checks it for src, bench and deploy).
 *
 * Where things are: the `Devnet` class and `startDevnet` in devnet.ts, its options and their
 * resolver in devnet-options.ts, one node's transport (routing, faults, counters) in
 * node-server.ts and each Lit endpoint in endpoints/, the Lit Action runtime in
 * lit-action-runner.ts (pool) and lit-action-worker.ts (the worker's program).
 */
export type { CustomNetworkConfig, LitClientSetup } from '../lit/custom-network';
export { litNodeClientConfigFor } from '../lit/custom-network';
export type { Block } from './block-clock';
export { DEVNET_STAKING_ADDRESS, Devnet, type DevnetEvents, startDevnet } from './devnet';
export {
  DEFAULT_BLOCK_TIME_MS,
  DEFAULT_CHAIN_ID,
  DEFAULT_NETWORK_NAME,
  DEFAULT_NODES,
  defaultThreshold,
  type ResolvedDevnetOptions,
  resolveDevnetOptions,
  type StartDevnetOptions,
} from './devnet-options';
export { DEFAULT_LIT_ACTION_TIMEOUT_MS } from './endpoints/node-context';
export type { ChainFaults, FaultMode, FaultSpec, NodeEndpoint } from './faults';
export { DEFAULT_LIT_ACTION_MEMORY_MB, ipfsCidOf } from './lit-action-runner';
export { litErrorCodeOf } from './lit-errors';
export type { NodeRequestEvent, NodeResponseEvent, NodeStats, SessionSignedEvent } from './node-server';
export type { PkpInfo, PkpRecord } from './pkp-registry';
export { type DevnetState, DevnetStateError, loadDevnetState } from './state-file';
export type { DevnetInfo, DevnetStats, EpochChange } from './types';
