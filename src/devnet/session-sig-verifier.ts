/**
 * Verifies a session sig sent to a node, in the order and with the error codes of Lit's node
 * (`validate_session_sig`): the session key's ed25519 signature, the signed message's
 * resourceAbilityRequests, its issue/expiry times (60 s grace, at most 30 days), that it is
 * addressed to this node, then the capabilities — an EOA SIWE signed by ECDSA (whose nonce must
 * be a recent blockhash of this chain) or a PKP SIWE signed by the network's BLS key — of which
 * one must be valid and grant the resource.
 *
 * One deliberate difference: when no capability is valid, Lit's node wraps the reason in
 * `NodeResourceIdNotFound`; the devnet answers with the reason's own code (e.g.
 * `NodeSIWEMessageError` for an expired or badly signed capability), which is what a client
 * needs to decide whether re-signing helps.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { ethers } from 'ethers';
import { litSessionSigningHash, verifyBlsSignature } from './bls-threshold';
import { type LitNodeError, litError } from './lit-errors';
import { extractRecaps, RecapError, recapGrants } from './recap';
import {
  checkExpirationWindow,
  checkNonceBlock,
  GRACE_PERIOD_MS,
  parseSiwe,
  recoverSigner,
  siweValidAt,
} from './siwe-checks';

export const SESSION_KEY_URI_PREFIX = 'lit:session:';

export interface SessionSig {
  sig: string;
  derivedVia: string;
  signedMessage: string;
  address: string;
  algo?: string;
}

export interface CapabilitySig {
  sig: string;
  derivedVia: string;
  signedMessage: string;
  address: string;
  algo?: string;
}

export interface SessionSignedMessage {
  sessionKey: string;
  resourceAbilityRequests: { resource: { resource: string; resourcePrefix: string }; ability: string }[];
  capabilities: CapabilitySig[];
  issuedAt: string;
  expiration: string;
  nodeAddress: string;
}

export interface RequestedResource {
  resourcePrefix: string;
  resourceId: string;
  /** A Lit ability, e.g. `access-control-condition-decryption`. */
  ability: string;
}

export interface VerifyContext {
  /** This node's address as `host:port`. */
  nodeAddress: string;
  /** Hex of the network's BLS public key (what PKP capabilities are signed with). */
  networkPublicKey: string;
  nowMs: number;
  requested: RequestedResource;
  /** The block of this chain with that hash, if it issued one (to check EOA capability nonces). */
  blockByHash: (hash: string) => { timestamp: number } | undefined;
}

export interface VerifiedSession {
  /** Checksummed address the valid capability speaks for (the EOA, or the PKP's address). */
  userAddress: string;
  sessionKey: string;
  capability: CapabilitySig;
  expiration: string;
}

const HEX = /^(0x)?[0-9a-fA-F]*$/;

function hexBytes(value: string): Uint8Array | undefined {
  if (!HEX.test(value) || value.replace(/^0x/, '').length % 2) return undefined;
  return Buffer.from(value.replace(/^0x/, ''), 'hex');
}

/** `http://localhost:7470/` → `127.0.0.1:7470`, as Lit's node normalises `nodeAddress`. */
export function normaliseNodeAddress(address: string): string {
  return address
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '')
    .replace('localhost', '127.0.0.1');
}

function checkEd25519(sig: SessionSig): void {
  const pub = typeof sig.address === 'string' ? hexBytes(sig.address) : undefined;
  if (pub?.length !== 32) {
    throw litError(
      'NodeAuthSigAddressConversionError',
      'session key (address) is not a 32-byte hex ed25519 key',
    );
  }
  const signature = typeof sig.sig === 'string' ? hexBytes(sig.sig) : undefined;
  if (signature?.length !== 64) {
    throw litError(
      'NodeAuthSigSignatureConversionError',
      'session sig is not a 64-byte hex ed25519 signature',
    );
  }
  let ok = false;
  try {
    ok = ed25519.verify(signature, new TextEncoder().encode(sig.signedMessage), pub, { zip215: false });
  } catch {
    ok = false;
  }
  if (!ok) throw litError('NodeInvalidAuthSigSessionKeySignature', 'Session key signature is not valid');
}

