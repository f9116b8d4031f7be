/**
 * The real, unmodified Lit SDK (LitNodeClientNodeJs 7.4.0) against the devnet: connect, the EOA
 * and PKP session flows, and decrypt of what the SDK encrypted — then the refusals a node gives,
 * each surfacing to the SDK caller with the node's error code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSessionKeyPair } from '@lit-protocol/crypto';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { type Devnet, litErrorCodeOf, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import {
  connected,
  decryptWith,
  encryptFor,
  eoaSessionSigs,
  ethers,
  inMs,
  pkpSessionSigs,
  rejectionOf,
  resign,
  type SessionSigs,
} from './helpers';

const DAY = 24 * 3600_000;
let devnet: Devnet;
let client: LitNodeClientNodeJs;
const alice = ethers.Wallet.createRandom();
const bob = ethers.Wallet.createRandom();

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
  client = await connected(devnet.networkConfig());
});
after(async () => {
  if (client) await disposeLitClient(client);
  await devnet?.close();
});

describe('connect', () => {
  test('handshakes with every validator and adopts the network key and a chain blockhash', async () => {
    assert.deepEqual([...client.connectedNodes].sort(), [...devnet.nodeUrls].sort());
    assert.equal(client.networkPubKey, devnet.networkPublicKey);
    assert.equal(client.subnetPubKey, devnet.networkPublicKey);
    assert.equal(client.config.minNodeCount, 2);
    const hash = await client.getLatestBlockhash();
    assert.equal(typeof hash, 'string');
    assert.ok(devnet.latestBlock().number >= 1);
    for (const node of devnet.stats().nodes) assert.ok(node.successes.handshake >= 1);
  });

  test('the SDK takes fresh nonces from the devnet block indexer', async () => {
    const before = devnet.stats().blockIndexerRequests;
    // The SDK trusts a blockhash for 30 s after it was retrieved; age it as if 31 s had passed.
    (client as any).lastBlockHashRetrieved = Date.now() - 31_000;
    const hash = await client.getLatestBlockhash();
    assert.equal(devnet.stats().blockIndexerRequests, before + 1);
    const block = devnet.blockByHash(hash);
    assert.ok(block, 'a hash this chain issued');
    assert.ok(devnet.latestBlock().number - block.number <= 2, 'and a recent one');
  });
});

describe('session flows', () => {
  test('EOA session sigs decrypt data encrypted to the wallet', async () => {
    const sigs = await eoaSessionSigs(client, alice);
    assert.deepEqual(Object.keys(sigs).sort(), [...devnet.nodeUrls].sort());
    for (const sig of Object.values(sigs)) {
      assert.equal(sig.derivedVia, 'litSessionSignViaNacl');
      assert.equal(sig.algo, 'ed25519');
    }
    const before = devnet.stats().totals.successes.encryption_sign ?? 0;
    const encrypted = await encryptFor(client, alice.address, 'for alice');
    assert.equal(await decryptWith(client, sigs, encrypted), 'for alice');
    assert.ok(devnet.stats().totals.successes.encryption_sign >= before + 2);
  });

  test('PKP session sigs (EthWallet auth method) decrypt data encrypted to the PKP', async () => {
    const pkp = devnet.mintPkp([alice.address]);
    const before = devnet.stats().totals.successes.sign_session_key ?? 0;
    const sigs = await pkpSessionSigs(client, alice, pkp.publicKey);
    // One sign_session_key per node, no second round: the SDK accepted the combined BLS sig.
    assert.equal(devnet.stats().totals.successes.sign_session_key, before + devnet.nodeUrls.length);
    const capability = JSON.parse(Object.values(sigs)[0].signedMessage).capabilities.at(-1);
    assert.equal(capability.algo, 'LIT_BLS');
    assert.equal(capability.address, pkp.ethAddress);
    const encrypted = await encryptFor(client, pkp.ethAddress, 'for the pkp');
    assert.equal(await decryptWith(client, sigs, encrypted), 'for the pkp');
  });
});

async function decryptError(sigs: SessionSigs, address = alice.address): Promise<string | undefined> {
  const encrypted = await encryptFor(client, address, 'secret');
  return litErrorCodeOf(await rejectionOf(decryptWith(client, sigs, encrypted)));
}

describe('decrypt is refused, with the node error code', () => {
  test('expired session sigs: NodeExpWrongOrTooLarge', async () => {
    const sessionKey = generateSessionKeyPair();
    const sigs = await eoaSessionSigs(client, alice, { sessionKey });
    const expired = resign(sigs, sessionKey.secretKey, (m) => {
      m.issuedAt = inMs(-2 * 3600_000);
      m.expiration = inMs(-3600_000);
    });
    assert.equal(await decryptError(expired), 'NodeExpWrongOrTooLarge');
  });

  test('session sigs expiring before they were issued: NodeExpWrongOrTooLarge', async () => {
    const sigs = await eoaSessionSigs(client, alice, { expiration: inMs(-120_000) });
    assert.equal(await decryptError(sigs), 'NodeExpWrongOrTooLarge');
  });

  test('a sig addressed to another node: NodeNotAuthorized', async () => {
    const sigs = await eoaSessionSigs(client, alice);
    const urls = Object.keys(sigs);
    const rotated = Object.fromEntries(urls.map((url, i) => [url, sigs[urls[(i + 1) % urls.length]]]));
    assert.equal(await decryptError(rotated), 'NodeNotAuthorized');
  });

  test('a tampered signature: NodeInvalidAuthSigSessionKeySignature', async () => {
    const sigs = await eoaSessionSigs(client, alice);
    const tampered = Object.fromEntries(
      Object.entries(sigs).map(([url, s]) => [
        url,
        { ...s, sig: (s.sig[0] === '0' ? '1' : '0') + s.sig.slice(1) },
      ]),
    );
    assert.equal(await decryptError(tampered), 'NodeInvalidAuthSigSessionKeySignature');
  });

  test('sigs of a wallet the condition does not name: NodeAccessControlConditionsReturnedNotAuthorized', async () => {
    const bobSigs = await eoaSessionSigs(client, bob);
    assert.equal(
      await decryptError(bobSigs, alice.address),
      'NodeAccessControlConditionsReturnedNotAuthorized',
    );
  });

  test('a session expiring more than 30 days after issue: NodeSIWEMessageError', async () => {
    const sigs = await eoaSessionSigs(client, alice, { expiration: inMs(31 * DAY) });
    assert.equal(await decryptError(sigs), 'NodeSIWEMessageError');
  });

  test('PKP sigs for data encrypted to someone else: NodeAccessControlConditionsReturnedNotAuthorized', async () => {
    const pkp = devnet.mintPkp([alice.address]);
    const sigs = await pkpSessionSigs(client, alice, pkp.publicKey);
    assert.equal(await decryptError(sigs, alice.address), 'NodeAccessControlConditionsReturnedNotAuthorized');
  });
});

describe('getPkpSessionSigs is refused, with the node error code', () => {
  test('a controller the PKP does not permit: NodePKPNotAuthorized', async () => {
    const pkp = devnet.mintPkp([alice.address]);
    const err = await rejectionOf(pkpSessionSigs(client, bob, pkp.publicKey));
    assert.equal(litErrorCodeOf(err), 'NodePKPNotAuthorized');
  });

  test('a controller permitted later is accepted', async () => {
    const pkp = devnet.mintPkp([alice.address]);
    devnet.setPkpController(pkp.publicKey, bob.address);
    const sigs = await pkpSessionSigs(client, bob, pkp.publicKey);
    assert.equal(Object.keys(sigs).length, devnet.nodeUrls.length);
  });

  test('a SIWE whose nonce the chain never issued: NodeInvalidBlockhash', async () => {
    const pkp = devnet.mintPkp([alice.address]);
    const saved = client.latestBlockhash;
    // As if the SDK had picked up a blockhash from somewhere else than this chain.
    client.latestBlockhash = ethers.utils.id('a block of another chain');
    (client as any).lastBlockHashRetrieved = Date.now();
    try {
      const err = await rejectionOf(pkpSessionSigs(client, alice, pkp.publicKey));
      assert.equal(litErrorCodeOf(err), 'NodeInvalidBlockhash');
    } finally {
      client.latestBlockhash = saved;
    }
  });

  test('an expiration more than 30 days away: NodeSIWEMessageError', async () => {
    const pkp = devnet.mintPkp([alice.address]);
    const err = await rejectionOf(
      pkpSessionSigs(client, alice, pkp.publicKey, { expiration: inMs(31 * DAY) }),
    );
    assert.equal(litErrorCodeOf(err), 'NodeSIWEMessageError');
  });
});

test('like Lit nodes, the devnet refuses an EOA capability whose nonce the chain never issued', async () => {
  const saved = client.latestBlockhash;
  client.latestBlockhash = ethers.utils.id('a block of another chain');
  (client as any).lastBlockHashRetrieved = Date.now();
  try {
    const sigs = await eoaSessionSigs(client, alice);
    assert.equal(await decryptError(sigs), 'NodeInvalidBlockhash');
  } finally {
    client.latestBlockhash = saved;
  }
});
