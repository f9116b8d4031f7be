/**
 * Native Ed25519 for the Lit SDK's session keys.
 *
 * The SDK makes a session key pair and signs every node's session sig with `@lit-protocol/nacl`, a
 * pure-JavaScript tweetnacl: ~11 ms of CPU per key pair and per signature, which made it most of a
 * pooled refresh's cost and the ceiling of a worker's fleet rotation (BENCHMARKS.md, B1/B2).
 * node:crypto (OpenSSL) does the same in well under a millisecond. Ed25519 is deterministic
 * (RFC 8032): the same seed gives the same public key and the same message the same signature, so
 * swapping the implementation changes no byte the nodes see. That is checked before the swap: the
 * native functions must reproduce the SDK's own key and signatures on fresh random inputs, or
 * nothing is replaced. Only key generation and signing change; verification stays the SDK's.
 *
 * The SDK looks `nacl.sign.detached` / `nacl.sign.keyPair` up on its shared module object at call
 * time, so replacing those two properties is enough. The swap is process-wide and made once, by the
 * worker (SESSION_KEEPER_ED25519=sdk keeps the SDK's own).
 */
import crypto from 'node:crypto';
import { nacl } from '@lit-protocol/nacl';
import { ed25519PrivateKeyFromSeed, ed25519PublicKeyBytes } from '../shared/ed25519-der';

/** tweetnacl's secret key: the 32-byte seed, then the 32-byte public key. */
const SECRET_KEY_BYTES = 64;

export type Ed25519Backend = 'native' | 'sdk';

export interface Ed25519Impl {
  detached(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  keyPairFromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array };
}

/** The SDK's own implementation, as loaded (before any swap). */
const sdkDetached = nacl.sign.detached;
const sdkKeyPair = nacl.sign.keyPair;

/**
 * The SDK signs one session sig per node in a synchronous loop with the same session key, and
 * building the key object costs ~15× the signature (BENCHMARKS.md, B1 step table). So the last key
 * object is kept, and dropped in a microtask: it serves that loop and no longer.
 */
let lastKey: { secretKey: Buffer; key: crypto.KeyObject | undefined } | undefined;

/**
 * The key object for a tweetnacl secret key (seed ‖ public key), or undefined when its second half
 * is not the seed's public key: tweetnacl hashes that half into the signature as given, OpenSSL
 * derives it, so only the SDK's own code can reproduce such a signature.
 */
function signingKey(secretKey: Uint8Array): crypto.KeyObject | undefined {
  const bytes = Buffer.from(secretKey.buffer, secretKey.byteOffset, secretKey.byteLength);
  if (lastKey?.secretKey.equals(bytes)) return lastKey.key;
  const candidate = ed25519PrivateKeyFromSeed(secretKey.subarray(0, 32));
  const key = ed25519PublicKeyBytes(candidate).equals(bytes.subarray(32)) ? candidate : undefined;
  if (!lastKey) queueMicrotask(() => (lastKey = undefined));
  lastKey = { secretKey: Buffer.from(bytes), key };
  return key;
}

/** node:crypto's Ed25519 in tweetnacl's shapes. */
export const nativeEd25519: Ed25519Impl = {
  detached(message, secretKey) {
    const key = signingKey(secretKey);
    return key ? new Uint8Array(crypto.sign(null, message, key)) : sdkDetached(message, secretKey);
  },
  keyPairFromSeed(seed) {
    const publicKey = new Uint8Array(ed25519PublicKeyBytes(ed25519PrivateKeyFromSeed(seed)));
    const secretKey = new Uint8Array(SECRET_KEY_BYTES);
    secretKey.set(seed, 0);
    secretKey.set(publicKey, 32);
    return { publicKey, secretKey };
  },
};

export const sdkEd25519: Ed25519Impl = {
  detached: (message, secretKey) => sdkDetached(message, secretKey),
  keyPairFromSeed: (seed) => sdkKeyPair.fromSeed(seed),
};

const equalBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/**
 * Pure given its inputs: true when `candidate` derives the same key pairs as `reference` from the
 * seeds and signs every message (with every key) to the same bytes.
 */
export function sameEd25519(
  reference: Ed25519Impl,
  candidate: Ed25519Impl,
  seeds: Uint8Array[],
  messages: Uint8Array[],
): boolean {
  try {
    for (const seed of seeds) {
      const ref = reference.keyPairFromSeed(seed);
      const got = candidate.keyPairFromSeed(seed);
      if (!equalBytes(ref.publicKey, got.publicKey) || !equalBytes(ref.secretKey, got.secretKey))
        return false;
      for (const message of messages) {
        if (
          !equalBytes(reference.detached(message, ref.secretKey), candidate.detached(message, ref.secretKey))
        )
          return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

let active: Ed25519Backend = 'sdk';

/** Which implementation the SDK's session keys use in this process now. */
export function activeEd25519(): Ed25519Backend {
  return active;
}

/**
 * Swaps node:crypto's Ed25519 into the SDK when it reproduces the SDK's keys and signatures on
 * random inputs (an empty message and the size of a real session sig's signed message included).
 * Returns the backend in use afterwards; calling it again is a no-op.
 */
export function useNativeEd25519(candidate: Ed25519Impl = nativeEd25519): Ed25519Backend {
  if (active === 'native') return active;
  const seeds = [crypto.randomBytes(32), crypto.randomBytes(32)].map((b) => new Uint8Array(b));
  const messages = [0, 1, 700].map((n) => new Uint8Array(crypto.randomBytes(n)));
  if (!sameEd25519(sdkEd25519, candidate, seeds, messages)) return active;

  const detached = Object.assign(
    (message: Uint8Array, secretKey: Uint8Array): Uint8Array =>
      // Anything not shaped like a tweetnacl secret key goes to the SDK, which raises its own error.
      secretKey?.length === SECRET_KEY_BYTES
        ? candidate.detached(message, secretKey)
        : sdkDetached(message, secretKey),
    { verify: sdkDetached.verify },
  );
  const keyPair = Object.assign(() => candidate.keyPairFromSeed(new Uint8Array(crypto.randomBytes(32))), {
    fromSeed: sdkKeyPair.fromSeed,
    fromSecretKey: sdkKeyPair.fromSecretKey,
  });
  nacl.sign.detached = detached as typeof nacl.sign.detached;
  nacl.sign.keyPair = keyPair as typeof nacl.sign.keyPair;
  active = 'native';
  return active;
}

/** Puts the SDK's own implementation back (tests). */
export function useSdkEd25519(): void {
  nacl.sign.detached = sdkDetached;
  nacl.sign.keyPair = sdkKeyPair;
  active = 'sdk';
}
