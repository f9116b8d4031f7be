/**
 * When may the keeper run without payload encryption? Pure functions, table-tested.
 *
 * With keys: always encrypt. Without keys: a local Temporal (localhost, 127.0.0.0/8, ::1) is
 * allowed with a warning; anything else is refused unless the operator says so explicitly with
 * `SESSION_KEEPER_ALLOW_UNENCRYPTED=1` or `--allow-unencrypted`, because the histories would then
 * hold session signatures (bearer credentials) in plaintext on a machine we do not control.
 *
 * The policy is about payloads, so a connection that sends none (`sendsPayloads: false`, e.g.
 * `session-keeper setup`, which only calls the operator service) needs no keys on any address; its
 * data converter then refuses to encode a payload (`refusingPayloadCodec`), so it cannot leak one.
 */
import { isIP } from 'node:net';
import { CODEC_KEYS_ENV, CODEC_KEYS_FILE_ENV, CodecConfigError } from './keys';

export const ALLOW_UNENCRYPTED_ENV = 'SESSION_KEEPER_ALLOW_UNENCRYPTED';
export const ALLOW_UNENCRYPTED_FLAG = '--allow-unencrypted';
/** Where the SDK connects when no address is given. */
export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';

export interface EncryptionPolicyInput {
  keysConfigured: boolean;
  /** `host:port` (or `[v6]:port`, or a bare host) the client/worker connects to; empty means the SDK default. */
  temporalAddress: string | undefined;
  /** `SESSION_KEEPER_ALLOW_UNENCRYPTED=1` or `--allow-unencrypted`. */
  allowInsecure: boolean;
  /**
   * Whether the caller sends payloads at all (default true). `false` for connections that only call
   * APIs without payloads (registering search attributes): no keys needed, nothing refused.
   */
  sendsPayloads?: boolean;
}

export interface EncryptionDecision {
  encrypt: boolean;
  /** When set, the caller logs it once (at warn level): payloads are stored in plaintext. */
  warning?: string;
}

export class UnencryptedPayloadsRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnencryptedPayloadsRefused';
  }
}

/** Throws `UnencryptedPayloadsRefused` when the combination is unsafe. */
export function decideEncryption(input: EncryptionPolicyInput): EncryptionDecision {
  if (input.keysConfigured) return { encrypt: true };
  // Nothing to encrypt: no plaintext can reach the service, whatever its address.
  if (input.sendsPayloads === false) return { encrypt: false };
  const address = input.temporalAddress?.trim() || DEFAULT_TEMPORAL_ADDRESS;
  const host = hostOfAddress(address);
  const local = host !== undefined && isLoopbackHost(host);
  const setKeys = `set ${CODEC_KEYS_ENV} (or ${CODEC_KEYS_FILE_ENV}) to k1:$(openssl rand -base64 32) on every worker and client`;
  if (local) {
    return {
      encrypt: false,
      warning: `payloads are not encrypted: session sigs are stored in plaintext in the history of the local Temporal at ${address}; ${setKeys}`,
    };
  }
  if (input.allowInsecure) {
    return {
      encrypt: false,
      warning:
        `payloads are not encrypted (allowed by ${ALLOW_UNENCRYPTED_ENV}/${ALLOW_UNENCRYPTED_FLAG}): session sigs, ` +
        `which are bearer credentials, are stored in plaintext by the Temporal service at ${address}; ${setKeys}`,
    };
  }
  throw new UnencryptedPayloadsRefused(
    `refusing to send unencrypted payloads to the non-local Temporal at ${address}: its histories would hold ` +
      `session sigs (bearer credentials) in plaintext, readable by anyone with access to that service or its database. ` +
      `Fix: ${setKeys}; or, knowingly accepting that, set ${ALLOW_UNENCRYPTED_ENV}=1 / pass ${ALLOW_UNENCRYPTED_FLAG}`,
  );
}

/** `SESSION_KEEPER_ALLOW_UNENCRYPTED`: "1"/"true" allow, unset/""/"0"/"false" do not, anything else is an error. */
export function allowUnencryptedFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env[ALLOW_UNENCRYPTED_ENV]?.trim().toLowerCase();
  if (!raw || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new CodecConfigError(`${ALLOW_UNENCRYPTED_ENV} must be 1 (allow) or 0 (refuse); unset it to refuse`);
}

/** The host part of `host:port`, `[v6]:port`, a bare host or v6 address, or a URL. */
export function hostOfAddress(address: string): string | undefined {
  let a = address.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(a);
  if (scheme) {
    a = a.slice(scheme[0].length);
    a = a.replace(/[/?#].*$/, '');
    a = a.replace(/^[^@]*@/, '');
  }
  if (!a) return undefined;
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    return end > 0 ? a.slice(1, end) : undefined;
  }
  if (isIP(a) === 6) return a;
  const colon = a.lastIndexOf(':');
  return colon >= 0 ? a.slice(0, colon) : a;
}

/** localhost, 127.0.0.0/8 and ::1 (also as an IPv4-mapped address). Nothing else, not even 0.0.0.0. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped?.[1].startsWith('127.') === true;
  }
  return false;
}
