/**
 * The SIWE and wallet-signature checks of a Lit node, as pure functions of their inputs and the
 * current time. Error codes follow Lit's node: its `validate_siwe`, `check_expiration_validity`,
 * `check_block_timestamp_validity` and the SIWE capability validators.
 */
import { ethers } from 'ethers';
import { SiweMessage } from 'siwe';
import { type LitErrorCode, litError } from './lit-errors';

/** Clock skew a node tolerates on issue and expiry times. */
export const GRACE_PERIOD_MS = 60_000;
/** Longest a session may last after it was issued, and oldest a nonce block may be. */
export const MAX_VALIDITY_MS = 30 * 24 * 3600_000;

export interface WalletAuthSig {
  sig: string;
  derivedVia: string;
  signedMessage: string;
  address: string;
  algo?: string;
}

export function parseSiwe(text: unknown, code: LitErrorCode = 'NodeSIWEMessageError'): SiweMessage {
  if (typeof text !== 'string' || !text) throw litError(code, 'SIWE message is missing');
  try {
    return new SiweMessage(text);
  } catch (e) {
    throw litError(code, 'Error parsing SIWE message', [String((e as Error)?.message ?? e)]);
  }
}

function parseTime(value: string | undefined, what: string, code: LitErrorCode): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (!Number.isFinite(t)) throw litError(code, `Could not parse ${what} ${JSON.stringify(value)}`);
  return t;
}

/** A session may not outlive its issue time by more than 30 days. */
export function checkExpirationWindow(issuedAtMs: number, expirationMs: number): void {
  const max = issuedAtMs + MAX_VALIDITY_MS;
  if (expirationMs > max) {
    throw litError(
      'NodeSIWEMessageError',
      `Session key expiration ${new Date(expirationMs).toISOString()} is beyond the max expiry timestamp of ${new Date(max).toISOString()} (issued_at is ${new Date(issuedAtMs).toISOString()})`,
    );
  }
}

/** Issue and expiry times of a SIWE sent to `sign_session_key` (Lit's `validate_siwe`). */
export function checkSessionSiweTimes(
  siwe: { issuedAt?: string; expirationTime?: string },
  nowMs: number,
): void {
  const issuedAt = parseTime(siwe.issuedAt, 'issued_at', 'NodeSIWEMessageError') ?? nowMs;
  if (issuedAt > nowMs + GRACE_PERIOD_MS) {
    throw litError(
      'NodeSIWEMessageError',
      `Session key issued_at ${siwe.issuedAt} is in the future beyond the grace period of 60 seconds`,
    );
  }
  const expiration = parseTime(siwe.expirationTime, 'expiration', 'NodeSIWEMessageError');
  if (expiration === undefined)
    throw litError('NodeSIWEMessageError', 'Session key expiration time is not set');
  if (expiration < issuedAt) {
    throw litError(
      'NodeExpWrongOrTooLarge',
      `Session key expiration ${siwe.expirationTime} is behind issued_at which is ${siwe.issuedAt}`,
    );
  }
  if (expiration < nowMs - GRACE_PERIOD_MS) {
    throw litError(
      'NodeSIWEMessageError',
      `Session key expiration ${siwe.expirationTime} is in the past beyond the grace period of 60 seconds`,
    );
  }
  checkExpirationWindow(issuedAt, expiration);
}

/**
 * The nonce rule of Lit's nodes: the SIWE nonce must be the hash of a block of the chain the
 * network follows, and that block must be at most 30 days old; otherwise `NodeInvalidBlockhash`.
 * Nodes apply it to the SIWE of `sign_session_key` and to every wallet-signed (EOA) capability
 * of a session sig, on each endpoint that verifies session sigs. Source: Lit's js-sdk PRs #285
 * and #292 (Dec 2023: the nodes were changed to refuse an auth sig / session capability whose
 * nonce is not a valid Ethereum blockhash, so the SDK must take the nonce from the handshake or
 * block indexer), and /work/shared/notes/lit-network.md (30-day limit, `NodeInvalidBlockhash`).
 * Lit's node source was not among the public sources searched, so the code for a too-old block
 * (NodeInvalidBlockhash, like an unknown one) follows the notes rather than node code.
 */
export function checkNonceBlock<B extends { timestamp: number }>(
  nonce: string,
  block: B | undefined,
  nowMs: number,
): asserts block is B {
  if (!block)
    throw litError('NodeInvalidBlockhash', `Invalid block hash ${nonce}: this chain never issued it`);
  const oldest = nowMs - MAX_VALIDITY_MS;
  if (block.timestamp * 1000 < oldest) {
    throw litError(
      'NodeInvalidBlockhash',
      `Invalid block hash ${nonce}: blocktime ${new Date(block.timestamp * 1000).toISOString()} is beyond the max expiry timestamp of ${new Date(oldest).toISOString()}`,
    );
  }
}

/** Whether a SIWE is usable at `nowMs`: not before `notBefore`, not at or after expiry. */
export function siweValidAt(siwe: { expirationTime?: string; notBefore?: string }, nowMs: number): boolean {
  const exp = siwe.expirationTime ? Date.parse(siwe.expirationTime) : undefined;
  const nbf = siwe.notBefore ? Date.parse(siwe.notBefore) : undefined;
  if (exp !== undefined && !(nowMs < exp)) return false;
  if (nbf !== undefined && !(nowMs >= nbf)) return false;
  return true;
}

/** Recovers the EIP-191 signer of `message`, or undefined when the signature is malformed. */
export function recoverSigner(message: string, sig: string): string | undefined {
  try {
    return ethers.utils.verifyMessage(message, sig);
  } catch {
    return undefined;
  }
}

function isWalletAuthSig(v: unknown): v is WalletAuthSig {
  const o = v as Record<string, unknown>;
  return (
    !!o &&
    typeof o === 'object' &&
    typeof o.sig === 'string' &&
    typeof o.signedMessage === 'string' &&
    typeof o.address === 'string'
  );
}

/**
 * An EthWallet auth method (`authMethodType` 1): `accessToken` is a JSON wallet auth sig over a
 * SIWE message. Returns the checksummed address it proves control of.
 */
export function verifyEthWalletAccessToken(accessToken: unknown, nowMs: number): string {
  let authSig: unknown;
  try {
    authSig = typeof accessToken === 'string' ? JSON.parse(accessToken) : accessToken;
  } catch {
    throw litError('NodeInvalidAuthSig', 'EthWallet accessToken is not a JSON auth sig');
  }
  if (!isWalletAuthSig(authSig)) {
    throw litError(
      'NodeInvalidAuthSig',
      'EthWallet accessToken must be an auth sig {sig, signedMessage, address}',
    );
  }
  const siwe = parseSiwe(authSig.signedMessage, 'NodeInvalidAuthSig');
  const signer = recoverSigner(authSig.signedMessage, authSig.sig);
  if (!signer) throw litError('NodeInvalidAuthSig', 'EthWallet auth sig signature is malformed');
  if (signer.toLowerCase() !== siwe.address.toLowerCase()) {
    throw litError('NodeInvalidAuthSig', `EthWallet auth sig was signed by ${signer}, not ${siwe.address}`);
  }
  if (signer.toLowerCase() !== authSig.address.toLowerCase()) {
    throw litError(
      'NodeInvalidAuthSig',
      `EthWallet auth sig address ${authSig.address} is not its signer ${signer}`,
    );
  }
  if (!siweValidAt(siwe, nowMs)) {
    throw litError('NodeInvalidAuthSig', 'EthWallet auth sig SIWE message has expired or is not yet valid');
  }
  return ethers.utils.getAddress(signer);
}
