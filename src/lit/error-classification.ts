/**
 * Turns whatever the Lit SDK threw into one of the project's error types and decides whether a
 * retry can help. Pure: it only inspects the error object. The SDK wraps node answers in VError
 * chains (`NodeError` → cause `{errorKind, errorCode, …}`), sometimes only as JSON in the message,
 * so the classifier walks causes, `info` and the message text.
 */
import {
  type ActivityErrorType,
  PERMANENT_ERROR_TYPES,
  TRANSIENT_ERROR_TYPES,
} from '../shared/activity-contract';

export interface ClassifiedError {
  type: ActivityErrorType;
  retryable: boolean;
  message: string;
}

/** Lit node error codes map one to one onto the contract's types (see the notes for their meaning). */
const KNOWN_NODE_CODES: ReadonlySet<string> = new Set(
  [...PERMANENT_ERROR_TYPES, ...TRANSIENT_ERROR_TYPES].filter(
    (t) => t.startsWith('Node') && t !== 'NodeTimeout',
  ),
);

/** Some codes arrive snake_cased or as HTTP statuses; normalise them. */
const ALIASES: Record<string, ActivityErrorType> = {
  not_authorized: 'NodeNotAuthorized',
  NodeUnauthorized: 'NodeNotAuthorized',
};

/** Errors our own code raises with a known type (see lit-errors in activities). */
export class TypedActivityError extends Error {
  constructor(
    readonly type: ActivityErrorType,
    message: string,
    /** What failed: the Lit client's round trips, or the block indexer (which says nothing about the client). */
    readonly source: 'lit' | 'block-indexer' = 'lit',
  ) {
    super(message);
    this.name = type;
  }

  /**
   * The SDK collects a failed node request's rejection with `JSON.stringify` (an Error would
   * become `{}`); this keeps the type and message readable in the error it then throws.
   */
  toJSON(): { typedError: ActivityErrorType; source: string; message: string } {
    return { typedError: this.type, source: this.source, message: this.message };
  }
}

/** Every known error type (the contract's lists). */
const ALL_TYPES: ReadonlySet<string> = new Set([...PERMANENT_ERROR_TYPES, ...TRANSIENT_ERROR_TYPES]);

export function isPermanent(type: string): boolean {
  return (PERMANENT_ERROR_TYPES as readonly string[]).includes(type);
}

export function classifyLitError(err: unknown): ClassifiedError {
  const message = shortMessage(err);
  if (err instanceof TypedActivityError) {
    return { type: err.type, retryable: !isPermanent(err.type), message };
  }
  // One of ours (a deadline, a size bound) wrapped by ethers or the SDK: its type and message say
  // more than the wrapper's ("missing revert data in call exception", "Response from the nodes").
  const inner = findTypedError(err, 0);
  if (inner)
    return { type: inner.type, retryable: !isPermanent(inner.type), message: shortMessage(inner.message) };
  const code = findNodeCode(err, 0);
  if (code) return { type: code, retryable: !isPermanent(code), message };
  const text = allText(err, 0);
  if (
    /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|fetch failed|socket hang up|network error/i.test(text)
  ) {
    return { type: 'NetworkError', retryable: true, message };
  }
  if (/not enough nodes|Could not handshake|handshake with nodes after timeout/i.test(text)) {
    return { type: 'NotEnoughNodes', retryable: true, message };
  }
  // The SDK's report when too few nodes answered a signing request and the failures were transport
  // errors (refused, reset, timed out): it serialises them as `{}`, so nothing else is left to read.
  if (/Response from the nodes: \{"success":false,"error":\{\}\}/.test(text)) {
    return {
      type: 'NotEnoughNodes',
      retryable: true,
      message: 'too few nodes answered the signing request (the others were unreachable or timed out)',
    };
  }
  if (/timed? ?out|timeout/i.test(text)) return { type: 'NodeTimeout', retryable: true, message };
  if (/invalid (private )?key|invalid hexlify|private key must be/i.test(text)) {
    return { type: 'InvalidSigner', retryable: false, message };
  }
  return { type: 'Unknown', retryable: true, message };
}

/**
 * A `TypedActivityError` inside a wrapper: as a cause (`cause`, VError's `jse_cause`,
 * `info.cause`), as ethers' `error` property, or serialised into the message (see `toJSON`).
 */
export function findTypedError(
  err: unknown,
  depth: number,
): { type: ActivityErrorType; message: string } | undefined {
  if (!err || typeof err !== 'object' || depth > 6) return undefined;
  if (err instanceof TypedActivityError) return { type: err.type, message: err.message };
  const o = err as Record<string, any>;
  for (const next of [o.cause, o.jse_cause, o.info?.cause, o.error]) {
    const found = findTypedError(next, depth + 1);
    if (found) return found;
  }
  if (depth > 0) return undefined;
  const m = /"typedError":"([A-Za-z]+)","source":"[a-z-]+","message":"((?:[^"\\]|\\.)*)"/.exec(
    allText(err, 0),
  );
  if (!m || !ALL_TYPES.has(m[1])) return undefined;
  let message: string;
  try {
    message = JSON.parse(`"${m[2]}"`);
  } catch {
    message = m[2];
  }
  return { type: m[1] as ActivityErrorType, message };
}

function findNodeCode(err: unknown, depth: number): ActivityErrorType | undefined {
  if (!err || typeof err !== 'object' || depth > 6) return undefined;
  const o = err as Record<string, any>;
  for (const candidate of [o.errorCode, o.info?.errorCode, o.jse_info?.errorCode, o.code]) {
    const mapped = mapCode(candidate);
    if (mapped) return mapped;
  }
  for (const next of [o.cause, o.jse_cause, o.info?.cause, o.error]) {
    const found = findNodeCode(next, depth + 1);
    if (found) return found;
  }
  if (typeof o.cause === 'function') {
    try {
      const found = findNodeCode(o.cause(), depth + 1);
      if (found) return found;
    } catch {
      // VError's cause() accessor may throw on malformed chains; the message scan below still runs.
    }
  }
  if (depth === 0) {
    const m = /"errorCode"\s*:\s*"([A-Za-z_]+)"/.exec(allText(err, 0));
    if (m) return mapCode(m[1]);
  }
  return undefined;
}

function mapCode(candidate: unknown): ActivityErrorType | undefined {
  if (typeof candidate !== 'string') return undefined;
  if (ALIASES[candidate]) return ALIASES[candidate];
  return KNOWN_NODE_CODES.has(candidate) ? (candidate as ActivityErrorType) : undefined;
}

function allText(err: unknown, depth: number): string {
  if (depth > 6 || err === null || err === undefined) return '';
  if (typeof err !== 'object') return String(err);
  const o = err as Record<string, any>;
  const parts = [typeof o.message === 'string' ? o.message : ''];
  for (const next of [o.cause, o.jse_cause]) {
    if (next && typeof next === 'object') parts.push(allText(next, depth + 1));
  }
  return parts.join(' | ');
}

/** One line, bounded, with no sig material: node answers can echo signed messages. */
export function shortMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err);
  const firstLine = (raw ?? '').split('\n')[0];
  const withoutPayloads = firstLine.replace(/Response from the nodes: .*/, 'Response from the nodes: …');
  return withoutPayloads.length > 300 ? `${withoutPayloads.slice(0, 297)}...` : withoutPayloads;
}
