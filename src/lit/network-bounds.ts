/**
 * Every network call of a mint has a deadline and a size bound, and can be aborted when the client
 * that made it is disposed (worker shutdown, a connect that missed its deadline). Without them one
 * RPC that accepts connections and never answers held mints for 480 s (ethers' own 120 s timeout
 * per read, several reads per connect) and kept a stopping worker alive for minutes, and one block
 * indexer that streamed without end took a worker to 2.4 GB in 5 s (issue 17, items 4 and 5).
 *
 * `boundedFetch` reads a body incrementally and stops (aborting the request) past its byte limit;
 * its deadline covers the body too. `BoundedJsonRpcProvider` is the ethers v5 provider the Lit
 * SDK's Staking contract reads go through (handed to the SDK in `contractContext.provider`), and
 * `installBoundedNodeRequests` replaces the SDK's `sendCommandToNode`, through which every request
 * to a Lit node goes (handshake, signing).
 */
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { ethers } from 'ethers';
import { TypedActivityError } from './error-classification';

export * from './network-limits';

export interface FetchBounds {
  /** Deadline for the whole request, body included. */
  timeoutMs: number;
  /** The body is read incrementally and the request aborted past this many bytes. */
  maxBytes: number;
  /** What the endpoint is, for the error message: "block indexer", "RPC", "Lit node". */
  what: string;
  /** Aborts the request early (the client that made it is disposed). */
  signal?: AbortSignal;
  /** Which part failed (see `TypedActivityError.source`). */
  source?: 'lit' | 'block-indexer';
  /**
   * Rethrow a refused or reset connection as `fetch` reported it (the SDK's node error handling
   * expects that); deadlines and size bounds are always typed.
   */
  rawTransportErrors?: boolean;
}

export interface BoundedResponse {
  status: number;
  ok: boolean;
  headers: Headers;
  /** The whole body, at most `maxBytes` long. */
  body: Buffer;
}

/** Pure: the error of a request that missed its deadline. */
export function deadlineError(what: string, url: string, timeoutMs: number, source: FetchBounds['source']) {
  return new TypedActivityError(
    'NodeTimeout',
    `${what} ${url} did not answer within ${timeoutMs} ms`,
    source ?? 'lit',
  );
}

/** Pure: the error of a response larger than its bound. */
export function sizeError(what: string, url: string, maxBytes: number, source: FetchBounds['source']) {
  return new TypedActivityError(
    'NetworkError',
    `${what} ${url} sent more than ${maxBytes} bytes; stopped reading (limit ${maxBytes} bytes)`,
    source ?? 'lit',
  );
}

/**
 * `fetch` with a deadline that covers the body, a byte cap on the body (read chunk by chunk, the
 * request aborted past the cap) and an outside abort signal. Failures are `TypedActivityError`s
 * naming the endpoint and the bound; an HTTP error status is not a failure (the caller decides).
 */
export async function boundedFetch(
  url: string,
  init: RequestInit,
  bounds: FetchBounds,
  fetchImpl: typeof fetch = fetch,
): Promise<BoundedResponse> {
  const { timeoutMs, maxBytes, what, signal, source, rawTransportErrors } = bounds;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(deadlineError(what, url, timeoutMs, source));
  }, timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const failure = (err: unknown): Error => {
    if (err instanceof TypedActivityError) return err;
    if (timedOut) return deadlineError(what, url, timeoutMs, source);
    if (signal?.aborted) {
      return new TypedActivityError(
        'NetworkError',
        `${what} ${url}: request abandoned (client disposed)`,
        source,
      );
    }
    if (rawTransportErrors) return err as Error;
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const detail = e.cause?.code ?? e.cause?.message ?? e.message;
    return new TypedActivityError(
      'NetworkError',
      `${what} ${url} unreachable (${e.message}: ${detail})`,
      source,
    );
  };
  try {
    let res: Response;
    try {
      res = await fetchImpl(url, { ...init, signal: controller.signal });
    } catch (err) {
      throw failure(err);
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      controller.abort();
      throw sizeError(what, url, maxBytes, source);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.byteLength;
          if (total > maxBytes) {
            controller.abort();
            throw sizeError(what, url, maxBytes, source);
          }
          chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        }
      } catch (err) {
        throw failure(err);
      } finally {
        reader.releaseLock();
      }
    }
    return { status: res.status, ok: res.ok, headers: res.headers, body: Buffer.concat(chunks, total) };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

