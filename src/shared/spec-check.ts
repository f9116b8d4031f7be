/**
 * The workflow's check of its input: a spec the edge (the CLI, the client library) has already
 * parsed and normalised with `parseAgentSpec`. Plain TypeScript over the rules in spec-rules.ts,
 * so the workflow bundle carries no zod and no parser: it takes the normalised value as it is and
 * refuses anything else (a hand-made start through the Temporal CLI with a bad spec fails at
 * once). Pure; returns every problem, named by the normalised field.
 */
import {
  isKeyShaped,
  jsonLength,
  jsParamsIssues,
  keyShapedStrings,
  labelIssues,
  MAX_SPEC_DEPTH,
  MAX_SPEC_JSON_CHARS,
  nestingDepth,
} from './input-limits';
import {
  ABILITIES_BY_PREFIX,
  AGENT_ID,
  IPFS_CID_V0,
  KEY_SHAPE_EXEMPT_FIELDS,
  MAX_LIT_ACTION_CODE_CHARS,
  MAX_SESSION_TTL_MS,
  MIN_SESSION_TTL_MS,
  NETWORK_NAME,
  NORMALISED_SESSION_PUBLIC_KEY,
  SIGNER_REFERENCE,
  sessionPublicKeyProblem,
} from './spec-rules';
import type { AgentSpec } from './types';

export interface SpecIssue {
  field: string;
  message: string;
}

