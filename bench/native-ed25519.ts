/**
 * Bench-only what-if, NOT product code: swaps node:crypto's Ed25519 into the Lit SDK's pure-JS
 * `@lit-protocol/nacl` (the session key pair and the per-node session sig signatures) in the process
 * that calls it, to measure what that would save. Ed25519 is deterministic (RFC 8032): the swap is
 * only made after both implementations gave the same public key and signature for a random key.
 * Only the what-if processes (bench/pooled-child.ts, worker-child with `nativeEd25519`) call it.
 */
import crypto from 'node:crypto';
import { nacl } from '@lit-protocol/nacl';

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI DER header length of an Ed25519 public key; the 32-byte key follows. */
const SPKI_HEADER = 12;

function keyFromSeed(seed: Uint8Array): crypto.KeyObject {
  return crypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function publicKeyOf(key: crypto.KeyObject): Buffer {
  return crypto.createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_HEADER);
}

let installed: boolean | undefined;

/** True when the native implementation is in place (false: the check failed, the SDK's stays). */
export function installNativeEd25519(): boolean {
  if (installed !== undefined) return installed;
  const jsDetached = nacl.sign.detached;
  const jsKeyPair = nacl.sign.keyPair;
  const nativeDetached = (message: Uint8Array, secretKey: Uint8Array): Uint8Array => {
    if (secretKey.length !== 64) return jsDetached(message, secretKey);
    return new Uint8Array(crypto.sign(null, message, keyFromSeed(secretKey.subarray(0, 32))));
  };
  const nativeKeyPair = () => {
    const seed = crypto.randomBytes(32);
    const publicKey = publicKeyOf(keyFromSeed(seed));
    return {
      publicKey: new Uint8Array(publicKey),
      secretKey: new Uint8Array(Buffer.concat([seed, publicKey])),
    };
  };
  const seed = new Uint8Array(crypto.randomBytes(32));
  const message = new Uint8Array(crypto.randomBytes(300));
  const js = jsKeyPair.fromSeed(seed);
  installed =
    Buffer.from(js.publicKey).equals(publicKeyOf(keyFromSeed(seed))) &&
    Buffer.from(jsDetached(message, js.secretKey)).equals(Buffer.from(nativeDetached(message, js.secretKey)));
  if (installed) {
    Object.assign(nativeDetached, { verify: jsDetached.verify });
    Object.assign(nativeKeyPair, { fromSeed: jsKeyPair.fromSeed, fromSecretKey: jsKeyPair.fromSecretKey });
    nacl.sign.detached = nativeDetached;
    nacl.sign.keyPair = nativeKeyPair;
  }
  return installed;
}
