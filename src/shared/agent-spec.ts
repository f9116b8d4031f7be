/**
 * Parsing and validation of an agent spec: a pure function used by the client before it starts a
 * workflow and by the workflow again on start (the workflow bundle can import it: zod and ms are
 * plain JS). One call reports every bad field at once, each with the fix.
 */
import { z } from 'zod';
import { canonicalJson } from './canonical-json';
import { formatDuration, parseDuration } from './duration';
import {
  isKeyShaped,
  jsonLength,
  jsParamsIssues,
  keyShapedStrings,
  labelIssues,
  MAX_RESOURCE_ABILITY_REQUESTS,
  MAX_SPEC_DEPTH,
  MAX_SPEC_JSON_CHARS,
  nestingDepth,
} from './input-limits';
import {
  ABILITIES_BY_PREFIX,
  AGENT_ID,
  BUILT_IN_NETWORKS,
  DEFAULT_CAPACITY_DELEGATION_TTL_MS,
  DEFAULT_JITTER,
  DEFAULT_REFRESH_FRACTION,
  DEFAULT_RESOURCE_ABILITY_REQUESTS,
  DEFAULT_SESSION_TTL_MS,
  IPFS_CID_V0,
  KEY_SHAPE_EXEMPT_FIELDS,
  MAX_LIT_ACTION_CODE_CHARS,
  MAX_SESSION_TTL_MS,
  MIN_SESSION_TTL_MS,
  NETWORK_NAME,
  normaliseSessionPublicKey,
  PKP_PUBLIC_KEY,
  RESOURCE_PREFIXES,
  SIGNER_REFERENCE,
  sessionPublicKeyProblem,
} from './spec-rules';
import type { AgentSpec } from './types';

export { formatDuration, parseDuration } from './duration';
// The rules live in spec-rules.ts (shared with the workflow's check); re-exported for callers.
export {
  ABILITIES,
  BUILT_IN_NETWORKS,
  DEFAULT_CAPACITY_DELEGATION_TTL_MS,
  DEFAULT_JITTER,
  DEFAULT_REFRESH_FRACTION,
  DEFAULT_RESOURCE_ABILITY_REQUESTS,
  DEFAULT_SESSION_TTL_MS,
  IPFS_CID_V0,
  MAX_LIT_ACTION_CODE_CHARS,
  MAX_SESSION_TTL_MS,
  MIN_SESSION_TTL_MS,
  RESOURCE_PREFIXES,
  SIGNER_REFERENCE,
} from './spec-rules';

