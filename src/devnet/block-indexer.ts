/**
 * The block indexer the SDK polls for a SIWE nonce (`GET <_blockHashUrl>` → `{blockhash,
 * timestamp}`), the local stand-in for `block-indexer.litgateway.com/get_most_recent_valid_block`.
 */
import { createServer, type Server } from 'node:http';
import type { BlockhashAdvertiser } from './faults';
import { closeServer, devnetHosts, listen, sendJson } from './http-util';

export const BLOCK_INDEXER_PATH = '/get_most_recent_valid_block';

export class BlockIndexer {
  private server: Server | undefined;
  private urlValue: string | undefined;
  requests = 0;

  constructor(private readonly advertiser: BlockhashAdvertiser) {}

  /** Full URL of the endpoint, as the SDK's `_blockHashUrl` needs it. */
  get url(): string {
    if (!this.urlValue) throw new Error('block indexer is not listening');
    return this.urlValue;
  }

  async start(port: number): Promise<string> {
    this.server = createServer((req, res) => {
      this.requests++;
      if (req.method !== 'GET') {
        sendJson(res, 405, { error: 'use GET' });
        return;
      }
      const { blockhash, timestamp } = this.advertiser.current();
      sendJson(res, 200, { blockhash, timestamp });
    });
    const actual = await listen(this.server, port, devnetHosts.bind);
    this.urlValue = `http://${devnetHosts.advertise}:${actual}${BLOCK_INDEXER_PATH}`;
    return this.urlValue;
  }

  async close(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }
}
