/**
 * Stand-in for `@lit-protocol/lit-node-client` as the published examples import it: the stock
 * SDK's own `LitNodeClient` (7.4.0, unchanged), constructed with the devnet's network config in
 * place of the `litNetwork` the example names. Every other constructor option the example passes
 * (`debug`, ...) is kept. This is the only network set-up the examples get replaced. What the
 * client's `executeJs` returns is also kept, unchanged, for the tests to check beyond what the
 * example itself returns (`executeJsResults`).
 */
import { LitNodeClient as StockLitNodeClient } from '@lit-protocol/lit-node-client';
import type { LitNodeClientConfig } from '@lit-protocol/types';
import { litNodeClientConfigFor } from '../../../../src/devnet';
import { trackStakingListeners } from '../../../../src/lit/lit-client-lifecycle';
import { currentDevnet, recordClient, recordExecuteJs } from '../network';

export class LitNodeClient extends StockLitNodeClient {
  constructor(args: Partial<LitNodeClientConfig> & { litNetwork?: unknown }) {
    const { litNetwork, ...rest } = args ?? {};
    const setup = litNodeClientConfigFor(currentDevnet().networkConfig(), {
      debug: rest.debug ?? false,
    });
    super({ ...rest, ...setup.config } as LitNodeClientConfig);
    setup.applyTo(this);
    trackStakingListeners(this);
    recordClient(this, litNetwork);
    const executeJs = this.executeJs;
    this.executeJs = async (params) => {
      const result = await executeJs(params);
      recordExecuteJs(params, result);
      return result;
    };
  }
}
