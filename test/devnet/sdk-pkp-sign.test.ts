/**
 * The real, unmodified Lit SDK's `pkpSign` (LitNodeClientNodeJs 7.4.0, POST /web/pkp/sign/v1)
 * against the devnet: sigs from getPkpSessionSigs and from an EOA getSessionSigs of a permitted
 * wallet sign, and the SDK's own ECDSA combiner yields a signature of the PKP's key; then the
 * refusals, each with the node's error code — and the nonce rule for EOA capabilities (a nonce
 * this chain never issued, or too old, is refused on pkpSign and on decrypt).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSessionKeyPair } from '@lit-protocol/crypto';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { type Devnet, litErrorCodeOf, type PkpInfo, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import {
  connected,
  decryptWith,
  encryptFor,
  eoaSessionSigs,
  ethers,
  inMs,
  PKP_SIGNING,
  pkpSessionSigs,
  rejectionOf,
  resign,
  type SessionSigs,
} from './helpers';

let devnet: Devnet;
let client: LitNodeClientNodeJs;
const alice = ethers.Wallet.createRandom();
const bob = ethers.Wallet.createRandom();
let pkp: PkpInfo;

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
  client = await connected(devnet.networkConfig());
  pkp = devnet.mintPkp([alice.address]);
});
after(async () => {
  if (client) await disposeLitClient(client);
  await devnet?.close();
});

const digestOf = (text: string) =>
  ethers.utils.arrayify(ethers.utils.keccak256(ethers.utils.toUtf8Bytes(text)));

function pkpSign(sigs: SessionSigs, pubKey = pkp.publicKey, toSign = digestOf('hello')) {
  return client.pkpSign({ pubKey, toSign, sessionSigs: sigs as any });
}

async function pkpSignError(sigs: SessionSigs, pubKey = pkp.publicKey): Promise<string | undefined> {
  return litErrorCodeOf(await rejectionOf(pkpSign(sigs, pubKey)));
}

/** Asserts that `signature` (65 bytes, hex) is the PKP's signature of `digest`. */
function assertSignedByPkp(signature: string, digest: Uint8Array, key: PkpInfo = pkp): void {
  assert.equal(ethers.utils.recoverAddress(digest, signature), key.ethAddress);
  assert.equal(ethers.utils.recoverPublicKey(digest, signature).toLowerCase(), key.publicKey.toLowerCase());
}