export class AgentSpecError extends Error {
  readonly issues: { field: string; message: string }[];
  constructor(issues: { field: string; message: string }[]) {
    super(`invalid agent spec: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    this.name = 'AgentSpecError';
    this.issues = issues;
  }
}

/**
 * A duration as milliseconds (a JSON number) or a string with a unit ("90s", "24h", "30d"). A
 * string without a unit is refused: "5" or "1.5" is far more often "5 hours" or "1.5 days" meant
 * than milliseconds, and taking it as milliseconds gives a session that cannot live.
 */
const duration = (what: string, example = '"90s", "24h", "7d"') =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(v)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `${JSON.stringify(v)} has no unit; give the ${what} with one, such as ${example}`,
      });
      return z.NEVER;
    }
    const n = typeof v === 'number' ? v : parseDuration(v);
    if (n === undefined || !Number.isFinite(n) || n <= 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `${JSON.stringify(v)} is not a ${what}; use milliseconds or a string such as ${example}`,
      });
      return z.NEVER;
    }
    return Math.round(n);
  });

const MAX_REFERENCE_CHARS = 1024;

const signerRef = z
  .string()
  .refine((s) => !isKeyShaped(s), {
    message:
      'looks like a private key (it holds 64 hex digits); pass a reference instead (env:NAME or file:/path of a file holding the key), never the key',
  })
  // One message per mistake: a pasted key is not also told it is a malformed reference.
  .refine((s) => isKeyShaped(s) || (s.length <= MAX_REFERENCE_CHARS && SIGNER_REFERENCE.test(s)), {
    message:
      'must be a key reference: env:NAME (an environment variable of the worker) or file:/absolute/path',
  });

const litAction = z
  .object({
    code: z
      .string()
      .refine((c) => c.trim().length > 0, { message: "must be the Lit Action's JavaScript source" })
      .refine((c) => c.length <= MAX_LIT_ACTION_CODE_CHARS, {
        message: `is longer than ${MAX_LIT_ACTION_CODE_CHARS} characters; pin the action to IPFS and use litAction.ipfsId`,
      })
      .optional(),
    // `refine` with `test`, not `.regex`: zod resets the regex's `lastIndex`, and the workflow
    // sandbox freezes exported objects such as this one.
    ipfsId: z
      .string()
      .refine((id) => IPFS_CID_V0.test(id), {
        message: 'must be the IPFS CID of the Lit Action: "Qm" followed by 44 base58 characters',
      })
      .optional(),
    jsParams: z.unknown().optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if ((a.code === undefined) === (a.ipfsId === undefined)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message:
          'give exactly one of litAction.code (the JavaScript source) or litAction.ipfsId (its IPFS CID, Qm…)',
      });
    }
    if (a.jsParams === undefined) return;
    for (const issue of jsParamsIssues(a.jsParams)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['jsParams', ...issue.path],
        message: issue.message,
      });
    }
  });

const resourceAbility = z
  .object({ resource: z.string(), ability: z.string() })
  .strict()
  .superRefine((ra, ctx) => {
    const m = /^([a-z-]+):\/\/(.+)$/.exec(ra.resource);
    if (!m || !RESOURCE_PREFIXES.includes(m[1])) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['resource'],
        message: `"${ra.resource}" is not a Lit resource; use <prefix>://<id> with prefix one of ${RESOURCE_PREFIXES.join(', ')}`,
      });
      return;
    }
    if (!ABILITIES_BY_PREFIX[m[1]].includes(ra.ability)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['ability'],
        message: `"${ra.ability}" does not apply to ${m[1]}; use one of ${ABILITIES_BY_PREFIX[m[1]].join(', ')}`,
      });
    }
  });

const specSchema = z
  .object({
    agentId: z.string().regex(AGENT_ID, {
      message:
        'must be 1-128 characters of letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
    }),
    network: z
      .string()
      .regex(NETWORK_NAME, { message: 'must be a network name such as datil-dev or devnet' }),
    mode: z.enum(['eoa', 'pkp'], { message: 'must be "eoa" (wallet-signed) or "pkp" (PKP session sigs)' }),
    signer: signerRef.optional(),
    pkpPublicKey: z
      .string()
      .regex(PKP_PUBLIC_KEY, {
        message: 'must be an uncompressed secp256k1 public key: 0x04 followed by 128 hex digits',
      })
      .optional(),
    litAction: litAction.optional(),
    // Agent-held mode: the agent's session public key (public: it is exempt from the key-shape
    // refusal below, and refused here when it is anything but 32 bytes of hex).
    sessionPublicKey: z
      .unknown()
      .superRefine((k, ctx) => {
        const problem = k === undefined ? undefined : sessionPublicKeyProblem(k);
        if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
      })
      .transform((k) => (typeof k === 'string' ? normaliseSessionPublicKey(k) : undefined))
      .optional(),
    resourceAbilityRequests: z
      .array(resourceAbility)
      .min(1, { message: 'must name at least one resource and ability' })
      .max(MAX_RESOURCE_ABILITY_REQUESTS, {
        message: `names more than ${MAX_RESOURCE_ABILITY_REQUESTS} resources; use a wildcard resource (e.g. lit-pkp://*)`,
      })
      .optional(),
    sessionTtl: duration('session TTL', '"24h", "7d"').optional(),
    refresh: z
      .object({
        fraction: z
          .number()
          .gt(0, { message: 'must be between 0 and 1 (exclusive), e.g. 0.66' })
          .lt(1, { message: 'must be between 0 and 1 (exclusive), e.g. 0.66' })
          .optional(),
        renewBefore: duration(
          'renew-before duration',
          '"2h" (or a fraction of the lifetime such as 0.66)',
        ).optional(),
        jitter: z
          .number()
          .min(0, { message: 'must be between 0 and 0.5, e.g. 0.1 for ±10%' })
          .max(0.5, { message: 'must be between 0 and 0.5, e.g. 0.1 for ±10%' })
          .optional(),
      })
      .strict()
      .optional(),
    capacityDelegation: z
      .object({
        signer: signerRef,
        capacityTokenId: z.string().regex(/^\d+$/, { message: 'must be a decimal token id' }).optional(),
        ttl: duration('delegation TTL').optional(),
      })
      .strict()
      .optional(),
    labels: z
      .record(z.string())
      .superRefine((labels, ctx) => {
        for (const issue of labelIssues(labels))
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: issue.path, message: issue.message });
      })
      .optional(),
  })
  .strict();

