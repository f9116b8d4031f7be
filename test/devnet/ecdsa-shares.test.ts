/**
 * The devnet's ECDSA shares (src/devnet/ecdsa-shares.ts) against the SDK's own combiner
 * (`@lit-protocol/crypto` combineEcdsaShares), the PKP registry's keys, and a PKP that keeps
 * signing after a devnet restart from its state file.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { combineEcdsaShares } from '@lit-protocol/crypto';
import { loadDevnetState, startDevnet } from '../../src/devnet';
import { ecdsaShare } from '../../src/devnet/ecdsa-shares';
import { PkpRegistry } from '../../src/devnet/pkp-registry';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import { connected, eoaSessionSigs, ethers, PKP_SIGNING } from './helpers';

const registry = new PkpRegistry();
const pkp = registry.mint([]);
const secretKey = registry.secretKey(pkp.publicKey)!;

async function combine(digest: Uint8Array, participants: number[], only = participants) {
  const shares = only.map((p) => {
    const s = ecdsaShare(secretKey, digest, p, participants);
    return {
      sigType: 'K256',
      signatureShare: s.share,
      shareIndex: p + 1,
      bigR: s.bigR,
      publicKey: s.publicKey,
      dataSigned: Buffer.from(digest).toString('hex'),
      sigName: 'sig',
    };
  });
  const sig = await combineEcdsaShares(shares as any);
  return ethers.utils.joinSignature({ r: `0x${sig.r}`, s: `0x${sig.s}`, recoveryParam: sig.recid });
}

describe('ecdsaShare', () => {
  test('the shares of any participant set combine, in the SDK, to a signature of the PKP', async () => {
    for (const participants of [[0], [0, 1, 2], [1, 2], [0, 2, 5, 7]]) {
      for (let i = 0; i < 5; i++) {
        const digest = ethers.utils.arrayify(ethers.utils.id(`${participants}-${i}`));
        assert.equal(
          ethers.utils.recoverAddress(digest, await combine(digest, participants)),
          pkp.ethAddress,
        );
      }
    }
  });

  test('every node derives the same R; a missing share gives no valid signature', async () => {
    const digest = ethers.utils.arrayify(ethers.utils.id('partial'));
    const rs = [0, 1, 2].map((p) => ecdsaShare(secretKey, digest, p, [0, 1, 2]).bigR);
    assert.equal(new Set(rs).size, 1);
    // The SDK's combiner verifies what it combined, so two of three shares are refused.
    await assert.rejects(combine(digest, [0, 1, 2], [0, 1]));
  });

  test('refuses a digest that is not 32 bytes and a node outside the participants', () => {
    assert.throws(() => ecdsaShare(secretKey, new Uint8Array(31), 0, [0]), /32 bytes/);
    assert.throws(() => ecdsaShare(secretKey, new Uint8Array(32), 3, [0, 1]), /not a signing participant/);
  });
});

describe('PKP keys', () => {
  test('restore takes the saved private key, and refuses one of another key', () => {
    const other = new PkpRegistry();
    other.restore(pkp.publicKey, [], registry.privateKeyHex(pkp.publicKey));
    assert.deepEqual(other.secretKey(pkp.publicKey), secretKey);
    const stranger = new PkpRegistry().mint([]);
    assert.throws(
      () => other.restore(stranger.publicKey, [], registry.privateKeyHex(pkp.publicKey)),
      /does not match/,
    );
    other.restore(stranger.publicKey, []);
    assert.equal(other.secretKey(stranger.publicKey), undefined);
  });

  test('the admin view of a PKP never shows its private key', () => {
    const text = JSON.stringify([registry.get(pkp.publicKey), registry.list()]);
    assert.ok(!text.includes(registry.privateKeyHex(pkp.publicKey)!));
  });
});

describe('a restarted devnet', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'devnet-pkp-sign-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a PKP minted before the restart still signs with the same key, with EOA sigs minted before it', async () => {
    const file = join(dir, 'devnet.json');
    const wallet = ethers.Wallet.createRandom();
    const first = await startDevnet({ blockTimeMs: 200, stateFile: file });
    const minted = first.mintPkp([wallet.address]);
    const firstClient = await connected(first.networkConfig());
    // Their nonce is a blockhash of the first run; the restored chain must still know it.
    const earlierSigs = await eoaSessionSigs(firstClient, wallet, { resourceAbilityRequests: PKP_SIGNING() });
    await disposeLitClient(firstClient);
    await first.close();
    assert.match(loadDevnetState(file)?.pkps[0].privateKey ?? '', /^[0-9a-f]{64}$/);

    const again = await startDevnet({ blockTimeMs: 200, stateFile: file });
    const client = await connected(again.networkConfig());
    try {
      const sigs = await eoaSessionSigs(client, wallet, { resourceAbilityRequests: PKP_SIGNING() });
      const toSign = ethers.utils.arrayify(ethers.utils.id('after restart'));
      const { signature } = await client.pkpSign({
        pubKey: minted.publicKey,
        toSign,
        sessionSigs: sigs as any,
      });
      assert.equal(ethers.utils.recoverAddress(toSign, signature), minted.ethAddress);
      const before = await client.pkpSign({
        pubKey: minted.publicKey,
        toSign,
        sessionSigs: earlierSigs as any,
      });
      assert.equal(ethers.utils.recoverAddress(toSign, before.signature), minted.ethAddress);
    } finally {
      await disposeLitClient(client);
      await again.close();
    }
  });
});
