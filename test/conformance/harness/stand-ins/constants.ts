/**
 * Stand-in for `@lit-protocol/constants` as the published examples import it: the SDK's own
 * constants, except that `LIT_RPC.CHRONICLE_YELLOWSTONE` (the chain of Lit's networks, which the
 * examples connect their wallets to) is the devnet's chain RPC. The SDK itself keeps the real
 * constants; only the examples' own imports come here.
 */
import * as constants from '@lit-protocol/constants';
import { currentDevnet } from '../network';

export * from '@lit-protocol/constants';

export const LIT_RPC = new Proxy(constants.LIT_RPC, {
  get(target, key, receiver) {
    if (key === 'CHRONICLE_YELLOWSTONE') return currentDevnet().rpcUrl;
    return Reflect.get(target, key, receiver);
  },
}) as typeof constants.LIT_RPC;