function parseSignedMessage(text: unknown): SessionSignedMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(text));
  } catch (e) {
    throw litError(
      'NodeAuthSigSignedMessageConversionError',
      `session signedMessage is not JSON: ${(e as Error).message}`,
    );
  }
  const m = parsed as Partial<SessionSignedMessage>;
  const ok =
    !!m &&
    typeof m.sessionKey === 'string' &&
    Array.isArray(m.resourceAbilityRequests) &&
    Array.isArray(m.capabilities) &&
    typeof m.issuedAt === 'string' &&
    typeof m.expiration === 'string' &&
    typeof m.nodeAddress === 'string';
  if (!ok) {
    throw litError(
      'NodeAuthSigSignedMessageConversionError',
      'session signedMessage lacks sessionKey, resourceAbilityRequests, capabilities, issuedAt, expiration or nodeAddress',
    );
  }
  return m as SessionSignedMessage;
}

function checkResourceAbilityRequests(m: SessionSignedMessage, requested: RequestedResource): void {
  const found = m.resourceAbilityRequests.some((r) => {
    const prefix = r?.resource?.resourcePrefix;
    const id = r?.resource?.resource;
    return prefix === requested.resourcePrefix && (id === '*' || id === requested.resourceId);
  });
  if (!found) {
    throw litError(
      'NodeResourceIdNotFound',
      `Could not find requested resource ${requested.resourcePrefix}://${requested.resourceId} in the resourceAbilityRequests`,
    );
  }
}

/** Issue/expiry of the session itself (Lit's `validate_session_sig_time_parameters`). */
export function checkSessionTimes(issuedAtText: string, expirationText: string, nowMs: number): void {
  const issuedAt = Date.parse(issuedAtText);
  if (!Number.isFinite(issuedAt))
    throw litError('NodeParserError', 'Could not parse issued_at of session key signed message');
  if (issuedAt > nowMs + GRACE_PERIOD_MS) {
    throw litError(
      'NodeIatOutsideGracePeriod',
      `Session key issued_at ${issuedAtText} is in the future beyond the grace period of 60 seconds (now is ${new Date(nowMs).toISOString()})`,
    );
  }
  const expiration = Date.parse(expirationText);
  if (!Number.isFinite(expiration)) {
    throw litError('NodeParserError', 'Could not parse expiration of session key signed message');
  }
  if (expiration < issuedAt) {
    throw litError(
      'NodeExpWrongOrTooLarge',
      `Session key expiration ${expirationText} is behind issued_at ${issuedAtText}`,
    );
  }
  if (expiration < nowMs - GRACE_PERIOD_MS) {
    throw litError(
      'NodeExpWrongOrTooLarge',
      `Session key expiration ${expirationText} is in the past beyond the grace period of 60 seconds (now is ${new Date(nowMs).toISOString()})`,
    );
  }
  checkExpirationWindow(issuedAt, expiration);
}

type CapabilityKind = 'wallet' | 'bls';

function capabilityKind(c: CapabilitySig): CapabilityKind | undefined {
  if (c.algo === 'LIT_BLS' || c.derivedVia === 'lit.bls') return 'bls';
  if (c.algo === undefined || c.algo === 'secp256k1' || c.derivedVia === 'web3.eth.personal.sign')
    return 'wallet';
  return undefined;
}