/** What a caller may pass: durations as strings or ms, everything but the four essentials optional. */
export type AgentSpecInput = z.input<typeof specSchema>;

export interface ParseOptions {
  /** Networks the caller knows (built-in ones are always known). Omit to skip the check. */
  knownNetworks?: readonly string[];
}

/**
 * Validates `input` and applies defaults. Throws `AgentSpecError` listing every bad field.
 * Accepts an already-normalised `AgentSpec` too (the workflow re-validates its own input).
 */
export function parseAgentSpec(input: unknown, opts: ParseOptions = {}): AgentSpec {
  // Shape limits before anything walks the input: a hostile spec is refused, not explored.
  const shapeIssue = specShapeIssue(input);
  if (shapeIssue) throw new AgentSpecError([shapeIssue]);
  const normalisedInput = fromNormalised(input);
  const result = specSchema.safeParse(normalisedInput);
  const issues: { field: string; message: string }[] = [];
  if (!result.success) {
    for (const i of result.error.issues) {
      const message =
        i.code === 'unrecognized_keys'
          ? `unknown field(s) ${i.keys.join(', ')}; remove them`
          : i.code === 'invalid_type' && i.received === 'undefined'
            ? 'is required'
            : i.message;
      issues.push({ field: i.path.join('.') || '(spec)', message });
    }
  }
  // The cross-field checks run on whatever parsed, so one call reports every bad field.
  const raw = (normalisedInput ?? {}) as Record<string, any>;
  // Key-shaped text anywhere (a label, the agent id, a reference, the action's code) would land
  // in history, logs and search attributes: refused wherever it sits, unless a field's own check
  // already said so. Exempt: fields with a format of their own that holds public 32-byte values
  // (the PKP public key; resources such as lit-pkp://<token id> or lit-accesscontrolcondition://<hash>).
  const reported = new Set(issues.map((i) => i.field));
  for (const path of keyShapedStrings(raw, KEY_SHAPE_EXEMPT_FIELDS)) {
    const field = path.join('.') || '(spec)';
    if ([...reported].some((f) => field === f || field.startsWith(`${f}.`))) continue;
    issues.push({
      field,
      message:
        path[0] === 'litAction' && path[1] === 'code'
          ? 'holds a 64-hex-digit value shaped like a private key; never put a key in the action (the spec is stored in workflow history); if it is a public constant such as a hash, pin the action to IPFS and use its CID instead'
          : 'holds text shaped like a private key (64 hex digits); specs are stored in workflow history and logs: never put a key in them, pass a reference such as env:NAME as signer',
    });
  }
  const flagged = new Set(issues.map((i) => i.field.split('.')[0]));
  const s = result.success ? result.data : undefined;
  const network: unknown = s?.network ?? raw.network;
  if (opts.knownNetworks && typeof network === 'string' && !flagged.has('network')) {
    const known = new Set<string>([...BUILT_IN_NETWORKS, ...opts.knownNetworks]);
    if (!known.has(network)) {
      issues.push({
        field: 'network',
        message: `unknown network "${network}"; use one of ${[...known].join(', ')} or configure it in LIT_NETWORKS_FILE`,
      });
    }
  }
  const mode: unknown = s?.mode ?? raw.mode;
  const pkpPublicKey: unknown = s?.pkpPublicKey ?? raw.pkpPublicKey;
  if (mode === 'pkp' && !pkpPublicKey) {
    issues.push({
      field: 'pkpPublicKey',
      message: 'is required when mode is "pkp" (the PKP public key, 0x04…)',
    });
  }
  if (mode === 'eoa' && pkpPublicKey) {
    issues.push({
      field: 'pkpPublicKey',
      message: 'only applies to mode "pkp"; remove it or set mode to "pkp"',
    });
  }
  const hasLitAction = raw.litAction !== undefined;
  if (mode === 'eoa' && hasLitAction) {
    issues.push({
      field: 'litAction',
      message:
        'only applies to mode "pkp" (a Lit Action authorises PKP sessions); remove it or set mode to "pkp"',
    });
  }
  // A Lit Action authorises the PKP's sessions on its own; every other agent signs with a key.
  if (raw.signer === undefined && !(mode === 'pkp' && hasLitAction)) {
    issues.push({
      field: 'signer',
      message:
        'is required: a key reference env:NAME or file:/path (only a mode "pkp" agent with litAction may omit it)',
    });
  }
  const sessionTtlMs =
    s?.sessionTtl ??
    (flagged.has('sessionTtl') ? undefined : durationOf(raw.sessionTtl)) ??
    DEFAULT_SESSION_TTL_MS;
  if (
    !flagged.has('sessionTtl') &&
    (sessionTtlMs < MIN_SESSION_TTL_MS || sessionTtlMs > MAX_SESSION_TTL_MS)
  ) {
    issues.push({
      field: 'sessionTtl',
      message: `${formatDuration(sessionTtlMs)} is out of range; Lit nodes accept at least 1m and at most 30d`,
    });
  }
  const renewBeforeMs = s?.refresh?.renewBefore;
  if (renewBeforeMs !== undefined && renewBeforeMs >= sessionTtlMs) {
    issues.push({
      field: 'refresh.renewBefore',
      message: `${formatDuration(renewBeforeMs)} must be shorter than the session TTL (${formatDuration(sessionTtlMs)})`,
    });
  }
  if (issues.length || !s) throw new AgentSpecError(issues);

  const spec: AgentSpec = {
    agentId: s.agentId,
    network: s.network,
    mode: s.mode,
    ...(s.signer !== undefined ? { signer: s.signer } : {}),
    resourceAbilityRequests: s.resourceAbilityRequests ?? DEFAULT_RESOURCE_ABILITY_REQUESTS,
    sessionTtlMs,
    refresh: {
      fraction: s.refresh?.fraction ?? DEFAULT_REFRESH_FRACTION,
      jitter: s.refresh?.jitter ?? DEFAULT_JITTER,
      ...(renewBeforeMs !== undefined ? { renewBeforeMs } : {}),
    },
  };
  if (s.pkpPublicKey)
    spec.pkpPublicKey = s.pkpPublicKey.startsWith('0x') ? s.pkpPublicKey : `0x${s.pkpPublicKey}`;
  if (s.litAction) {
    spec.litAction = {
      ...(s.litAction.code !== undefined ? { code: s.litAction.code } : {}),
      ...(s.litAction.ipfsId !== undefined ? { ipfsId: s.litAction.ipfsId } : {}),
      ...(s.litAction.jsParams !== undefined
        ? { jsParams: s.litAction.jsParams as Record<string, unknown> }
        : {}),
    };
  }
  if (s.capacityDelegation) {
    spec.capacityDelegation = {
      signer: s.capacityDelegation.signer,
      ttlMs: s.capacityDelegation.ttl ?? DEFAULT_CAPACITY_DELEGATION_TTL_MS,
      ...(s.capacityDelegation.capacityTokenId
        ? { capacityTokenId: s.capacityDelegation.capacityTokenId }
        : {}),
    };
  }
  if (s.sessionPublicKey !== undefined) spec.sessionPublicKey = s.sessionPublicKey;
  if (s.labels) spec.labels = s.labels;
  return spec;
}

