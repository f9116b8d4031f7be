/**
 * EIP-5573 ReCap objects as Lit uses them in SIWE resources: `urn:recap:` + base64url of the
 * canonical JSON `{att: {<resource>: {"<Namespace>/<Ability>": [<nota bene>…]}}, prf: []}`, with
 * the SIWE statement ending in a sentence generated from `att`. Pure functions.
 */

export const RECAP_PREFIX = 'urn:recap:';

export type NotaBene = Record<string, unknown>;
export type Attenuations = Record<string, Record<string, NotaBene[]>>;

export interface Recap {
  att: Attenuations;
  prf: string[];
}

export class RecapError extends Error {}

/** Lit ability → ReCap `Namespace/Ability`. */
export const RECAP_ABILITY_OF: Record<string, string> = {
  'access-control-condition-decryption': 'Threshold/Decryption',
  'access-control-condition-signing': 'Threshold/Signing',
  'pkp-signing': 'Threshold/Signing',
  'lit-action-execution': 'Threshold/Execution',
  'rate-limit-increase-auth': 'Auth/Auth',
};

const NAME = /^[a-zA-Z0-9.*_+-]+$/;

/** JSON with object keys sorted at every level (RFC 8785 for the values a recap holds). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function isSorted(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(isSorted);
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    const sorted = [...keys].sort();
    return keys.every((k, i) => k === sorted[i]) && Object.values(value).every(isSorted);
  }
  return true;
}

function checkAttenuations(att: unknown): asserts att is Attenuations {
  if (!att || typeof att !== 'object' || Array.isArray(att)) throw new RecapError('att is not an object');
  for (const [resource, abilities] of Object.entries(att)) {
    if (!abilities || typeof abilities !== 'object' || Array.isArray(abilities)) {
      throw new RecapError(`abilities of ${resource} are not an object`);
    }
    for (const [ability, notaBene] of Object.entries(abilities)) {
      const parts = ability.split('/');
      if (parts.length !== 2 || !parts.every((p) => NAME.test(p))) {
        throw new RecapError(`invalid ability string ${JSON.stringify(ability)}`);
      }
      if (!Array.isArray(notaBene) || notaBene.some((n) => !n || typeof n !== 'object' || Array.isArray(n))) {
        throw new RecapError(`nota bene of ${ability} must be a list of objects`);
      }
    }
  }
}

export function decodeRecap(urn: string): Recap {
  if (!urn.startsWith(RECAP_PREFIX)) throw new RecapError('not a recap URN');
  const payload = urn.slice(RECAP_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(payload)) throw new RecapError('recap payload is not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new RecapError('recap payload is not JSON');
  }
  const { att, prf } = (parsed ?? {}) as { att?: unknown; prf?: unknown };
  checkAttenuations(att);
  if (!Array.isArray(prf) || prf.some((p) => typeof p !== 'string'))
    throw new RecapError('prf is not a list');
  if (!isSorted(att)) throw new RecapError('attenuations are not canonically sorted');
  return { att, prf: prf as string[] };
}

export function encodeRecap(recap: Recap): string {
  checkAttenuations(recap.att);
  return RECAP_PREFIX + Buffer.from(canonicalJson({ att: recap.att, prf: recap.prf })).toString('base64url');
}

/** The sentence a SIWE statement must end with for this recap (as siwe-recap writes it). */
export function recapStatement(att: Attenuations): string {
  let statement = 'I further authorize the stated URI to perform the following actions on my behalf:';
  let section = 1;
  for (const resource of Object.keys(att).sort()) {
    const byNamespace = new Map<string, string[]>();
    for (const ability of Object.keys(att[resource]).sort()) {
      const [namespace, name] = ability.split('/');
      byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), name]);
    }
    for (const [namespace, names] of byNamespace) {
      statement += ` (${section}) '${namespace}': ${names.map((n) => `'${n}'`).join(', ')} for '${resource}'.`;
      section++;
    }
  }
  return statement;
}

/** Merges attenuations; `b`'s nota bene are appended to `a`'s for shared abilities. */
export function mergeAttenuations(a: Attenuations, b: Attenuations): Attenuations {
  const out: Attenuations = {};
  for (const source of [a, b]) {
    for (const [resource, abilities] of Object.entries(source)) {
      out[resource] ??= {};
      for (const [ability, nb] of Object.entries(abilities)) {
        out[resource][ability] = [...(out[resource][ability] ?? []), ...nb];
      }
    }
  }
  return sortAttenuations(out);
}

export function sortAttenuations(att: Attenuations): Attenuations {
  return JSON.parse(canonicalJson(att)) as Attenuations;
}

/**
 * Every recap among a SIWE's resources, each checked against the statement the way Lit's node
 * does: the statement must end with the last recap's sentence.
 */
export function extractRecaps(siwe: { statement?: string; resources?: string[] }): Recap[] {
  const urns = (siwe.resources ?? []).filter((r) => r.startsWith(RECAP_PREFIX));
  if (urns.length === 0) throw new RecapError('the SIWE message has no recap resource');
  const recaps = urns.map(decodeRecap);
  const last = recaps[recaps.length - 1];
  if (!siwe.statement?.endsWith(recapStatement(last.att))) {
    throw new RecapError('the SIWE statement does not end with the recap statement');
  }
  return recaps;
}

/**
 * Whether `att` grants `ability` (a Lit ability) on the resource `<prefix>://<id>`, either
 * exactly or through the `<prefix>://*` wildcard, by the exact recap ability or `*\/*`.
 */
export function recapGrants(
  att: Attenuations,
  resourcePrefix: string,
  resourceId: string,
  ability: string,
): boolean {
  const wanted = RECAP_ABILITY_OF[ability];
  if (!wanted) return false;
  for (const key of [`${resourcePrefix}://*`, `${resourcePrefix}://${resourceId}`]) {
    const abilities = att[key];
    if (!abilities) continue;
    if (Object.hasOwn(abilities, '*/*') || Object.hasOwn(abilities, wanted)) return true;
  }
  return false;
}
