/**
 * The bounds on every network call of a mint (issue 17, items 4 and 5), as plain numbers so the
 * worker's configuration can name its defaults without loading the network code. Each says why it
 * has the value it has; the code that applies them is in network-bounds.ts.
 */

/**
 * One JSON-RPC request to the chain (the Staking reads of `connect()`, the epoch poller). A healthy
 * RPC answers these in well under a second; 10 s tolerates a slow public RPC, and two reads still
 * fit in the connect deadline below.
 */
export const DEFAULT_RPC_TIMEOUT_MS = 10_000;
/**
 * The largest JSON-RPC answer read: `getActiveUnkickedValidatorStructsAndCounts` is about 1 KB per
 * validator and the epoch poller's `eth_getLogs` for one event a few KB; 4 MiB is ample for any
 * validator set and bounds what one answer can cost in memory.
 */
export const RPC_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/**
 * A whole `connect()`: two RPC reads plus one handshake round (5 s by default), with margin for a
 * slow RPC. Well under the mint activity's 2-minute start-to-close, so a retry fits after it.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
/**
 * The largest answer read from a Lit node: a handshake with its attestation is about 10 KB, a
 * signature share about 1 KB, a Lit Action's response and logs more; 4 MiB bounds it all.
 */
export const NODE_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/**
 * The block indexer answers `{blockhash, timestamp}`, under 200 bytes; 64 KiB leaves room for a
 * verbose indexer and stops one that streams without end at once.
 */
export const INDEXER_MAX_RESPONSE_BYTES = 64 * 1024;
/**
 * How long disposing a client (or closing the pool at shutdown) waits for a connect still running
 * before it disconnects anyway: the connect's requests are aborted first, so it settles at once
 * unless the SDK is stuck in something we cannot abort.
 */
export const DISPOSE_TIMEOUT_MS = 5_000;
