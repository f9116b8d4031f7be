/**
 * The SIWE nonce must be a recent blockhash. The SDK caches one for 30 s and, when its block indexer
 * fails, silently keeps the old one (after trying public RPCs this machine may not reach). We fetch
 * it ourselves, with a deadline that covers the body and a cap on the body's size (an indexer that
 * streams without end once took a worker to 2.4 GB in 5 s), and refuse a hash that is too old, so a
 * stale nonce is never sent.
 */
import { TypedActivityError } from './error-classification';
import { boundedFetch, INDEXER_MAX_RESPONSE_BYTES } from './network-bounds';

export interface LatestBlock {
  blockhash: string;
  /** Seconds since the epoch, as the indexer reports it. */
  timestamp: number;
}

export interface NonceOptions {
  /** Deadline of the whole request, body included. */
  timeoutMs: number;
  /** The body is read incrementally and the request aborted past this (default 64 KiB). */
  maxBytes?: number;
  /** A block older than this is stale: the indexer (or its chain) is stuck. */
  maxAgeMs: number;
  now?: () => number;
  fetchImpl?: typeof fetch;
  /** Aborts the request (the client it is for is disposed). */
  signal?: AbortSignal;
}

export const DEFAULT_NONCE_OPTIONS: NonceOptions = { timeoutMs: 5_000, maxAgeMs: 10 * 60_000 };

/** Pure: checks an indexer answer. */
export function checkLatestBlock(body: unknown, nowMs: number, maxAgeMs: number): LatestBlock {
  const b = body as { blockhash?: unknown; timestamp?: unknown };
  if (!b || typeof b.blockhash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(b.blockhash)) {
    throw new TypedActivityError(
      'NetworkError',
      'block indexer answered without a valid blockhash',
      'block-indexer',
    );
  }
  const timestamp = Number(b.timestamp);
  if (!Number.isFinite(timestamp) || timestamp <= 0) {
    throw new TypedActivityError(
      'NetworkError',
      'block indexer answered without a valid timestamp',
      'block-indexer',
    );
  }
  const ageMs = nowMs - timestamp * 1000;
  if (ageMs > maxAgeMs) {
    throw new TypedActivityError(
      'StaleBlockhash',
      `latest blockhash from the block indexer is ${Math.round(ageMs / 1000)} s old (limit ${Math.round(maxAgeMs / 1000)} s); not signing with a stale nonce`,
      'block-indexer',
    );
  }
  return { blockhash: b.blockhash, timestamp };
}

export async function fetchLatestBlock(
  url: string,
  opts: NonceOptions = DEFAULT_NONCE_OPTIONS,
): Promise<LatestBlock> {
  const res = await boundedFetch(
    url,
    {},
    {
      timeoutMs: opts.timeoutMs,
      maxBytes: opts.maxBytes ?? INDEXER_MAX_RESPONSE_BYTES,
      what: 'block indexer',
      source: 'block-indexer',
      signal: opts.signal,
    },
    opts.fetchImpl,
  );
  if (!res.ok)
    throw new TypedActivityError(
      'NetworkError',
      `block indexer ${url} answered HTTP ${res.status}`,
      'block-indexer',
    );
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new TypedActivityError(
      'NetworkError',
      `block indexer ${url} answered without JSON`,
      'block-indexer',
    );
  }
  return checkLatestBlock(body, (opts.now ?? Date.now)(), opts.maxAgeMs);
}

export type LatestBlockSource = (url: string, opts: NonceOptions) => Promise<LatestBlock>;

/**
 * A fleet rotation starts dozens of mints at once, and each needs the latest block. Mints that ask
 * while a request to the same indexer is on its way share that request: it was sent after the
 * latest block any of them could have seen, so its answer is as fresh as their own would be.
 * Nothing is kept once it is answered, failures included: every later mint asks again.
 */
export function coalescingBlockSource(fetchBlock: LatestBlockSource = fetchLatestBlock): LatestBlockSource {
  const inFlight = new Map<string, Promise<LatestBlock>>();
  return (url, opts) => {
    const pending = inFlight.get(url);
    if (pending) return pending;
    const request = fetchBlock(url, opts).finally(() => inFlight.delete(url));
    inFlight.set(url, request);
    return request;
  };
}
