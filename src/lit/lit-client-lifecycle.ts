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
 * How long disposal waits for a connect already running. The pool aborts that connect's requests
 * before disposing, so it settles at once; a connect stuck where nothing can abort it (an RPC that
 * never answers, on a client without bounded requests) must not hold the disposal, and with it a
 * worker's shutdown: the client cannot reconnect or listen once disposed, whenever that connect ends.
 */
export const DISPOSE_CONNECT_WAIT_MS = 5_000;

/**
 * Disconnects a client that will never be used again: its own reconnect is disabled first, then a
 * connect already running is awaited (at most `waitMs`), then every Staking contract it listened on
 * is silenced.
 */
export async function disposeLitClient(
  client: LitNodeClientNodeJs,
  waitMs: number = DISPOSE_CONNECT_WAIT_MS,
): Promise<void> {
  const sdk = client as any;
  sdk.connect = async () => undefined;
  sdk._listenForNewEpoch = () => undefined;
  const connecting: Promise<unknown> | undefined = sdk._connectingPromise?.catch?.(() => undefined);
  if (connecting) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([connecting, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    // A connect that ends after this would arm a new epoch listener on its Staking contract.
    void connecting.then(() => silenceStakingContracts(client));
  }
  await client.disconnect().catch(() => undefined);
  silenceStakingContracts(client);
}

function silenceStakingContracts(client: LitNodeClientNodeJs): void {
  const sdk = client as any;
  const contracts = stakingContractsOf.get(client) ?? new Set<StakingContract>();
  if (sdk._stakingContract) contracts.add(sdk._stakingContract);
  for (const contract of contracts) contract.removeAllListeners();
  contracts.clear();
}
