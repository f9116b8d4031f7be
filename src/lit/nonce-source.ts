/**
 * The SIWE nonce must be a recent blockhash. The SDK caches one for 30 s and, when its block indexer
 * fails, silently keeps the old one (after trying public RPCs this machine may not reach). We fetch
 * it ourselves, with a deadline that covers the body and a cap on the body's size (an indexer that
 * streams without end once took a worker to 2.4 GB in 5 s), and refuse a hash that is too old, so a
 * stale nonce is never sent.
 */
import { TypedActivityError } from './error-classification';
import { deadlineError, INDEXER_MAX_RESPONSE_BYTES, sizeError } from './network-bounds';

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
  const what = 'block indexer';
  const maxBytes = opts.maxBytes ?? INDEXER_MAX_RESPONSE_BYTES;
  // The deadline is a signal that stays on the response, so it covers the body as well.
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([deadline, opts.signal]) : deadline;
  const failure = (err: unknown): Error => {
    if (err instanceof TypedActivityError) return err;
    if (deadline.aborted) return deadlineError(what, url, opts.timeoutMs, 'block-indexer');
    if (opts.signal?.aborted)
      return new TypedActivityError(
        'NetworkError',
        `${what} ${url}: request abandoned (client disposed)`,
        'block-indexer',
      );
    return new TypedActivityError(
      'NetworkError',
      `${what} ${url} unreachable (${(err as Error).message})`,
      'block-indexer',
    );
  };
  let res: Response;
  try {
    res = await (opts.fetchImpl ?? fetch)(url, { signal });
  } catch (err) {
    throw failure(err);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new TypedActivityError(
      'NetworkError',
      `${what} ${url} answered HTTP ${res.status}`,
      'block-indexer',
    );
  }
  let text: string;
  const declared = res.headers.get('content-length');
  try {
    // A body of a declared size within the cap is read whole, as fetch reads it (the common case:
    // a rotation's mints share such requests, and this path kept a 200-agent rotation at its
    // previous pace where reading chunk by chunk did not). Anything else is read chunk by chunk and
    // cut at the cap: an indexer that streams without end must not fill the worker's memory.
    if (declared !== null && Number(declared) <= maxBytes) text = await res.text();
    else if (declared !== null) {
      await res.body?.cancel().catch(() => undefined);
      throw sizeError(what, url, maxBytes, 'block-indexer');
    } else text = await readCapped(res, maxBytes, () => sizeError(what, url, maxBytes, 'block-indexer'));
  } catch (err) {
    throw failure(err);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new TypedActivityError('NetworkError', `${what} ${url} answered without JSON`, 'block-indexer');
  }
  return checkLatestBlock(body, (opts.now ?? Date.now)(), opts.maxAgeMs);
}

/** A body read chunk by chunk, cancelled and refused past `maxBytes`. */
async function readCapped(res: Response, maxBytes: number, tooLarge: () => Error): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
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
