/**
 * Agent-held mode, pure parts: what a capability the keeper keeps fresh must say before an agent
 * wraps it into its own session sigs, and the per-node messages the agent signs.
 *
 * A capability is checked once (per capability, not per call): it must be bound to this agent's
 * session key (`sessionPublicKey` and the SIWE's `URI: lit:session:<key>`) and its ReCap must grant
 * every requested resource/ability. Its signature (the wallet's ECDSA, or the network's BLS for a
 * PKP) is the nodes' to check: they refuse a capability that is not validly signed, and nothing the
 * agent could check locally would make such a capability work.
 *
 * The per-node message is the one the stock SDK 7.4.0 signs in `getSessionSigs`: the JSON of
 * `{sessionKey, resourceAbilityRequests, capabilities, issuedAt, expiration, nodeAddress}` in that
 * key order, the resources in the SDK's object form (`{resource, resourcePrefix}`), the capacity
 * delegation (when there is one) before the capability.
 */
import type { AuthSigJson, ResourceAbility, SessionCapability } from '../shared/types';

export const SESSION_KEY_URI_PREFIX = 'lit:session:';
const RECAP_PREFIX = 'urn:recap:';

/** Lit ability → the ReCap `Namespace/Ability` that grants it (as Lit's SDK and nodes map them). */
export const RECAP_ABILITY: Readonly<Record<string, string>> = {
  'access-control-condition-decryption': 'Threshold/Decryption',
  'access-control-condition-signing': 'Threshold/Signing',
  'pkp-signing': 'Threshold/Signing',
  'lit-action-execution': 'Threshold/Execution',
  'rate-limit-increase-auth': 'Auth/Auth',
};

/** Pure: `lit:session:<key>`, the URI a capability for this session key names. */
export function sessionKeyUri(publicKey: string): string {
  return `${SESSION_KEY_URI_PREFIX}${publicKey}`;
}

/** The fields of a SIWE (EIP-4361) message the agent checks. */
export interface SiweFields {
  uri?: string;
  expirationTime?: string;
  resources: string[];
}

/** Pure: the URI, expiration and resources of a SIWE message's text. */
export function siweFields(message: string): SiweFields {
  const out: SiweFields = { resources: [] };
  let inResources = false;
  for (const line of message.split('\n')) {
    if (inResources) {
      if (line.startsWith('- ')) {
        out.resources.push(line.slice(2).trim());
        continue;
      }
      inResources = false;
    }
    if (line.startsWith('URI: ')) out.uri = line.slice(5).trim();
    else if (line.startsWith('Expiration Time: ')) out.expirationTime = line.slice(17).trim();
    else if (line === 'Resources:') inResources = true;
  }
  return out;
}

/** Pure: resource → granted `Namespace/Ability` set, from every ReCap among a SIWE's resources. */
export function recapGrants(resources: readonly string[]): Map<string, Set<string>> {
  const grants = new Map<string, Set<string>>();
  for (const urn of resources) {
    if (!urn.startsWith(RECAP_PREFIX)) continue;
    let att: unknown;
    try {
      att = (
        JSON.parse(Buffer.from(urn.slice(RECAP_PREFIX.length), 'base64url').toString('utf8')) as {
          att?: unknown;
        }
      ).att;
    } catch {
      continue;
    }
    if (!att || typeof att !== 'object') continue;
    for (const [resource, abilities] of Object.entries(att as Record<string, unknown>)) {
      if (!abilities || typeof abilities !== 'object') continue;
      const set = grants.get(resource) ?? new Set<string>();
      for (const ability of Object.keys(abilities)) set.add(ability);
      grants.set(resource, set);
    }
  }
  return grants;
}

/** Pure: true when the grants cover `request` (the exact resource, or its prefix's wildcard `*`). */
export function grantsCover(grants: Map<string, Set<string>>, request: ResourceAbility): boolean {
  const recapAbility = RECAP_ABILITY[request.ability];
  if (!recapAbility) return false;
  const prefix = request.resource.split('://')[0];
  return [request.resource, `${prefix}://*`].some((r) => grants.get(r)?.has(recapAbility) === true);
}

/** Pure: the requests a capability grants (when the agent does not name its own). */
export function requestsGranted(grants: Map<string, Set<string>>): ResourceAbility[] {
  const out: ResourceAbility[] = [];
  for (const [resource, abilities] of grants) {
    const prefix = resource.split('://')[0];
    for (const ability of abilities) {
      const lit = Object.entries(RECAP_ABILITY)
        .filter(([, recap]) => recap === ability)
        .map(([l]) => l);
      // Threshold/Signing is pkp-signing on a PKP, access-control-condition-signing on a condition.
      const pick =
        lit.length > 1
          ? lit.find((l) => (prefix === 'lit-pkp' ? l === 'pkp-signing' : l !== 'pkp-signing'))
          : lit[0];
      if (pick) out.push({ resource, ability: pick });
    }
  }
  return out;
}