/** POSTs the body the SDK's pkpSign sends to one node, bypassing the SDK's own sig checks. */
async function postPkpSign(url: string, authSig: unknown, pubkey = pkp.publicKey) {
  const res = await fetch(`${url}/web/pkp/sign/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ toSign: [...digestOf('direct')], pubkey, authSig }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('pkpSign with the stock SDK', () => {
  test('PKP session sigs (getPkpSessionSigs with pkp-signing) sign; the signature recovers to the PKP', async () => {
    const sigs = await pkpSessionSigs(client, alice, pkp.publicKey, {
      resourceAbilityRequests: PKP_SIGNING(),
    });
    const before = devnet.stats().totals.successes.pkp_sign ?? 0;
    const digest = digestOf('signed by the pkp');
    const sig = await pkpSign(sigs, pkp.publicKey, digest);
    assert.equal(devnet.stats().totals.successes.pkp_sign, before + devnet.nodeUrls.length);
    assertSignedByPkp(sig.signature, digest);
    assert.equal(sig.publicKey.toLowerCase(), pkp.publicKey.replace(/^0x/, '').toLowerCase());
    assert.equal(sig.dataSigned, Buffer.from(digest).toString('hex'));
    assert.ok(BigInt(`0x${sig.s}`) <= ethers.constants.MaxUint256.div(2).toBigInt(), 'low s');
  });

  test('EOA session sigs of a permitted wallet sign', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: PKP_SIGNING() });
    const digest = digestOf('signed for alice');
    assertSignedByPkp((await pkpSign(sigs, pkp.publicKey, digest)).signature, digest);
  });

  test('a grant on exactly this PKP (by token id) signs, and many digests all verify', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: PKP_SIGNING(pkp.tokenId) });
    for (let i = 0; i < 8; i++) {
      const digest = digestOf(`message ${i}`);
      assertSignedByPkp((await pkpSign(sigs, pkp.publicKey, digest)).signature, digest);
    }
  });

  test('a wallet permitted later may sign', async () => {
    const other = devnet.mintPkp([alice.address]);
    devnet.setPkpController(other.publicKey, bob.address);
    const sigs = await eoaSessionSigs(client, bob, { resourceAbilityRequests: PKP_SIGNING() });
    const digest = digestOf('bob, permitted');
    assertSignedByPkp((await pkpSign(sigs, other.publicKey, digest)).signature, digest, other);
  });
});

describe('pkpSign is refused, with the node error code', () => {
  test('expired session sigs: the SDK refuses them itself, and a node answers NodeExpWrongOrTooLarge', async () => {
    const sessionKey = generateSessionKeyPair();
    const sigs = await eoaSessionSigs(client, alice, { sessionKey, resourceAbilityRequests: PKP_SIGNING() });
    const expired = resign(sigs, sessionKey.secretKey, (m) => {
      m.issuedAt = inMs(-2 * 3600_000);
      m.expiration = inMs(-3600_000);
    });
    const err = await rejectionOf(pkpSign(expired));
    assert.match(String((err as Error).message), /Invalid sessionSigs/);
    for (const [url, sig] of Object.entries(expired)) {
      const { status, body } = await postPkpSign(url, sig);
      assert.equal(status, 403);
      assert.equal(body.errorCode, 'NodeExpWrongOrTooLarge');
    }
  });

  test('sigs without pkp-signing (decrypt only): NodeResourceIdNotFound', async () => {
    const sigs = await eoaSessionSigs(client, alice);
    assert.equal(await pkpSignError(sigs), 'NodeResourceIdNotFound');
  });

  test('sigs requesting pkp-signing whose capability does not grant it: NodeSIWECapabilityInvalid', async () => {
    const sessionKey = generateSessionKeyPair();
    const sigs = await eoaSessionSigs(client, alice, { sessionKey });
    const widened = resign(sigs, sessionKey.secretKey, (m) => {
      m.resourceAbilityRequests.push({
        resource: { resource: '*', resourcePrefix: 'lit-pkp' },
        ability: 'pkp-signing',
      });
    });
    assert.equal(await pkpSignError(widened), 'NodeSIWECapabilityInvalid');
  });

  test('a grant on another PKP only: NodeSIWECapabilityInvalid', async () => {
    const other = devnet.mintPkp([alice.address]);
    const sessionKey = generateSessionKeyPair();
    const sigs = await eoaSessionSigs(client, alice, {
      sessionKey,
      resourceAbilityRequests: PKP_SIGNING(other.tokenId),
    });
    // Ask for this PKP in resourceAbilityRequests; the wallet's recap still names only the other.
    const retargeted = resign(sigs, sessionKey.secretKey, (m) => {
      m.resourceAbilityRequests[0].resource.resource = pkp.tokenId.slice(2);
    });
    assert.equal(await pkpSignError(retargeted), 'NodeSIWECapabilityInvalid');
  });

  test('a wallet the PKP does not permit: NodePKPNotAuthorized', async () => {
    const sigs = await eoaSessionSigs(client, bob, { resourceAbilityRequests: PKP_SIGNING() });
    assert.equal(await pkpSignError(sigs), 'NodePKPNotAuthorized');
  });

  test("one PKP's session sigs for a PKP that permits none of its auth methods: NodePKPNotAuthorized", async () => {
    const other = devnet.mintPkp([alice.address]);
    const third = devnet.mintPkp([bob.address]);
    const sigs = await pkpSessionSigs(client, alice, other.publicKey, {
      resourceAbilityRequests: PKP_SIGNING(),
    });
    assert.equal(await pkpSignError(sigs, third.publicKey), 'NodePKPNotAuthorized');
    // As on Lit's nodes (check_pkp_auth with the session's resolved auth context): the auth
    // method that authorised the session, alice's wallet, is permitted on `pkp` too, so it signs.
    await pkpSign(sigs, pkp.publicKey);
  });

  test('a permitted wallet removed from the PKP: NodePKPNotAuthorized', async () => {
    const other = devnet.mintPkp([alice.address, bob.address]);
    const sigs = await eoaSessionSigs(client, bob, { resourceAbilityRequests: PKP_SIGNING() });
    await pkpSign(sigs, other.publicKey);
    devnet.setPkpController(other.publicKey, bob.address, false);
    assert.equal(await pkpSignError(sigs, other.publicKey), 'NodePKPNotAuthorized');
  });

  test('a public key that is no PKP of this network: NodeInvalidPKPAddress', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: PKP_SIGNING() });
    const stranger = ethers.Wallet.createRandom().publicKey;
    assert.equal(await pkpSignError(sigs, stranger), 'NodeInvalidPKPAddress');
  });

  test('a tampered session signature: NodeInvalidAuthSigSessionKeySignature', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: PKP_SIGNING() });
    const tampered = Object.fromEntries(
      Object.entries(sigs).map(([url, s]) => [
        url,
        { ...s, sig: (s.sig[0] === '0' ? '1' : '0') + s.sig.slice(1) },
      ]),
    );
    assert.equal(await pkpSignError(tampered), 'NodeInvalidAuthSigSessionKeySignature');
  });

  test('a signed message edited without re-signing: NodeInvalidAuthSigSessionKeySignature', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: PKP_SIGNING() });
    const edited = Object.fromEntries(
      Object.entries(sigs).map(([url, s]) => {
        const m = JSON.parse(s.signedMessage);
        m.expiration = inMs(7200_000);
        return [url, { ...s, signedMessage: JSON.stringify(m) }];
      }),
    );
    assert.equal(await pkpSignError(edited), 'NodeInvalidAuthSigSessionKeySignature');
  });

  test('a digest that is not 32 bytes: NodeBadInput', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: PKP_SIGNING() });
    const err = await rejectionOf(pkpSign(sigs, pkp.publicKey, new Uint8Array(31)));
    assert.equal(litErrorCodeOf(err), 'NodeBadInput');
  });
});

describe('EOA capability nonce: a blockhash this chain issued, at most 30 days old', () => {
  const randomNonce = () => ethers.utils.hexlify(ethers.utils.randomBytes(32));

  test('an invented random 32-byte nonce is refused on pkpSign: NodeInvalidBlockhash', async () => {
    const sigs = await eoaSessionSigs(client, alice, {
      resourceAbilityRequests: PKP_SIGNING(),
      nonce: randomNonce(),
    });
    assert.equal(await pkpSignError(sigs), 'NodeInvalidBlockhash');
  });

  test('an invented random 32-byte nonce is refused on decrypt: NodeInvalidBlockhash', async () => {
    const sigs = await eoaSessionSigs(client, alice, { nonce: randomNonce() });
    const encrypted = await encryptFor(client, alice.address, 'secret');
    assert.equal(
      litErrorCodeOf(await rejectionOf(decryptWith(client, sigs, encrypted))),
      'NodeInvalidBlockhash',
    );
  });

  test('the 45-day-old genesis hash is refused on pkpSign and decrypt: NodeInvalidBlockhash', async () => {
    const nonce = devnet.expiredBlockhash();
    assert.ok(devnet.blockByHash(nonce), 'a block this chain did issue');
    const signSigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: PKP_SIGNING(), nonce });
    assert.equal(await pkpSignError(signSigs), 'NodeInvalidBlockhash');
    const decryptSigs = await eoaSessionSigs(client, alice, { nonce });
    const encrypted = await encryptFor(client, alice.address, 'secret');
    assert.equal(
      litErrorCodeOf(await rejectionOf(decryptWith(client, decryptSigs, encrypted))),
      'NodeInvalidBlockhash',
    );
  });

  test('a nonce of a block a few blocks back is accepted', async () => {
    const block = devnet.latestBlock();
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(devnet.latestBlock().number > block.number);
    const sigs = await eoaSessionSigs(client, alice, { nonce: block.hash });
    const encrypted = await encryptFor(client, alice.address, 'readable');
    assert.equal(await decryptWith(client, sigs, encrypted), 'readable');
  });
});
