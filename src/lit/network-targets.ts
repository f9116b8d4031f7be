/**
 * Turns a network name into what the Lit client pool needs: built-in networks use the SDK's own
 * configuration; custom ones (a devnet, a private network) go through `litNodeClientConfigFor`,
 * the one place that knows how to point the stock SDK at a custom network.
 */
import type { LitNodeClientConfig } from '@lit-protocol/types';
import { litNodeClientConfigFor } from '../lit/custom-network';
import { BUILT_IN_NETWORKS } from '../shared/agent-spec';
import type { NetworkConfig } from '../shared/network-config';
import { TypedActivityError } from './error-classification';
import type { LitNetworkTarget } from './lit-client-pool';

export const LIT_BLOCK_INDEXER_URL = 'https://block-indexer.litgateway.com/get_most_recent_valid_block';

export function resolveNetworkTarget(name: string, config: NetworkConfig): LitNetworkTarget {
  const custom = config.custom[name];
  if (custom) {
    const setup = litNodeClientConfigFor(custom);
    return {
      name,
      clientConfig: setup.config,
      blockIndexerUrl: setup.blockIndexerUrl,
      prepare: (client) => setup.applyTo(client),
    };
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
