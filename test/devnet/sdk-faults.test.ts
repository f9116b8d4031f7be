/**
 * What the stock SDK sees under each devnet fault. These are the behaviours the project's retry
 * classification and chaos tests build on, including the SDK's own limits (one unreachable node
 * fails `connect()` even when the rest meet the threshold).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { type Devnet, litErrorCodeOf, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import {
  decryptWith,
  encryptFor,
  eoaSessionSigs,
  ethers,
  newClient,
  nextEvent,
  pkpSessionSigs,
  rejectionOf,
} from './helpers';

let devnet: Devnet;
const alice = ethers.Wallet.createRandom();
const clients: LitNodeClientNodeJs[] = [];

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => disposeLitClient(c)));
  await devnet.clearFaults();
});
after(() => devnet.close());

function client(overrides: { connectTimeout?: number } = {}) {
  const c = newClient(devnet.networkConfig(), overrides);
  clients.push(c);
  return c;
}

async function connectedClient(overrides: { connectTimeout?: number } = {}) {
  const c = client(overrides);
  await c.connect();
  return c;
}

describe('down (the node closes its port)', () => {
  test('one node down: the stock connect() fails, though 2 of 3 would meet the threshold', async () => {
    await devnet.setFault(1, 'down');
    const healthyAsked = nextEvent(
      devnet,
      'response',
      (e: any) => e.node === 0 && e.endpoint === 'handshake',
    );
    const err = (await rejectionOf(client().connect())) as any;
    assert.equal(err?.cause?.code, 'ECONNREFUSED');
    assert.equal(((await healthyAsked) as any).status, 200, 'the healthy nodes answered');
    assert.equal(devnet.stats().nodes[1].listening, false);
    await devnet.setFault(1, 'none');
    await connectedClient();
  });

  test('one node down after connect: the other two still mint PKP sigs that decrypt', async () => {
    const c = await connectedClient();
    const pkp = devnet.mintPkp([alice.address]);
    await devnet.setFault(2, 'down');
    const sigs = await pkpSessionSigs(c, alice, pkp.publicKey);
    const encrypted = await encryptFor(c, pkp.ethAddress, 'two of three');
    assert.equal(await decryptWith(c, sigs, encrypted), 'two of three');
  });

  test('two nodes down after connect: below threshold, minting fails', async () => {
    const c = await connectedClient();
    const pkp = devnet.mintPkp([alice.address]);
    await devnet.setFault(1, 'down');
    await devnet.setFault(2, 'down');
    await rejectionOf(pkpSessionSigs(c, alice, pkp.publicKey));
  });
});

describe('hang (accepts, never answers)', () => {
  test('a hanging handshake makes connect() time out', async () => {
    await devnet.setFault(0, { mode: 'hang', endpoints: ['handshake'] });
    const started = Date.now();
    const err = (await rejectionOf(client({ connectTimeout: 800 }).connect())) as Error;
    assert.match(err.message, /Could not handshake with nodes after timeout of 800ms/);
    assert.ok(Date.now() - started >= 800);
  });

  test('one node hanging on sign_session_key: PKP sigs are still minted by the others', async () => {
    const c = await connectedClient();
    const pkp = devnet.mintPkp([alice.address]);
    await devnet.setFault(1, { mode: 'hang', endpoints: ['sign_session_key'] });
    const before = devnet.stats().nodes[1];
    const sigs = await pkpSessionSigs(c, alice, pkp.publicKey);
    assert.equal(Object.keys(sigs).length, 3);
    const after = devnet.stats().nodes[1];
    assert.equal(
      after.requests.sign_session_key,
      before.requests.sign_session_key + 1,
      'the hung node was asked',
    );
    assert.equal(after.successes.sign_session_key, before.successes.sign_session_key, 'and never answered');
  });
});

describe('latency', () => {
  test('a node slower than connectTimeout fails connect()', async () => {
    await devnet.setFault(2, { mode: 'latency', latencyMs: 1500, endpoints: ['handshake'] });
    const err = (await rejectionOf(client({ connectTimeout: 400 }).connect())) as Error;
    assert.match(err.message, /Could not handshake with nodes after timeout/);
  });

  test('latency within the timeout only slows the calls down', async () => {
    for (const node of [0, 1, 2]) await devnet.setFault(node, { mode: 'latency', latencyMs: 150 });
    const started = Date.now();
    const c = await connectedClient();
    assert.ok(Date.now() - started >= 150);
    const sigs = await eoaSessionSigs(c, alice);
    const encrypted = await encryptFor(c, alice.address, 'slow');
    const before = Date.now();
    assert.equal(await decryptWith(c, sigs, encrypted), 'slow');
    assert.ok(Date.now() - before >= 150);
  });
});

for (const [mode, code] of [
  ['error500', 'NodeSystemFault'],
  ['error429', 'NodeConcurrencyOverload'],
] as const) {
  describe(`${mode} (answers ${code})`, () => {
    test(`on handshake: connect() rejects with the node's ${code} body`, async () => {
      await devnet.setFault(0, { mode, endpoints: ['handshake'] });
      const err = await rejectionOf(client().connect());
      assert.equal(litErrorCodeOf(err), code);
    });

    test(`on sign_session_key of every node: getPkpSessionSigs fails with ${code}`, async () => {
      const c = await connectedClient();
      const pkp = devnet.mintPkp([alice.address]);
      for (const node of [0, 1, 2]) await devnet.setFault(node, { mode, endpoints: ['sign_session_key'] });
      const err = await rejectionOf(pkpSessionSigs(c, alice, pkp.publicKey));
      assert.equal(litErrorCodeOf(err), code);
    });

    test(`on encryption/sign of two nodes: decrypt fails with ${code}; of one node it succeeds`, async () => {
      const c = await connectedClient();
      const sigs = await eoaSessionSigs(c, alice);
      const encrypted = await encryptFor(c, alice.address, 'x');
      await devnet.setFault(0, { mode, endpoints: ['encryption_sign'] });
      assert.equal(await decryptWith(c, sigs, encrypted), 'x');
      await devnet.setFault(1, { mode, endpoints: ['encryption_sign'] });
      assert.equal(litErrorCodeOf(await rejectionOf(decryptWith(c, sigs, encrypted))), code);
      assert.ok((devnet.stats().nodes[1].errors[code] ?? 0) >= 1);
    });
  });
}

describe('stale blockhash (indexer and handshakes advertise a hash the nodes refuse)', () => {
  test('unknown: the SDK takes a hash the chain never issued; PKP minting fails with NodeInvalidBlockhash', async () => {
    devnet.setChainFaults({ staleBlockhash: true });
    const c = await connectedClient();
    const nonce = await c.getLatestBlockhash();
    assert.equal(devnet.blockByHash(nonce), undefined);
    const pkp = devnet.mintPkp([alice.address]);
    assert.equal(
      litErrorCodeOf(await rejectionOf(pkpSessionSigs(c, alice, pkp.publicKey))),
      'NodeInvalidBlockhash',
    );
  });

  test('expired: the SDK takes the 45-day-old genesis hash; PKP minting fails with NodeInvalidBlockhash', async () => {
    devnet.setChainFaults({ staleBlockhash: 'expired' });
    const c = await connectedClient();
    assert.equal(await c.getLatestBlockhash(), devnet.expiredBlockhash());
    const pkp = devnet.mintPkp([alice.address]);
    assert.equal(
      litErrorCodeOf(await rejectionOf(pkpSessionSigs(c, alice, pkp.publicKey))),
      'NodeInvalidBlockhash',
    );
  });

  test('after the fault clears, a new connection mints again', async () => {
    devnet.setChainFaults({ staleBlockhash: false });
    const c = await connectedClient();
    const pkp = devnet.mintPkp([alice.address]);
    await pkpSessionSigs(c, alice, pkp.publicKey);
  });
});

describe('epoch change', () => {
  test('the SDK sees StateChanged, reconnects to the new node set, and old sigs lack the new node', async (t) => {
    const c = await connectedClient();
    const firstContract = (c as any)._stakingContract;
    // SDK leak: the reconnect makes a new Staking contract object but keeps the listener on this
    // one, and disconnect() then unsubscribes the new one, so this one would poll forever.
    t.after(() => firstContract.removeAllListeners()); // if an assertion below fails first
    // The SDK polls the chain for StateChanged every 4 s (ethers' default); poll faster here.
    firstContract.provider.pollingInterval = 100;
    const oldSigs = await eoaSessionSigs(c, alice);
    const encrypted = await encryptFor(c, alice.address, 'across epochs');

    const reconnected = new Promise((resolve) => c.once('connected', resolve));
    const change = await devnet.advanceEpoch({ dropNode: 0, addNode: true });
    await reconnected;

    assert.deepEqual([...c.connectedNodes].sort(), [...change.nodeUrls].sort());
    assert.ok(change.addedNodeUrl && c.connectedNodes.has(change.addedNodeUrl));
    assert.ok(change.droppedNodeUrl && !c.connectedNodes.has(change.droppedNodeUrl));
    assert.ok((devnet.stats().rpc.eth_getLogs ?? 0) > 0, 'found through eth_getLogs');

    // Sigs are keyed by node URL: the SDK has none for the new node and refuses before sending.
    const err = (await rejectionOf(decryptWith(c, oldSigs, encrypted))) as Error;
    assert.match(err.message, /authSig is required/);

    const newSigs = await eoaSessionSigs(c, alice);
    assert.equal(await decryptWith(c, newSigs, encrypted), 'across epochs');
    const added = devnet.stats().nodes.find((n) => n.url === change.addedNodeUrl);
    assert.ok(added && added.successes.encryption_sign >= 1, 'the new node holds a working key share');

    // disconnect() alone leaves the first contract's listener polling; disposeLitClient stops it.
    await c.disconnect();
    assert.equal(firstContract.listenerCount('StateChanged'), 1, 'the SDK leak this works around');
    await disposeLitClient(c);
    assert.equal(firstContract.listenerCount('StateChanged'), 0);
    assert.equal(firstContract.provider.polling, false);
  });
});
