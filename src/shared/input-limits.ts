/**
 * What a spec may hold, beyond its fields' formats: key-shaped text nowhere, bounded size and
 * nesting. Pure and dependency-free (the workflow bundle imports it through agent-spec). Every
 * check is iterative, so hostile input (a million-deep array) cannot blow the stack before it is
 * refused.
 */

/**
 * A run of exactly 64 hex digits (a secp256k1 or ed25519 private key) or 128 (an ed25519 secret
 * key with its public half), optionally 0x-prefixed, that stands alone: not part of a longer
 * run of letters or digits. A PKP public key (04 + 128 hex) is a longer run and does not match.
 */
export const KEY_SHAPED = /(?<![0-9A-Za-z])(?:0x)?(?:[0-9a-fA-F]{128}|[0-9a-fA-F]{64})(?![0-9A-Za-z])/;

export function isKeyShaped(text: string): boolean {
  return KEY_SHAPED.test(text);
}

/**
 * Pure: `text` with every key-shaped run replaced. A fresh global regex per call: the workflow
 * sandbox freezes module objects, and `replace` with a shared global regex writes its lastIndex.
 */
export function maskKeyShaped(text: string, mask: string): string {
  return text.replace(new RegExp(KEY_SHAPED.source, 'g'), mask);
}

/** A whole spec beyond this (as JSON) is refused before anything else looks at it. */
export const MAX_SPEC_JSON_CHARS = 512 * 1024;
/** Deepest nesting a spec may have (jsParams included): real parameters are a few levels deep. */
export const MAX_SPEC_DEPTH = 16;
/** `jsParams` are sent with every mint and stored in history: parameters, not data. */
export const MAX_JS_PARAMS_JSON_CHARS = 16 * 1024;
export const MAX_LABELS = 32;
export const MAX_LABEL_KEY_CHARS = 63;
export const MAX_LABEL_VALUE_CHARS = 256;
export const MAX_RESOURCE_ABILITY_REQUESTS = 32;

export interface PathIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Pure: how deep `value` nests (a scalar is 0, `{}` is 1), counting at most `limit + 1` levels,
 * so the walk stops early on hostile input. Iterative.
 */
export function nestingDepth(value: unknown, limit: number = MAX_SPEC_DEPTH): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (!v || typeof v !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const child of Object.values(v as object)) stack.push([child, here]);
  }
  return deepest;
}

/** Pure: JSON length of `value`, or undefined when it cannot be stringified (cycles, BigInt). */
export function jsonLength(value: unknown): number | undefined {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return undefined;
  }
}

/**
 * Pure: every string in `value` (object keys included) that holds key-shaped text, with its path.
 * `skip` names top-level fields with a format of their own (the PKP public key). Iterative; call
 * it only after `nestingDepth` is within bounds.
 */
export function keyShapedStrings(value: unknown, skip: readonly string[] = []): (string | number)[][] {
  const found: (string | number)[][] = [];
  const stack: [unknown, (string | number)[]][] = [[value, []]];
  while (stack.length) {
    const [v, path] = stack.pop() as [unknown, (string | number)[]];
    if (typeof v === 'string') {
      if (isKeyShaped(v)) found.push(path);
    } else if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) stack.push([item, [...path, i]]);
    } else if (v && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (path.length === 0 && skip.includes(k)) continue;
        if (isKeyShaped(k)) found.push([...path, k]);
        stack.push([item, [...path, k]]);
      }
    }
  }
  return found.sort((a, b) => a.join('.').localeCompare(b.join('.')));
}

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/** Pure: the problems of a labels object (count, key shape and length, value length). */
export function labelIssues(labels: Record<string, string>): PathIssue[] {
  const issues: PathIssue[] = [];
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) {
    issues.push({
      path: [],
      message: `has ${entries.length} labels, more than ${MAX_LABELS}; keep labels to a few short key=value pairs`,
    });
  }
  for (const [k, v] of entries.slice(0, MAX_LABELS)) {
    if (k.length > MAX_LABEL_KEY_CHARS || !LABEL_KEY.test(k)) {
      issues.push({
        path: [k.length > 40 ? `${k.slice(0, 40)}…` : k],
        message: `label key must be 1-${MAX_LABEL_KEY_CHARS} letters, digits, ".", "_", "/" or "-", starting with a letter or digit`,
      });
    } else if (v.length > MAX_LABEL_VALUE_CHARS) {
      issues.push({
        path: [k],
        message: `is ${v.length} characters, more than ${MAX_LABEL_VALUE_CHARS}; labels are short tags, not data`,
      });
    }
  }
  return issues;
}

/**
 * Pure: the problems of `jsParams` — not a JSON object, holding a value JSON cannot carry, or a
 * string that looks like a private key (jsParams are stored in workflow history: not secret).
 */
export function jsParamsIssues(value: unknown): { path: (string | number)[]; message: string }[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return [
      {
        path: [],
        message: 'must be a JSON object of the parameters the action reads, e.g. {"minBalance": 1}',
      },
    ];
  }
  // Depth and size first: the walk below recurses, and history should not carry data.
  const depth = nestingDepth(value, MAX_SPEC_DEPTH);
  if (depth > MAX_SPEC_DEPTH) {
    return [
      {
        path: [],
        message: `nests deeper than ${MAX_SPEC_DEPTH} levels; pass flat parameters (or pin data to IPFS and pass its CID)`,
      },
    ];
  }
  const chars = jsonLength(value);
  if (chars !== undefined && chars > MAX_JS_PARAMS_JSON_CHARS) {
    return [
      {
        path: [],
        message: `is ${chars} characters of JSON, more than ${MAX_JS_PARAMS_JSON_CHARS}; jsParams are sent with every mint and kept in workflow history: pass parameters, and fetch data inside the action`,
      },
    ];
  }
  const issues: { path: (string | number)[]; message: string }[] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (typeof v === 'string') {
      if (isKeyShaped(v)) {
        issues.push({
          path,
          message:
            'looks like a private key; jsParams are not secret (they are stored in workflow history), never put a key in them',
        });
      }
    } else if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) walk(item, [...path, i]);
    } else if (v && typeof v === 'object') {
      if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
        issues.push({
          path,
          message: 'must be plain JSON (objects, arrays, strings, numbers, booleans, null)',
        });
        return;
      }
      for (const [k, item] of Object.entries(v)) walk(item, [...path, k]);
    } else if (!(v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
      issues.push({
        path,
        message: 'must be plain JSON (objects, arrays, strings, numbers, booleans, null)',
      });
    }
  };
  walk(value, []);
  return issues;
}
