/**
 * Ending an SDK client's life for good.
 *
 * The SDK follows epoch changes by itself: it listens for the Staking contract's `StateChanged`
 * event (an ethers listener that polls the chain every few seconds) and reconnects when the
 * validator set changes. Two gaps in that make `disconnect()` leave a poller running, which keeps
 * the process alive forever:
 * - after an epoch reconnect the listener stays on the first Staking contract while
 *   `disconnect()` stops the listener of the latest one only;
 * - the epoch handler reads the validator set before it calls `connect()`, so an event that
 *   arrived just before `disconnect()` reconnects the client afterwards and arms a new listener.
 */
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';

type StakingContract = { removeAllListeners(): unknown };

const stakingContractsOf = new WeakMap<object, Set<StakingContract>>();

/** Records every Staking contract the client starts listening on. Call once, before `connect()`. */
export function trackStakingListeners<C extends LitNodeClientNodeJs>(client: C): C {
  if (stakingContractsOf.has(client)) return client;
  const contracts = new Set<StakingContract>();
  stakingContractsOf.set(client, contracts);
  const sdk = client as any;
  if (typeof sdk._listenForNewEpoch !== 'function') return client;
  const listen = sdk._listenForNewEpoch.bind(sdk);
  sdk._listenForNewEpoch = () => {
    // The SDK only attaches a listener when it has none; that listener goes on the current contract.
    if (!sdk._stakingContractListener && sdk._stakingContract) contracts.add(sdk._stakingContract);
    listen();
  };
  return client;
}

/**
 * Disconnects a client that will never be used again: its own reconnect is disabled first, then a
 * connect already running is awaited, then every Staking contract it listened on is silenced.
 */
export async function disposeLitClient(client: LitNodeClientNodeJs): Promise<void> {
  const sdk = client as any;
  sdk.connect = async () => undefined;
  sdk._listenForNewEpoch = () => undefined;
  await sdk._connectingPromise?.catch?.(() => undefined);
  await client.disconnect().catch(() => undefined);
  const contracts = stakingContractsOf.get(client) ?? new Set<StakingContract>();
  if (sdk._stakingContract) contracts.add(sdk._stakingContract);
  for (const contract of contracts) contract.removeAllListeners();
  contracts.clear();
}
