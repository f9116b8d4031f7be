/**
 * Turns a network name into what the Lit client pool needs: built-in networks use the SDK's own
 * configuration; custom ones (a devnet, a private network) use `litNetwork: 'custom'` with the
 * Staking contract found at the configured RPC. The Staking ABI that has
 * `getActiveUnkickedValidatorStructsAndCounts` ships in `@lit-protocol/contracts`.
 */
import type { LitNodeClientConfig } from '@lit-protocol/types';
import { BUILT_IN_NETWORKS } from '../shared/agent-spec';
import type { CustomNetworkConfig, NetworkConfig } from '../shared/network-config';
import { TypedActivityError } from './error-classification';
import type { LitNetworkTarget } from './lit-client-pool';

export const LIT_BLOCK_INDEXER_URL = 'https://block-indexer.litgateway.com/get_most_recent_valid_block';

// The package only exposes its JSON through `exports`, which this TS module resolution ignores.
// the JSON's types are loose.
const datilDev: any = require('@lit-protocol/contracts/prod/datil-dev.json');
// the JSON's types are loose.
export const STAKING_ABI: any[] = datilDev.data.find((c: { name: string }) => c.name === 'Staking')
  .contracts[0].ABI;

/** The `LitNodeClient` constructor config for a custom network; one place, used by every caller. */
export function customNetworkClientConfig(network: CustomNetworkConfig): LitNodeClientConfig {
  return {
    litNetwork: 'custom',
    rpcUrl: network.rpcUrl,
    debug: false,
    checkNodeAttestation: false,
    // the SDK types contractContext as a union of shapes.
    contractContext: { Staking: { address: network.stakingAddress, abi: STAKING_ABI } } as any,
    ...(network.minNodeCount ? { minNodeCount: network.minNodeCount } : {}),
  } as LitNodeClientConfig;
}

export function resolveNetworkTarget(name: string, config: NetworkConfig): LitNetworkTarget {
  const custom = config.custom[name];
  if (custom) {
    return { name, clientConfig: customNetworkClientConfig(custom), blockIndexerUrl: custom.blockIndexerUrl };
  }
  if ((BUILT_IN_NETWORKS as readonly string[]).includes(name)) {
    return {
      name,
      clientConfig: { litNetwork: name, debug: false } as LitNodeClientConfig,
      blockIndexerUrl: LIT_BLOCK_INDEXER_URL,
    };
  }
  throw new TypedActivityError(
    'UnknownNetwork',
    `network "${name}" is not configured on this worker; add it to LIT_NETWORKS_FILE (built-in: ${BUILT_IN_NETWORKS.join(', ')})`,
  );
}
