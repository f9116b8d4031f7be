/**
 * The native Ed25519 swap (src/lit/native-ed25519.ts): node:crypto must give the SDK's own
 * bytes, a failed self-check must leave the SDK untouched, and after the swap the SDK's session
 * key calls go to node:crypto.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, test } from 'node:test';
import { generateSessionKeyPair } from '@lit-protocol/crypto';
import { nacl } from '@lit-protocol/nacl';
import {
  activeEd25519,
  type Ed25519Impl,
  nativeEd25519,
  sameEd25519,
  sdkEd25519,
  useNativeEd25519,
  useSdkEd25519,
} from '../../src/lit/native-ed25519';

after(() => useSdkEd25519());

const random = (n: number) => new Uint8Array(crypto.randomBytes(n));

test('node:crypto derives the same key pairs and signatures as the SDK (RFC 8032 is deterministic)', () => {
  const seeds = Array.from({ length: 5 }, () => random(32));
  const messages = [0, 1, 32, 333, 4096].map(random);
  assert.equal(sameEd25519(sdkEd25519, nativeEd25519, seeds, messages), true);
});

test('signing with interleaved keys in one tick and across ticks never mixes them up', async () => {
  const a = sdkEd25519.keyPairFromSeed(random(32)).secretKey;
  const b = sdkEd25519.keyPairFromSeed(random(32)).secretKey;
  const m = random(200);
  for (const key of [a, a, b, a, b, b])
    assert.deepEqual(nativeEd25519.detached(m, key), sdkEd25519.detached(m, key));
  await Promise.resolve();
  assert.deepEqual(nativeEd25519.detached(m, b), sdkEd25519.detached(m, b));
  // tweetnacl hashes the secret key's second half as given: one that is not the seed's public key
  // signs differently, and the native path must still give the SDK's bytes.
  const c = Uint8Array.from(a);
  c[40] ^= 1;
  assert.deepEqual(nativeEd25519.detached(m, c), sdkEd25519.detached(m, c));
  assert.notDeepEqual(nativeEd25519.detached(m, c), nativeEd25519.detached(m, a));
});

test('the self-check notices an implementation that differs in one byte, or throws', () => {
  const flipped: Ed25519Impl = {
    ...nativeEd25519,
    detached: (m, k) => {
      const sig = nativeEd25519.detached(m, k);
      sig[63] ^= 1;
      return sig;
    },
  };
  const throwing: Ed25519Impl = {
    ...nativeEd25519,
    keyPairFromSeed: () => {
      throw new Error('no ed25519 here');
    },
  };
  assert.equal(sameEd25519(sdkEd25519, flipped, [random(32)], [random(10)]), false);
  assert.equal(sameEd25519(sdkEd25519, throwing, [random(32)], [random(10)]), false);
});

test('a candidate that fails the self-check is not swapped in', () => {
  useSdkEd25519();
  const before = nacl.sign.detached;
  const broken: Ed25519Impl = { ...nativeEd25519, detached: () => new Uint8Array(64) };
  assert.equal(useNativeEd25519(broken), 'sdk');
  assert.equal(activeEd25519(), 'sdk');
  assert.equal(nacl.sign.detached, before);
});

test("after the swap the SDK's session keys and signatures come from node:crypto and still verify", () => {
  useSdkEd25519();
  const calls = { keyPairs: 0, signatures: 0 };
  const counted: Ed25519Impl = {
    keyPairFromSeed: (seed) => {
      calls.keyPairs++;
      return nativeEd25519.keyPairFromSeed(seed);
    },
    detached: (m, k) => {
      calls.signatures++;
      return nativeEd25519.detached(m, k);
    },
  };
  assert.equal(useNativeEd25519(counted), 'native');
  assert.equal(activeEd25519(), 'native');
  const afterSelfCheck = { ...calls };
  // The key pair the activity makes with the SDK's helper is node:crypto's (hex, tweetnacl layout).
  const pair = generateSessionKeyPair();
  assert.equal(calls.keyPairs, afterSelfCheck.keyPairs + 1);
  const secretKey = Uint8Array.from(Buffer.from(pair.secretKey, 'hex'));
  assert.equal(secretKey.length, 64);
  assert.equal(Buffer.from(secretKey.subarray(32)).toString('hex'), pair.publicKey);
  const message = random(500);
  const viaSdk = nacl.sign.detached(message, secretKey);
  assert.equal(calls.signatures, afterSelfCheck.signatures + 1);
  assert.deepEqual(viaSdk, nativeEd25519.detached(message, secretKey));
  assert.equal(nacl.sign.detached.verify(message, viaSdk, secretKey.subarray(32)), true);
  // node:crypto's own verifier agrees (an independent check of the key layout).
  const publicKey = crypto.createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), secretKey.subarray(32)]),
    format: 'der',
    type: 'spki',
  });
  assert.equal(crypto.verify(null, message, publicKey, viaSdk), true);
  // Restoring puts the SDK's functions back.
  useSdkEd25519();
  assert.equal(activeEd25519(), 'sdk');
  assert.deepEqual(nacl.sign.detached(message, secretKey), viaSdk);
});
