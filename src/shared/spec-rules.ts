/**
 * The agent spec's rules as data: names, ranges, defaults and formats. Dependency-free, so both
 * the edge's parser (agent-spec.ts, zod) and the workflow's check of the normalised spec
 * (spec-check.ts, plain TypeScript: no zod in the workflow bundle) read the same rules.
 */
import type { ResourceAbility } from './types';

export const BUILT_IN_NETWORKS = ['datil-dev', 'datil-test', 'datil'] as const;

export const MIN_SESSION_TTL_MS = 60_000;
export const MAX_SESSION_TTL_MS = 30 * 24 * 3600_000;
export const DEFAULT_SESSION_TTL_MS = 24 * 3600_000;
export const DEFAULT_REFRESH_FRACTION = 2 / 3;
export const DEFAULT_JITTER = 0.1;
export const DEFAULT_CAPACITY_DELEGATION_TTL_MS = 7 * 24 * 3600_000;

export const RESOURCE_PREFIXES = [
  'lit-accesscontrolcondition',
  'lit-pkp',
  'lit-litaction',
  'lit-ratelimitincrease',
];
export const ABILITIES = [
  'access-control-condition-decryption',
  'access-control-condition-signing',
  'pkp-signing',
  'lit-action-execution',
  'rate-limit-increase-auth',
  'lit-payment-delegation',
];
/** Which abilities make sense on which resource prefix. */
export const ABILITIES_BY_PREFIX: Record<string, string[]> = {
  'lit-accesscontrolcondition': ['access-control-condition-decryption', 'access-control-condition-signing'],
  'lit-pkp': ['pkp-signing'],
  'lit-litaction': ['lit-action-execution'],
  'lit-ratelimitincrease': ['rate-limit-increase-auth', 'lit-payment-delegation'],
};

/** Decrypting data under access-control conditions: the narrowest ability that is still useful. */
export const DEFAULT_RESOURCE_ABILITY_REQUESTS: ResourceAbility[] = [
  { resource: 'lit-accesscontrolcondition://*', ability: 'access-control-condition-decryption' },
];

/** `env:NAME` or `file:/absolute/path`: where the activity finds the key. Never the key itself. */
export const SIGNER_REFERENCE = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/;
export const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const NETWORK_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const PKP_PUBLIC_KEY = /^(0x)?04[0-9a-fA-F]{128}$/;
/** An IPFS CID v0 (what Lit's PKPPermissions `addPermittedAction` takes): "Qm" + 44 base58 characters. */
export const IPFS_CID_V0 = /^Qm[1-9A-HJ-NP-Za-km-z]{44}$/;
/** Lit Action code beyond this is refused: it goes into every workflow history and every mint request. */
export const MAX_LIT_ACTION_CODE_CHARS = 256 * 1024;

/**
 * Spec fields whose own format holds public 32-byte values that look like keys: the PKP public
 * key, and resources naming a PKP token id or a condition hash (lit-pkp://<64 hex>). The
 * key-shape check of the rest of the spec skips them.
 */
export const KEY_SHAPE_EXEMPT_FIELDS: readonly string[] = [
  'pkpPublicKey',
  'resourceAbilityRequests',
  'sessionPublicKey',
];

/**
 * The agent's ed25519 session public key as given: 64 hex digits, 0x allowed. It is public (it is
 * what the capability names, `lit:session:<key>`), so it is exempt from the key-shape refusal; its
 * own check refuses anything else, 128 hex digits (a tweetnacl secret key) above all.
 */
export const SESSION_PUBLIC_KEY = /^(0x)?[0-9a-fA-F]{64}$/;
/** The normalised form: lowercase, no prefix (what `lit:session:` URIs carry). */
export const NORMALISED_SESSION_PUBLIC_KEY = /^[0-9a-f]{64}$/;
/** A tweetnacl secret key (seed then public key), 0x allowed: refused wherever a public key is asked for. */
const SESSION_SECRET_KEY = /^(0x)?[0-9a-fA-F]{128}$/;

const KEYGEN_FIX =
  'pass only the public key that `session-keeper agent keygen` prints (64 hex digits), or --session-key-file';

/**
 * Pure: why `value` is not a session public key (a message naming the fix), or undefined when it
 * is one. Shared by the edge's parser, the workflow's check and the `rotateSessionKey` update.
 */
export function sessionPublicKeyProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string: ${KEYGEN_FIX}`;
  const v = value.trim();
  if (SESSION_SECRET_KEY.test(v))
    return `is 64 bytes of hex, the shape of a session SECRET key (seed and public key); never send it to the keeper: ${KEYGEN_FIX}`;
  if (!SESSION_PUBLIC_KEY.test(v))
    return `must be the agent's ed25519 session public key, 32 bytes as 64 hex digits: ${KEYGEN_FIX}`;
  return undefined;
}

/** Pure: the normalised session public key (lowercase, no 0x); call after `sessionPublicKeyProblem`. */
export function normaliseSessionPublicKey(value: string): string {
  const v = value.trim().toLowerCase();
  return v.startsWith('0x') ? v.slice(2) : v;
}