/**
 * Pure: the spec nests too deep or is too large, named by the field that makes it so (so the CLI
 * can name the flag), or undefined. Runs before any recursive walk of the input.
 */
function specShapeIssue(input: unknown): { field: string; message: string } | undefined {
  const limit = MAX_SPEC_DEPTH + 4; // spec → litAction → jsParams, then jsParams' own levels
  const size = jsonLength(input);
  const tooDeep = nestingDepth(input, limit) > limit;
  if (!tooDeep && size !== undefined && size <= MAX_SPEC_JSON_CHARS) return undefined;
  // The field to blame: litAction.jsParams for the action's parameters, else the top-level field.
  const fields: [string, unknown][] = [];
  if (input && typeof input === 'object') {
    for (const [k, v] of Object.entries(input)) {
      const jsParams = k === 'litAction' && v && typeof v === 'object' ? (v as any).jsParams : undefined;
      fields.push(jsParams !== undefined ? ['litAction.jsParams', jsParams] : [k, v]);
    }
  }
  if (tooDeep) {
    const field = fields.find(([, v]) => nestingDepth(v, MAX_SPEC_DEPTH) > MAX_SPEC_DEPTH)?.[0] ?? '(spec)';
    return {
      field,
      message: `nests deeper than ${MAX_SPEC_DEPTH} levels; pass flat parameters (a spec is a flat object with a few small sub-objects)`,
    };
  }
  if (size === undefined) {
    return {
      field: '(spec)',
      message: 'is not plain JSON (a cycle or a BigInt); pass plain objects, strings and numbers',
    };
  }
  const [field] = fields.reduce<[string, number]>(
    (big, [k, v]) => {
      const n = jsonLength(v) ?? 0;
      return n > big[1] ? [k, n] : big;
    },
    ['(spec)', 0],
  );
  return {
    field,
    message: `makes the spec ${size} characters of JSON, more than ${MAX_SPEC_JSON_CHARS}; specs are stored in workflow history: keep Lit Action code on IPFS (litAction.ipfsId), labels and jsParams small`,
  };
}

