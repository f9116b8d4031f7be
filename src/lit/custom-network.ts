/**
 * How to point the stock Lit SDK (`LitNodeClientNodeJs`, 7.4.0) at a custom network such as the
 * devnet: the constructor config (litNetwork `custom`, the chain RPC, the Staking contract with
 * its full ABI) and the one thing the config cannot carry — the block indexer URL, which lives in
 * the client's private field `_blockHashUrl`. Everyone who builds a client for a custom network
 * (tests, activities, the demo) goes through `litNodeClientConfigFor` so this stays in one place.
 */
import type { LitNodeClientConfig } from '@lit-protocol/types';
import type { CustomNetworkConfig } from '../shared/network-config';
import { STAKING_ABI } from './staking-abi';

// Declared once, with the networks file that describes it (src/shared/network-config.ts).
export type { CustomNetworkConfig };

export interface LitClientSetup {
  /** Pass to `new LitNodeClientNodeJs(config)` (or `LitNodeClient`). */
  config: LitNodeClientConfig;
  blockIndexerUrl: string;
  /** Points a constructed client at the network's block indexer; call before `connect()`. Returns the client. */
  applyTo<C extends object>(client: C): C;
}

export type LitClientOverrides = Partial<
  Pick<LitNodeClientConfig, 'connectTimeout' | 'debug' | 'minNodeCount'>
>;

export class LitConfigError extends Error {}

function checkUrl(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new LitConfigError(`${what} must be a URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new LitConfigError(`${what} is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LitConfigError(`${what} must be an http(s) URL, got ${value}`);
  }
  return value;
}

export function litNodeClientConfigFor(
  network: CustomNetworkConfig,
  overrides: LitClientOverrides = {},
): LitClientSetup {
  const rpcUrl = checkUrl(network?.rpcUrl, 'rpcUrl');
  const blockIndexerUrl = checkUrl(network.blockIndexerUrl, 'blockIndexerUrl');
  if (typeof network.stakingAddress !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(network.stakingAddress)) {
    throw new LitConfigError(
      `stakingAddress must be a 0x-prefixed 20-byte hex address, got ${network.stakingAddress}`,
    );
  }
  const minNodeCount = overrides.minNodeCount ?? network.minNodeCount;
  const config = {
    litNetwork: 'custom',
    rpcUrl,
    // Only Staking is needed to find the validators; the SDK's type insists on every contract.
    contractContext: { Staking: { address: network.stakingAddress, abi: STAKING_ABI } },
    checkNodeAttestation: false,
    alertWhenUnauthorized: false,
    debug: overrides.debug ?? false,
    ...(overrides.connectTimeout !== undefined ? { connectTimeout: overrides.connectTimeout } : {}),
    ...(minNodeCount !== undefined ? { minNodeCount } : {}),
  } as unknown as LitNodeClientConfig;

  return {
    config,
    blockIndexerUrl,
    applyTo<C extends object>(client: C): C {
      const target = client as C & { _blockHashUrl?: unknown };
      // Guards against an SDK upgrade renaming the field: silently keeping the public indexer
      // would make every nonce one the custom network never issued.
      if (typeof target._blockHashUrl !== 'string') {
        throw new LitConfigError(
          'this Lit SDK client has no _blockHashUrl field; the SDK version is not supported',
        );
      }
      target._blockHashUrl = blockIndexerUrl;
      return client;
    },
  };
}