const short = (key: string) => `${key.slice(0, 8)}…`;

/** A capability checked for this key and these requests: when it expires, and what to sign with it. */
export interface VerifiedCapability {
  capability: SessionCapability;
  /** The earlier of the capability's stated expiry and its SIWE's Expiration Time. */
  expiresAtMs: number;
  /** The requests the per-node sigs carry. */
  requests: ResourceAbility[];
}

/**
 * Pure: checks a capability once for this session key and these requests (none given: all it
 * grants). Returns the checked capability or why it cannot be used (it would not change by asking
 * again: the capability is the wrong one).
 */
export function verifyCapability(
  capability: SessionCapability,
  publicKey: string,
  requests?: readonly ResourceAbility[],
): VerifiedCapability | { problem: string } {
  if (capability.sessionPublicKey !== publicKey) {
    return {
      problem: `the capability is bound to session key ${short(capability.sessionPublicKey)}, not this one (${short(publicKey)})`,
    };
  }
  const auth = capability.authSig as AuthSigJson | undefined;
  if (!auth || typeof auth.signedMessage !== 'string')
    return { problem: 'the capability has no signed message' };
  const siwe = siweFields(auth.signedMessage);
  if (siwe.uri !== sessionKeyUri(publicKey)) {
    return {
      problem: `the capability's SIWE names ${siwe.uri ?? 'no URI'}, not ${short(sessionKeyUri(publicKey))}`,
    };
  }
  const stated = Date.parse(capability.expiresAt);
  const signed = siwe.expirationTime ? Date.parse(siwe.expirationTime) : Number.NaN;
  const expiresAtMs = Math.min(
    Number.isFinite(stated) ? stated : Number.POSITIVE_INFINITY,
    Number.isFinite(signed) ? signed : Number.POSITIVE_INFINITY,
  );
  if (!Number.isFinite(expiresAtMs)) return { problem: 'the capability states no expiration time' };
  const grants = recapGrants(siwe.resources);
  const wanted = requests ? [...requests] : requestsGranted(grants);
  if (wanted.length === 0) return { problem: 'the capability grants no resource (its SIWE has no ReCap)' };
  const missing = wanted.filter((r) => !grantsCover(grants, r));
  if (missing.length > 0) {
    return {
      problem: `the capability does not grant ${missing.map((r) => `${r.resource}=${r.ability}`).join(', ')} (start the agent with these resources)`,
    };
  }
  return { capability, expiresAtMs, requests: wanted };
}

/**
 * Pure: the capability among the status's current and previous ones bound to `publicKey` (the
 * later-expiring when both are), or undefined.
 */
export function capabilityFor(
  status: { capability?: SessionCapability | null; previousCapability?: SessionCapability | null },
  publicKey: string,
): SessionCapability | undefined {
  const mine = [status.capability, status.previousCapability].filter(
    (c): c is SessionCapability => !!c && c.sessionPublicKey === publicKey,
  );
  return mine.sort((a, b) => Date.parse(b.expiresAt) - Date.parse(a.expiresAt))[0];
}

/** A resource/ability request in the SDK's object form, as it appears in the signed message. */
export interface SdkResourceRequest {
  resource: { resource: string; resourcePrefix: string };
  ability: string;
}

/** Pure: `prefix://id` requests in the SDK's object form (JSON key order as the SDK's classes). */
export function sdkResourceRequests(requests: readonly ResourceAbility[]): SdkResourceRequest[] {
  return requests.map((r) => {
    const at = r.resource.indexOf('://');
    if (at <= 0) throw new RangeError(`resource "${r.resource}" is not <prefix>://<id>`);
    return {
      resource: { resource: r.resource.slice(at + 3), resourcePrefix: r.resource.slice(0, at) },
      ability: r.ability,
    };
  });
}

/** Pure: the signed message of one node's session sig, byte for byte as the SDK 7.4.0 writes it. */
export function sessionSigMessage(p: {
  sessionPublicKey: string;
  requests: readonly SdkResourceRequest[];
  capability: SessionCapability;
  issuedAt: string;
  expiration: string;
  nodeAddress: string;
}): string {
  const capabilities = p.capability.capacityDelegationAuthSig
    ? [p.capability.capacityDelegationAuthSig, p.capability.authSig]
    : [p.capability.authSig];
  return JSON.stringify({
    sessionKey: p.sessionPublicKey,
    resourceAbilityRequests: p.requests,
    capabilities,
    issuedAt: p.issuedAt,
    expiration: p.expiration,
    nodeAddress: p.nodeAddress,
  });
}

/** Pure: the per-node sigs' expiry: `sigTtlMs` from now, never past the capability's. */
export function sessionSigExpiry(nowMs: number, capabilityExpiresAtMs: number, sigTtlMs: number): number {
  return Math.min(nowMs + sigTtlMs, capabilityExpiresAtMs);
}