/** Validates one capability; returns the address it speaks for. */
export function verifyCapability(
  c: CapabilitySig,
  sessionPubkey: string,
  ctx: Pick<VerifyContext, 'networkPublicKey' | 'nowMs' | 'requested' | 'blockByHash'>,
): string {
  if (!c || typeof c !== 'object' || typeof c.signedMessage !== 'string' || typeof c.sig !== 'string') {
    throw litError('NodeSIWECapabilityInvalid', 'capability is not an auth sig');
  }
  const kind = capabilityKind(c);
  if (!kind) {
    throw litError(
      'NodeSIWEMessageError',
      `capability auth sig type ${c.algo ?? c.derivedVia} is not supported`,
    );
  }
  const siwe = parseSiwe(c.signedMessage, 'NodeSIWECapabilityInvalid');
  if (kind === 'wallet') {
    if (!hexBytes(c.sig)) throw litError('NodeSIWESigConversionError', 'capability signature is not hex');
    const signer = recoverSigner(c.signedMessage, c.sig);
    if (!signer || signer.toLowerCase() !== siwe.address.toLowerCase()) {
      throw litError('NodeSIWEMessageError', 'Wallet signature of session key via SIWE is not valid');
    }
    if (!siweValidAt(siwe, ctx.nowMs)) {
      throw litError('NodeSIWEMessageError', 'Wallet-signed SIWE message has expired or is not yet valid');
    }
    // Lit's nonce rule (see checkNonceBlock): an EOA capability's nonce must be a blockhash of
    // this chain at most 30 days old, else NodeInvalidBlockhash — on every endpoint that verifies
    // session sigs, not only on sign_session_key. PKP (BLS) capabilities were checked when the
    // network signed them.
    checkNonceBlock(siwe.nonce, ctx.blockByHash(siwe.nonce), ctx.nowMs);
  } else {
    if (!siweValidAt(siwe, ctx.nowMs)) {
      throw litError(
        'NodeSIWEMessageError',
        'The SIWE message is not valid now.  It has expired or is not yet valid',
      );
    }
    let proof: unknown;
    try {
      proof = (JSON.parse(c.sig) as { ProofOfPossession?: unknown }).ProofOfPossession;
    } catch {
      proof = undefined;
    }
    if (typeof proof !== 'string' || !hexBytes(proof)) {
      throw litError('NodeSIWESigConversionError', 'BLS capability sig is not {"ProofOfPossession": <hex>}');
    }
    if (!verifyBlsSignature(ctx.networkPublicKey, litSessionSigningHash(c.signedMessage), proof)) {
      throw litError('NodeSIWEMessageError', 'BLS signature of session key via SIWE is not valid');
    }
  }
  if (siwe.uri !== SESSION_KEY_URI_PREFIX + sessionPubkey) {
    throw litError(
      'NodeSIWEMessageError',
      `The session pubkey in the auth sig is not signed in the SIWE message. The correct URI should be ${SESSION_KEY_URI_PREFIX}${sessionPubkey} but the signed URI was ${siwe.uri}`,
    );
  }
  let recaps: ReturnType<typeof extractRecaps>;
  try {
    recaps = extractRecaps(siwe);
  } catch (e) {
    const msg = e instanceof RecapError ? e.message : String(e);
    throw litError(
      'NodeSIWECapabilityInvalid',
      `Unable to extract and verify session capability object: ${msg}`,
    );
  }
  const { resourcePrefix, resourceId, ability } = ctx.requested;
  if (!recaps.some((r) => recapGrants(r.att, resourcePrefix, resourceId, ability))) {
    throw litError(
      'NodeSIWECapabilityInvalid',
      `No capability grants ${ability} on ${resourcePrefix}://${resourceId}`,
    );
  }
  return ethers.utils.getAddress(siwe.address);
}

export function verifySessionSig(sig: SessionSig, ctx: VerifyContext): VerifiedSession {
  if (!sig || typeof sig !== 'object') throw litError('NodeInvalidAuthSig', 'authSig is missing');
  checkEd25519(sig);
  const m = parseSignedMessage(sig.signedMessage);
  checkResourceAbilityRequests(m, ctx.requested);
  checkSessionTimes(m.issuedAt, m.expiration, ctx.nowMs);
  if (normaliseNodeAddress(m.nodeAddress) !== normaliseNodeAddress(ctx.nodeAddress)) {
    throw litError(
      'NodeNotAuthorized',
      `Session key node_address ${m.nodeAddress} does not match our node address ${ctx.nodeAddress}`,
    );
  }
  if (m.capabilities.length === 0) throw litError('NodeSIWECapabilityInvalid', 'Empty capabilites array.');
  // The SDK puts the wallet's own capability last (after delegations), so when none is valid the
  // last failure is the one worth reporting.
  let lastError: LitNodeError | undefined;
  for (const capability of m.capabilities) {
    try {
      const userAddress = verifyCapability(capability, sig.address, ctx);
      return { userAddress, sessionKey: sig.address, capability, expiration: m.expiration };
    } catch (e) {
      lastError = e as LitNodeError;
    }
  }
  throw lastError ?? litError('NodeSIWECapabilityInvalid', 'Could not find valid capability.');
}
