/**
 * Ed25519 keys in node:crypto from the raw 32-byte seed and back to the raw public key: the one
 * place the DER framing lives (the worker's native signing, the agent's session key files and its
 * signer). Not for the workflow bundle (node:crypto).
 */
import crypto from 'node:crypto';

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** Length of the SPKI DER header of an Ed25519 public key; the 32-byte key follows. */
const SPKI_ED25519_HEADER = 12;

export function ed25519PrivateKeyFromSeed(seed: Uint8Array): crypto.KeyObject {
  return crypto.createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** The raw 32-byte public key of an Ed25519 key object. */
export function ed25519PublicKeyBytes(key: crypto.KeyObject): Buffer {
  return crypto.createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_HEADER);
}
