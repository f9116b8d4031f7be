/**
 * The devnet's threshold shares against the SDK's own wasm: any t of n shares combine into a
 * signature the SDK verifies against the network key and decrypts with.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  combineSignatureShares,
  encrypt,
  verifyAndDecryptWithSignatureShares,
  verifySignature,
} from '@lit-protocol/crypto';
import { blsSessionSigVerify } from '@lit-protocol/lit-node-client-nodejs/src/lib/helpers/validate-bls-session-sig';
import { SiweMessage } from 'siwe';
import {
  BlsNetworkKey,
  litSessionSigningHash,
  signShare,
  verifyBlsSignature,
} from '../../src/devnet/bls-threshold';

const message = new TextEncoder().encode('lit-accesscontrolcondition://abc/def');
const proof = (hex: string) => ({ ProofOfPossession: hex });

describe('threshold 2 of 3', () => {
  const key = BlsNetworkKey.generate(2);
  const shares = [1, 2, 3].map((i) => signShare(key.share(i), message));

  test('the network key is a 48-byte compressed G1 point', () => {
    assert.match(key.publicKeyHex, /^[0-9a-f]{96}$/);
  });

  for (const subset of [
    [0, 1],
    [0, 2],
    [1, 2],
    [2, 0, 1],
  ]) {
    test(`shares ${subset.map((i) => i + 1).join(',')} combine into a signature the SDK verifies`, async () => {
      const combined = await combineSignatureShares(subset.map((i) => proof(shares[i])));
      await verifySignature(key.publicKeyHex, message, Buffer.from(combined, 'hex'));
      assert.ok(verifyBlsSignature(key.publicKeyHex, message, combined));
    });
  }

  test('a single share is not enough', async () => {
    await assert.rejects(combineSignatureShares([proof(shares[0])]));
    assert.equal(verifyBlsSignature(key.publicKeyHex, message, shares[0].slice(2)), false);
  });

  test('shares of another network key do not verify', async () => {
    const other = BlsNetworkKey.generate(2);
    const combined = await combineSignatureShares(
      [1, 2].map((i) => proof(signShare(other.share(i), message))),
    );
    assert.equal(verifyBlsSignature(key.publicKeyHex, message, combined), false);
  });

  test('data the SDK encrypts to the network key decrypts with t shares over the identity', async () => {
    const ciphertext = await encrypt(key.publicKeyHex, new TextEncoder().encode('secret'), message);
    const plain = await verifyAndDecryptWithSignatureShares(key.publicKeyHex, message, ciphertext, [
      proof(shares[2]),
      proof(shares[0]),
    ]);
    assert.equal(new TextDecoder().decode(plain), 'secret');
  });
});

test('a PKP session signature passes the SDK check of session sigs (blsSessionSigVerify)', async () => {
  const key = BlsNetworkKey.generate(3);
  const siwe = new SiweMessage({
    domain: 'localhost',
    address: '0x1cD4147AF045AdCADe6eAC4883b9310FD286d95a',
    uri: `lit:session:${'ab'.repeat(32)}`,
    version: '1',
    chainId: 1,
    nonce: '0x1234567890abcdef',
    issuedAt: new Date(Date.now() - 60_000).toISOString(),
    expirationTime: new Date(Date.now() + 3600_000).toISOString(),
  });
  const signedMessage = siwe.prepareMessage();
  const hash = litSessionSigningHash(signedMessage);
  const combined = await combineSignatureShares([2, 3, 5].map((i) => proof(signShare(key.share(i), hash))));
  const authSig = {
    sig: JSON.stringify(proof(combined)),
    derivedVia: 'lit.bls',
    signedMessage,
    address: siwe.address,
  };
  await blsSessionSigVerify(verifySignature, key.publicKeyHex, authSig, new SiweMessage(signedMessage));
  const tampered = { ...authSig, signedMessage: signedMessage.replace('Chain ID: 1', 'Chain ID: 2') };
  await assert.rejects(
    blsSessionSigVerify(verifySignature, key.publicKeyHex, tampered, new SiweMessage(signedMessage)),
  );
});

test('share indices are bounded by the one byte that carries them', () => {
  const key = BlsNetworkKey.generate(1);
  assert.throws(() => key.share(0));
  assert.throws(() => key.share(256));
  assert.throws(() => BlsNetworkKey.generate(0));
});