const SPEC_FIELDS = new Set([
  'agentId',
  'network',
  'mode',
  'signer',
  'pkpPublicKey',
  'litAction',
  'resourceAbilityRequests',
  'sessionTtlMs',
  'refresh',
  'capacityDelegation',
  'sessionPublicKey',
  'labels',
]);
/** The normalised form keeps the 0x prefix (parseAgentSpec adds it). */
const NORMALISED_PKP_PUBLIC_KEY = /^0x04[0-9a-fA-F]{128}$/;
const RESOURCE = /^([a-z-]+):\/\/(.+)$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isReference = (v: unknown) => isString(v) && !isKeyShaped(v) && SIGNER_REFERENCE.test(v);
const isPositiveMs = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** Pure: the problems of a normalised spec; empty when the workflow may run it. */
export function normalisedSpecIssues(value: unknown): SpecIssue[] {
  if (!isObject(value)) return [{ field: '(spec)', message: 'must be a normalised agent spec object' }];
  // The edge's limits hold here too (a hand-made start is checked as strictly), shape first.
  const depthLimit = MAX_SPEC_DEPTH + 4;
  const size = jsonLength(value);
  if (nestingDepth(value, depthLimit) > depthLimit || size === undefined || size > MAX_SPEC_JSON_CHARS)
    return [{ field: '(spec)', message: 'is too large or too deeply nested for an agent spec' }];
  const s = value;
  const issues: SpecIssue[] = [];
  const bad = (field: string, message: string) => issues.push({ field, message });
  for (const path of keyShapedStrings(s, [...KEY_SHAPE_EXEMPT_FIELDS, 'signer']))
    bad(path.join('.') || '(spec)', 'holds text shaped like a private key');

  const unknown = Object.keys(s).filter((k) => !SPEC_FIELDS.has(k));
  if (unknown.length)
    bad('(spec)', `unknown field(s) ${unknown.join(', ')}; start agents through parseAgentSpec`);
  if (!isString(s.agentId) || !AGENT_ID.test(s.agentId)) bad('agentId', 'must be an agent id');
  if (!isString(s.network) || !NETWORK_NAME.test(s.network)) bad('network', 'must be a network name');
  if (s.mode !== 'eoa' && s.mode !== 'pkp') bad('mode', 'must be "eoa" or "pkp"');
  if (s.signer !== undefined && !isReference(s.signer))
    bad('signer', 'must be a key reference (env:NAME or file:/path)');
  if (s.mode === 'pkp' && !(isString(s.pkpPublicKey) && NORMALISED_PKP_PUBLIC_KEY.test(s.pkpPublicKey)))
    bad('pkpPublicKey', 'must be the PKP public key, 0x04 followed by 128 hex digits');
  if (s.mode === 'eoa' && s.pkpPublicKey !== undefined) bad('pkpPublicKey', 'only applies to mode "pkp"');

  if (s.sessionPublicKey !== undefined) {
    const k = s.sessionPublicKey;
    const problem = sessionPublicKeyProblem(k);
    if (problem) bad('sessionPublicKey', problem);
    else if (!NORMALISED_SESSION_PUBLIC_KEY.test(k as string))
      bad(
        'sessionPublicKey',
        'must be normalised: 64 lowercase hex digits without 0x (parseAgentSpec does it)',
      );
  }

  if (s.litAction !== undefined) {
    const a = s.litAction;
    if (s.mode !== 'pkp') bad('litAction', 'only applies to mode "pkp"');
    if (!isObject(a)) bad('litAction', 'must be an object');
    else {
      const hasCode =
        isString(a.code) && a.code.trim().length > 0 && a.code.length <= MAX_LIT_ACTION_CODE_CHARS;
      const hasId = isString(a.ipfsId) && IPFS_CID_V0.test(a.ipfsId);
      if ((a.code !== undefined) === (a.ipfsId !== undefined) || !(hasCode || hasId))
        bad('litAction', 'must hold exactly one of code (the source) or ipfsId (its CID)');
      if (a.jsParams !== undefined)
        for (const i of jsParamsIssues(a.jsParams))
          bad(['litAction.jsParams', ...i.path].join('.'), i.message);
    }
  }
  if (s.signer === undefined && !(s.mode === 'pkp' && s.litAction !== undefined))
    bad('signer', 'is required (only a mode "pkp" agent with litAction may omit it)');

  if (!Array.isArray(s.resourceAbilityRequests) || s.resourceAbilityRequests.length === 0) {
    bad('resourceAbilityRequests', 'must name at least one resource and ability');
  } else {
    s.resourceAbilityRequests.forEach((ra, i) => {
      const m = isObject(ra) && isString(ra.resource) ? RESOURCE.exec(ra.resource) : null;
      const abilities = m && Object.hasOwn(ABILITIES_BY_PREFIX, m[1]) ? ABILITIES_BY_PREFIX[m[1]] : undefined;
      if (
        !abilities ||
        !isString((ra as Record<string, unknown>).ability) ||
        !abilities.includes(ra.ability as string)
      )
        bad(`resourceAbilityRequests.${i}`, 'must be a Lit resource and an ability that applies to it');
    });
  }

  const ttl = s.sessionTtlMs;
  if (!isPositiveMs(ttl) || ttl < MIN_SESSION_TTL_MS || ttl > MAX_SESSION_TTL_MS)
    bad('sessionTtlMs', `must be milliseconds between ${MIN_SESSION_TTL_MS} and ${MAX_SESSION_TTL_MS}`);
  const r = s.refresh;
  if (!isObject(r)) bad('refresh', 'must be the refresh policy object');
  else {
    if (typeof r.fraction !== 'number' || !(r.fraction > 0 && r.fraction < 1))
      bad('refresh.fraction', 'must be between 0 and 1 (exclusive)');
    if (typeof r.jitter !== 'number' || !(r.jitter >= 0 && r.jitter <= 0.5))
      bad('refresh.jitter', 'must be between 0 and 0.5');
    if (
      r.renewBeforeMs !== undefined &&
      !(isPositiveMs(r.renewBeforeMs) && isPositiveMs(ttl) && r.renewBeforeMs < ttl)
    )
      bad('refresh.renewBeforeMs', 'must be milliseconds shorter than the session TTL');
    const extra = Object.keys(r).filter((k) => !['fraction', 'jitter', 'renewBeforeMs'].includes(k));
    if (extra.length) bad('refresh', `unknown field(s) ${extra.join(', ')}`);
  }
  if (s.capacityDelegation !== undefined) {
    const c = s.capacityDelegation;
    if (!isObject(c) || !isReference(c.signer) || !isPositiveMs(c.ttlMs))
      bad('capacityDelegation', 'must hold a signer reference and ttlMs');
    else if (
      c.capacityTokenId !== undefined &&
      !(isString(c.capacityTokenId) && /^\d+$/.test(c.capacityTokenId))
    )
      bad('capacityDelegation.capacityTokenId', 'must be a decimal token id');
  }
  if (s.labels !== undefined) {
    if (!(isObject(s.labels) && Object.values(s.labels).every(isString)))
      bad('labels', 'must map names to strings');
    else
      for (const i of labelIssues(s.labels as Record<string, string>))
        bad(['labels', ...i.path].join('.'), i.message);
  }
  return issues;
}

/** The spec when it may run, else undefined with `issues` filled (for the workflow's failure). */
export function checkedSpec(
  value: unknown,
): { spec: AgentSpec; issues: [] } | { spec: undefined; issues: SpecIssue[] } {
  const issues = normalisedSpecIssues(value);
  return issues.length ? { spec: undefined, issues } : { spec: value as AgentSpec, issues: [] };
}