export interface RpcBounds {
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

let rpcId = 1;

/**
 * The JSON-RPC provider of a custom network's Staking contract: every request bounded (deadline,
 * size), all of them aborted by `signal`. Errors keep their type and message (the SDK and ethers
 * wrap them; the classifier finds them inside), so a failed connect names the RPC and the bound.
 */
export class BoundedJsonRpcProvider extends ethers.providers.StaticJsonRpcProvider {
  private readonly bounds: RpcBounds;
  private chainDetection?: Promise<ethers.providers.Network>;

  constructor(url: string, bounds: RpcBounds) {
    super(url);
    this.bounds = bounds;
  }

  // ethers' own detection swallows the cause ("could not detect network"); this one keeps it.
  override detectNetwork(): Promise<ethers.providers.Network> {
    if (!this.chainDetection) {
      this.chainDetection = this.send('eth_chainId', []).then((id) =>
        ethers.providers.getNetwork(ethers.BigNumber.from(id).toNumber()),
      );
      this.chainDetection.catch(() => {
        this.chainDetection = undefined;
      });
    }
    return this.chainDetection;
  }

  override async send(method: string, params: unknown[]): Promise<any> {
    const url = this.connection.url;
    const res = await boundedFetch(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: rpcId++, method, params }),
      },
      { ...this.bounds, what: 'RPC', source: 'lit' },
    );
    let payload: { result?: unknown; error?: { code?: number; message?: string; data?: unknown } };
    try {
      payload = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new TypedActivityError(
        'NetworkError',
        `RPC ${url} answered ${method} with HTTP ${res.status} and no JSON`,
      );
    }
    if (payload?.error) {
      // As ethers reports a JSON-RPC error, so its revert handling keeps working.
      const error = new Error(payload.error.message ?? `RPC error in ${method}`) as Error & {
        code?: number;
        data?: unknown;
      };
      error.code = payload.error.code;
      error.data = payload.error.data;
      throw error;
    }
    if (!res.ok)
      throw new TypedActivityError('NetworkError', `RPC ${url} answered ${method} with HTTP ${res.status}`);
    return payload.result;
  }
}

export interface NodeRequestBounds {
  /** Deadline of a handshake request. */
  handshakeTimeoutMs: number;
  /** Deadline of any other request (signing): a node request never outlives its mint. */
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

/** The path the SDK's handshake requests go to. */
const HANDSHAKE_PATH = '/web/handshake';

/**
 * Replaces the SDK's `sendCommandToNode` (an instance property, so this shadows it on one client)
 * with the same request, bounded. Same answers as the SDK's `sendRequest`: the JSON body, or a
 * rejection with the node's JSON error body (or the HTTP status), which the SDK then aggregates.
 */
export function installBoundedNodeRequests(client: LitNodeClientNodeJs, bounds: NodeRequestBounds): void {
  // the SDK's request plumbing is private.
  const core = client as any;
  const { version } = require('@lit-protocol/constants') as { version: string };
  core.sendCommandToNode = async ({
    url,
    data,
    requestId,
  }: {
    url: string;
    data: Record<string, unknown>;
    requestId: string;
  }) => {
    const body: Record<string, unknown> = { ...data, epoch: core.currentEpochNumber };
    // The SDK never sends session sigs to the nodes with a command; neither do we.
    delete body.sessionSigs;
    const res = await boundedFetch(
      url,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'X-Lit-SDK-Version': version,
          'X-Lit-SDK-Type': 'Typescript',
          'X-Request-Id': `lit_${requestId}`,
        },
        body: JSON.stringify(body),
      },
      {
        timeoutMs: url.includes(HANDSHAKE_PATH) ? bounds.handshakeTimeoutMs : bounds.timeoutMs,
        maxBytes: bounds.maxBytes,
        what: 'Lit node',
        signal: bounds.signal,
        source: 'lit',
        rawTransportErrors: true,
      },
    );
    const isJson = res.headers.get('content-type')?.includes('application/json');
    const parsed = isJson ? JSON.parse(res.body.toString('utf8')) : null;
    if (!res.ok) throw parsed || res.status;
    return parsed;
  };
}

/** Resolves `p`, or rejects with `onTimeout()` after `ms` (the work itself goes on unless aborted). */
export function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