/** Maps the normalised field names (`sessionTtlMs`, `renewBeforeMs`, `ttlMs`) back to input names. */
function fromNormalised(input: unknown): unknown {
  if (!input || typeof input !== 'object') return input;
  const o: Record<string, any> = { ...(input as Record<string, unknown>) };
  if ('sessionTtlMs' in o && !('sessionTtl' in o)) {
    o.sessionTtl = o.sessionTtlMs;
    delete o.sessionTtlMs;
  }
  if (o.refresh && typeof o.refresh === 'object') {
    const r = { ...o.refresh };
    if ('renewBeforeMs' in r && !('renewBefore' in r)) {
      r.renewBefore = r.renewBeforeMs;
      delete r.renewBeforeMs;
    }
    o.refresh = r;
  }
  if (o.capacityDelegation && typeof o.capacityDelegation === 'object') {
    const c = { ...o.capacityDelegation };
    if ('ttlMs' in c && !('ttl' in c)) {
      c.ttl = c.ttlMs;
      delete c.ttlMs;
    }
    o.capacityDelegation = c;
  }
  return o;
}

function durationOf(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  return typeof v === 'string' ? parseDuration(v) : undefined;
}

/** True when two normalised specs describe the same agent configuration. */
export function sameSpec(a: AgentSpec, b: AgentSpec): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
