/**
 * The stock SDK handshakes with every node under `Promise.all` raced against one connect timeout,
 * so a single node that refuses or hangs fails `connect()` even when enough nodes answered. Signing
 * only needs `minNodeCount` of them. This replacement handshakes with each node under its own
 * timeout and succeeds when at least `minNodeCount` answer; the nodes that did not are reported.
 *
 * It replaces the SDK's `_runHandshakeWithBootstrapUrls` on one client instance (an own property
 * shadows the prototype method), so everything else `connect()` does stays the SDK's own.
 */
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { TypedActivityError } from './error-classification';

export interface HandshakeReport {
  answered: string[];
  failed: { url: string; reason: string }[];
}

/** Pure: do the answers meet the threshold? */
export function handshakeQuorum(answered: number, minNodeCount: number): boolean {
  return minNodeCount > 0 && answered >= minNodeCount;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function installResilientHandshake(
  client: LitNodeClientNodeJs,
  handshakeTimeoutMs: number,
  onReport: (report: HandshakeReport) => void,
): void {
  // reaching into the SDK's private handshake members.
  const core = client as any;
  core._runHandshakeWithBootstrapUrls = async () => {
    const requestId: string = core._getNewRequestId();
    const urls: string[] = core.config.bootstrapUrls;
    const serverKeys: Record<string, unknown> = {};
    const connectedNodes = new Set<string>();
    const failed: { url: string; reason: string }[] = [];
    await Promise.all(
      urls.map(async (url) => {
        try {
          serverKeys[url] = await withTimeout(
            core._handshakeAndVerifyNodeAttestation({ url, requestId }),
            handshakeTimeoutMs,
            `handshake with ${url}`,
          );
          connectedNodes.add(url);
        } catch (err) {
          failed.push({ url, reason: (err as Error).message?.split('\n')[0] ?? String(err) });
        }
      }),
    );
    // Keep the configured order: sigs and status listings read better that way.
    const answered = urls.filter((u) => connectedNodes.has(u));
    onReport({ answered, failed });
    const minNodeCount: number = core.config.minNodeCount;
    if (!handshakeQuorum(answered.length, minNodeCount)) {
      throw new TypedActivityError(
        'NotEnoughNodes',
        `only ${answered.length} of ${urls.length} Lit nodes answered the handshake (need ${minNodeCount}): ` +
          failed.map((f) => `${f.url}: ${f.reason}`).join('; '),
      );
    }
    const coreNodeConfig = core._getCoreNodeConfigFromHandshakeResults({ serverKeys, requestId });
    return { connectedNodes: new Set(answered), serverKeys, coreNodeConfig };
  };
}
