/**
 * Log redaction. Session sigs are bearer credentials: anything that logs a status, a mint result or
 * an error that quotes one passes it through `redactSecrets` first (or lets pino do it with
 * `LOG_REDACT`). Pure: returns a redacted copy, never changes its input.
 */

import { maskKeyShaped } from '../shared/input-limits';

export const REDACTED = '[redacted]';

/** Field names whose values are always replaced, compared case-insensitively. */
export const SECRET_FIELDS: readonly string[] = [
  'sig',
  'signedMessage',
  'sessionSigs',
  'authSig',
  'capacityDelegationAuthSig',
  'accessToken',
  'privateKey',
  'authorization',
  'codecKeys',
];
const SECRET_FIELD_SET = new Set(SECRET_FIELDS.map((f) => f.toLowerCase()));
/**
 * Fields whose value is a public key that is shaped like a private one: an agent's ed25519 session
 * public key (agent-held mode). Shown, so an operator can tell which key an agent is bound to, but
 * only when the value is exactly one 32-byte hex key: anything else there (a 128-hex secret key,
 * text around a key) is masked like everywhere else. In free text (error messages) 64 hex digits
 * are always masked, whatever they are.
 */
const PUBLIC_KEY_FIELD_SET = new Set(['sessionpublickey']);
const ONE_PUBLIC_KEY = /^(0x)?[0-9a-fA-F]{64}$/;

/** `"sig": "…"` and friends inside text, e.g. an error message quoting JSON. */
const QUOTED_SECRET_FIELD = new RegExp(
  `("(?:${SECRET_FIELDS.join('|')})"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|\\{[^{}]*\\}|\\[[^\\[\\]]*\\])`,
  'gi',
);
/** `Bearer <token>` in text. */
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi;
const MAX_DEPTH = 32;

export function redactSecrets<T>(value: T): T {
  return redact(value, 0, new WeakMap()) as T;
}

/** Redacts secret-shaped substrings of a string (hex keys, quoted secret fields, bearer tokens). */
export function redactString(text: string): string {
  return maskKeyShaped(text.replace(QUOTED_SECRET_FIELD, `$1"${REDACTED}"`), REDACTED).replace(
    BEARER,
    `$1${REDACTED}`,
  );
}

function redact(value: unknown, depth: number, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return REDACTED;
  if (value instanceof Date || value instanceof RegExp) return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(redact(item, depth + 1, seen));
    return out;
  }
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const [k, v] of value) out[String(k)] = redactField(String(k), v, depth, seen);
    return out;
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  if (value instanceof Error) {
    out.name = value.name;
    out.message = redactString(value.message);
    if (value.stack) out.stack = redactString(value.stack);
    if ('cause' in value && value.cause !== undefined) out.cause = redact(value.cause, depth + 1, seen);
  }
  for (const [k, v] of Object.entries(value)) out[k] = redactField(k, v, depth, seen);
  return out;
}

function redactField(key: string, v: unknown, depth: number, seen: WeakMap<object, unknown>): unknown {
  if (SECRET_FIELD_SET.has(key.toLowerCase())) return v === undefined || v === null ? v : REDACTED;
  if (PUBLIC_KEY_FIELD_SET.has(key.toLowerCase()) && typeof v === 'string' && ONE_PUBLIC_KEY.test(v))
    return v;
  return redact(v, depth + 1, seen);
}

/**
 * Paths for pino's `redact` option (fast-redact has no recursive wildcard, so each field is listed
 * at depths 0-3). Covers structured fields only; run free text (error messages) through
 * `redactSecrets` as well, e.g. in a pino `formatters.log` or `serializers.err` hook.
 */
export const LOG_REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((f) => [
  f,
  `*.${f}`,
  `*.*.${f}`,
  `*.*.*.${f}`,
]);

/** Ready for `pino({ redact: LOG_REDACT })`. */
export const LOG_REDACT = { paths: [...LOG_REDACT_PATHS], censor: REDACTED } as const;
