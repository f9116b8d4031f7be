/**
 * The mint activity against the devnet with the real Lit SDK: EOA and PKP mints whose sigs decrypt,
 * every devnet fault mode, node quorum (one of three down still mints, two down fails retryably),
 * permanent errors, a stale blockhash that is never sent, and a validator-set change.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { ethers } from 'ethers';
import { createActivities, shouldReconnect } from '../../src/activities';
import { type Devnet, type NodeRequestEvent, startDevnet } from '../../src/devnet';
import { TypedActivityError } from '../../src/lit/error-classification';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import { LitClientPool, type NodeSetChange } from '../../src/lit/lit-client-pool';
import { resolveNetworkTarget } from '../../src/lit/network-targets';
import type { SessionActivities } from '../../src/shared/activity-contract';
import { DEFAULT_RESOURCE_ABILITY_REQUESTS } from '../../src/shared/agent-spec';
import type { MintRequest } from '../../src/shared/types';
import { connected, decryptWith, encryptFor } from '../devnet/helpers';

const wallet = ethers.Wallet.createRandom();
const controller = ethers.Wallet.createRandom();
const stranger = ethers.Wallet.createRandom();
const signerEnvironment = {
  env: {
    AGENT_KEY: wallet.privateKey,
    CONTROLLER_KEY: controller.privateKey,
    STRANGER_KEY: stranger.privateKey,
    BROKEN_KEY: 'not-a-key',
  },
  readFile: () => {
    throw Object.assign(new Error('no files here'), { code: 'ENOENT' });
  },
};

let devnet: Devnet;
let pool: LitClientPool;
let activities: SessionActivities;
let pkpPublicKey: string;
let pkpAddress: string;

function eoa(overrides: Partial<MintRequest> = {}): MintRequest {
  return {
    agentId: 'a1',
    network: 'devnet',
    mode: 'eoa',
    signer: 'env:AGENT_KEY',
    resourceAbilityRequests: DEFAULT_RESOURCE_ABILITY_REQUESTS,
    sessionTtlMs: 3600_000,
    generation: 1,
    ...overrides,
  };
}

function pkp(overrides: Partial<MintRequest> = {}): MintRequest {
  return eoa({ mode: 'pkp', signer: 'env:CONTROLLER_KEY', pkpPublicKey, ...overrides });
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${err}`);
    return err;
  }
  throw new Error('expected the mint to fail');
}

async function decrypts(sigs: Record<string, any>, address: string): Promise<boolean> {
  const client = await connected(devnet.networkConfig());
  try {
    const encrypted = await encryptFor(client, address, 'hello agent');
    return (await decryptWith(client, sigs, encrypted)) === 'hello agent';
  } finally {
    await disposeLitClient(client);
  }
}

function newPool(handshakeTimeoutMs = 1_000) {
  pool = new LitClientPool({
    resolveNetwork: (name) => resolveNetworkTarget(name, { custom: { devnet: devnet.networkConfig() } }),
    handshakeTimeoutMs,
    reprobeIntervalMs: 0,
    replaceRetryMs: 0,
  });
  activities = createActivities({ pool, signerEnvironment, mintTimeoutMs: 5_000 });
}

describe('mintSessionSigs against the devnet', () => {
  before(async () => {
    // ethers polls events every 4 s and looks back at most 10 blocks: blocks faster than 0.4 s
    // would let the SDK miss the epoch's StateChanged event.
    devnet = await startDevnet({ blockTimeMs: 1000 });
    const minted = devnet.mintPkp([controller.address]);
    pkpPublicKey = minted.publicKey;
    pkpAddress = minted.ethAddress;
  });
  after(async () => {
    await pool?.close();
    await devnet.close();
  });
  beforeEach(async () => {
    await pool?.close();
    await devnet.clearFaults();
    newPool();
  });

  test('EOA mint: sigs for every node, expiry = TTL, and they decrypt data for the wallet', async () => {
    const started = Date.now();
    const result = await activities.mintSessionSigs(eoa());
    assert.deepEqual(result.nodeUrls.sort(), [...devnet.nodeUrls].sort());
    const ttl = Date.parse(result.expiresAt) - Date.parse(result.issuedAt);
    assert.ok(Math.abs(ttl - 3600_000) < 5_000, `ttl ${ttl}`);
    assert.ok(Date.parse(result.issuedAt) >= started - 1_000);
    assert.ok(await decrypts(result.sessionSigs, wallet.address));
  });

  test('PKP mint: the network signs the capability; sigs decrypt data for the PKP address', async () => {
    const result = await activities.mintSessionSigs(pkp());
    assert.equal(result.nodeUrls.length, 3);
    assert.ok(await decrypts(result.sessionSigs, pkpAddress));
    assert.equal(await decrypts(result.sessionSigs, wallet.address).catch(() => false), false);
  });

  test('every mint uses a fresh session key and a fresh nonce', async () => {
    const a = await activities.mintSessionSigs(eoa());
    await devnet.nextBlock();
    const b = await activities.mintSessionSigs(eoa());
    const first = (r: typeof a) => Object.values(r.sessionSigs)[0];
    assert.notEqual(first(a).address, first(b).address);
    const nonce = (r: typeof a) =>
      /Nonce: (0x[0-9a-f]+)/.exec(JSON.parse(first(r).signedMessage).capabilities[0].signedMessage)?.[1];
    assert.ok(nonce(a) && nonce(b));
    assert.notEqual(nonce(a), nonce(b));
  });

  test('concurrent mints share one block-indexer request; each still gets sigs of its own', async () => {
    await activities.mintSessionSigs(eoa()); // connected
    const before = devnet.stats().blockIndexerRequests;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        activities.mintSessionSigs(eoa({ agentId: `a${i}`, generation: 2 })),
      ),
    );
    const requests = devnet.stats().blockIndexerRequests - before;
    assert.ok(
      requests < results.length,
      `${requests} indexer requests for ${results.length} concurrent mints`,
    );
    const sessionKeys = new Set(results.map((r) => Object.values(r.sessionSigs)[0].address));
    assert.equal(sessionKeys.size, results.length);
  });

  test('the pool connects once and reuses the client', async () => {
    await activities.mintSessionSigs(eoa());
    await activities.mintSessionSigs(pkp());
    await activities.mintSessionSigs(eoa({ agentId: 'a2' }));
    assert.equal(pool.connects, 1);
  });

  test('one node of three down: still mints, sigs cover the two that answered and decrypt', async () => {
    await devnet.setFault(0, 'down');
    const result = await activities.mintSessionSigs(pkp());
    assert.equal(result.nodeUrls.length, 2);
    assert.ok(!result.nodeUrls.includes(devnet.nodeUrls[0]));
  });

  test('one node hanging: the per-node handshake timeout keeps minting possible', async () => {
    await devnet.setFault(1, 'hang');
    const started = Date.now();
    const result = await activities.mintSessionSigs(eoa());
    assert.equal(result.nodeUrls.length, 2);
    assert.ok(Date.now() - started < 4_000);
  });

  test('a mint never waits for the re-probe of a node that still hangs; the probe runs beside it', async () => {
    await pool.close();
    newPool(2_000); // every handshake with the hanging node takes this long
    await devnet.setFault(1, 'hang');
    assert.equal((await activities.mintSessionSigs(eoa())).nodeUrls.length, 2);
    // The pool is missing a node, so the next acquire starts a re-probe (interval 0 here).
    const probed = once(pool, 'connected');
    let probeDone = false;
    void probed.then(() => {
      probeDone = true;
    });
    const result = await activities.mintSessionSigs(eoa({ generation: 2 }));
    assert.equal(probeDone, false, 'the mint waited for the re-probe');
    assert.equal(result.nodeUrls.length, 2);
    const [event] = (await probed) as [{ nodeUrls: string[] }];
    assert.equal(event.nodeUrls.length, 2, 'the node still hangs');
  });

  test('a network failure while a re-probe runs still has the client replaced', async () => {
    await pool.close();
    newPool(2_000);
    await devnet.setFault(1, 'hang');
    const first = await pool.acquire('devnet'); // connects to the 2 nodes that answer
    first.release();
    const during = await pool.acquire('devnet'); // starts a re-probe, which waits on the hanging node
    during.release();
    pool.invalidate('devnet'); // a mint failed at the network level meanwhile
    const next = await pool.acquire('devnet');
    next.release();
    assert.notEqual(next.client, first.client, 'the failure during the re-probe was ignored');
  });

  test('latency under the handshake timeout is tolerated; over it the node is left out', async () => {
    await devnet.setFault(2, { mode: 'latency', latencyMs: 200 });
    assert.equal((await activities.mintSessionSigs(eoa())).nodeUrls.length, 3);
    await pool.close();
    newPool(100);
    assert.equal((await activities.mintSessionSigs(eoa())).nodeUrls.length, 2);
  });

  test('two nodes down: fails retryably with NotEnoughNodes', async () => {
    await devnet.setFault(0, 'down');
    await devnet.setFault(1, 'down');
    const failure = await failureOf(activities.mintSessionSigs(eoa()));
    assert.equal(failure.type, 'NotEnoughNodes');
    assert.equal(failure.nonRetryable, false);
  });

  test('two nodes going down after connecting: PKP fails with NotEnoughNodes; EOA keeps minting on the old client', async () => {
    await activities.mintSessionSigs(pkp()); // connected to all three
    const nodes = devnet.nodeUrls.length;
    await devnet.setFault(0, 'down');
    await devnet.setFault(1, 'down');
    const connects = pool.connects;
    const first = await failureOf(activities.mintSessionSigs(pkp()));
    assert.equal(first.type, 'NotEnoughNodes');
    assert.match(first.message, /too few nodes answered/);
    // The next mint tries a new client first; the network refuses it (one node of three answers),
    // so the old client keeps serving: an EOA mint needs no node, and its sigs cover all nodes.
    const eoaSigs = await activities.mintSessionSigs(eoa());
    assert.equal(pool.connects, connects + 1, 'a replacement client was tried');
    assert.equal(eoaSigs.nodeUrls.length, nodes);
    const retry = await failureOf(activities.mintSessionSigs(pkp()));
    assert.equal(retry.type, 'NotEnoughNodes');
    // When the nodes are back, the sigs minted during the outage work at once, and the next mint
    // connects the replacement and announces the recovery (the worker then retries agents in backoff).
    await devnet.clearFaults();
    assert.equal(await decrypts(eoaSigs.sessionSigs, wallet.address), true);
    const recovered = once(pool, 'recovered') as Promise<[{ network: string; nodeUrls: string[] }]>;
    const after = await activities.mintSessionSigs(pkp());
    const [event] = await recovered;
    assert.equal(event.network, 'devnet');
    assert.equal(event.nodeUrls.length, nodes);
    assert.equal(after.nodeUrls.length, nodes);
  });

  test('a suspect client is replaced as soon as a new one connects', async () => {
    const before = await pool.acquire('devnet');
    before.release();
    pool.invalidate('devnet');
    const after = await pool.acquire('devnet');
    after.release();
    assert.notEqual(after.client, before.client);
    assert.equal(after.nodeUrls.length, devnet.nodeUrls.length);
  });

  test('500 from two nodes on signing: NodeSystemFault, retryable', async () => {
    await activities.mintSessionSigs(pkp()); // connect while healthy
    await devnet.setFault(0, { mode: 'error500', endpoints: ['sign_session_key'] });
    await devnet.setFault(1, { mode: 'error500', endpoints: ['sign_session_key'] });
    const failure = await failureOf(activities.mintSessionSigs(pkp()));
    assert.equal(failure.type, 'NodeSystemFault');
    assert.equal(failure.nonRetryable, false);
  });

  test('429 from two nodes on signing: NodeConcurrencyOverload, retryable', async () => {
    await activities.mintSessionSigs(pkp());
    await devnet.setFault(1, { mode: 'error429', endpoints: ['sign_session_key'] });
    await devnet.setFault(2, { mode: 'error429', endpoints: ['sign_session_key'] });
    const failure = await failureOf(activities.mintSessionSigs(pkp()));
    assert.equal(failure.type, 'NodeConcurrencyOverload');
    assert.equal(failure.nonRetryable, false);
  });

  describe('Lit Action auth', () => {
    const ALLOW = `Lit.Actions.setResponse({ response: String(jsParams.allow === true) });`;
    const noSigner = (overrides: Partial<MintRequest>): MintRequest => {
      const { signer: _dropped, ...rest } = pkp(overrides);
      return rest;
    };

    test('a permitted action that answers "true" mints without any signer; sigs decrypt for the PKP', async () => {
      const { ipfsId } = devnet.addLitAction(ALLOW);
      devnet.setPkpAction(pkpPublicKey, ipfsId);
      const inline = await activities.mintSessionSigs(
        noSigner({ litAction: { code: ALLOW, jsParams: { allow: true } } }),
      );
      assert.ok(await decrypts(inline.sessionSigs, pkpAddress));
      const byId = await activities.mintSessionSigs(
        noSigner({ litAction: { ipfsId, jsParams: { allow: true } } }),
      );
      assert.equal(byId.nodeUrls.length, 3);
    });

    test('an action that answers false: NodeAuthFailed, non-retryable', async () => {
      devnet.setPkpAction(pkpPublicKey, devnet.addLitAction(ALLOW).ipfsId);
      const failure = await failureOf(
        activities.mintSessionSigs(noSigner({ litAction: { code: ALLOW, jsParams: { allow: false } } })),
      );
      assert.equal(failure.type, 'NodeAuthFailed');
      assert.equal(failure.nonRetryable, true);
    });

    test('no signer and no Lit Action fails before any network call', async () => {
      const failure = await failureOf(activities.mintSessionSigs(noSigner({})));
      assert.equal(failure.type, 'InvalidSigner');
      assert.equal(pool.connects, 0);
    });
  });

  test('a controller the PKP does not permit: NodePKPNotAuthorized, non-retryable', async () => {
    const failure = await failureOf(activities.mintSessionSigs(pkp({ signer: 'env:STRANGER_KEY' })));
    assert.equal(failure.type, 'NodePKPNotAuthorized');
    assert.equal(failure.nonRetryable, true);
  });

  test('an unknown PKP is a permanent error', async () => {
    const unknown = ethers.Wallet.createRandom().publicKey;
    const failure = await failureOf(activities.mintSessionSigs(pkp({ pkpPublicKey: unknown })));
    assert.equal(failure.nonRetryable, true);
  });

  test('a bad key fails before any network call, naming the reference but not the value', async () => {
    const failure = await failureOf(activities.mintSessionSigs(eoa({ signer: 'env:BROKEN_KEY' })));
    assert.equal(failure.type, 'InvalidSigner');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /env:BROKEN_KEY/);
    assert.ok(!failure.message.includes('not-a-key'));
    assert.equal(pool.connects, 0);
  });

  test('a blockhash older than the limit is refused and never reaches a node', async () => {
    await activities.mintSessionSigs(pkp());
    const signsBefore = devnet.stats().totals.requests.sign_session_key ?? 0;
    devnet.setChainFaults({ staleBlockhash: 'expired' });
    const failure = await failureOf(activities.mintSessionSigs(pkp()));
    assert.equal(failure.type, 'StaleBlockhash');
    assert.equal(failure.nonRetryable, false);
    assert.equal(devnet.stats().totals.requests.sign_session_key ?? 0, signsBefore);
  });

  test('a blockhash the chain never issued is rejected by the nodes as NodeInvalidBlockhash (retryable)', async () => {
    await activities.mintSessionSigs(pkp());
    devnet.setChainFaults({ staleBlockhash: 'unknown' });
    const failure = await failureOf(activities.mintSessionSigs(pkp()));
    assert.equal(failure.type, 'NodeInvalidBlockhash');
    assert.equal(failure.nonRetryable, false);
    devnet.setChainFaults({ staleBlockhash: false });
    assert.equal((await activities.mintSessionSigs(pkp())).nodeUrls.length, 3);
  });

  test('an epoch that adds a node: the pool reports the change and the next mint covers the new node', async () => {
    await activities.mintSessionSigs(eoa());
    const changed = once(pool, 'nodeSetChanged') as Promise<[NodeSetChange]>;
    const change = await devnet.advanceEpoch({ addNode: true });
    const [event] = await changed;
    assert.ok(change.addedNodeUrl && event.after.includes(change.addedNodeUrl));
    const result = await activities.mintSessionSigs(eoa());
    assert.ok(result.nodeUrls.includes(change.addedNodeUrl));
    assert.equal(result.nodeUrls.length, 4);
  });

  test('a client closed while the SDK is reacting to an epoch change stays closed: no Staking listener left polling', async () => {
    const lease = await pool.acquire('devnet');
    lease.release();
    const sdk = lease.client as any;
    // Hold the SDK's own epoch handler after it noticed the new epoch and before it reconnects.
    let reached!: () => void;
    const handlerWaiting = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const readValidators = sdk._getValidatorData.bind(sdk);
    sdk._getValidatorData = async () => {
      reached();
      await gate;
      return readValidators();
    };
    let handled: Promise<void> | undefined;
    const handle = sdk._handleStakingContractStateChange.bind(sdk);
    sdk._handleStakingContractStateChange = (state: number) => {
      handled = handle(state);
      return handled;
    };
    try {
      await devnet.advanceEpoch();
      await handlerWaiting;
      await pool.close();
      open();
      await handled;
      assert.equal(sdk._stakingContractListener, null, 'the epoch handler re-armed a Staking listener');
      assert.equal(sdk.ready, false, 'the epoch handler reconnected a closed client');
      assert.equal(sdk._stakingContract?.provider?.polling ?? false, false, 'a Staking provider still polls');
    } finally {
      sdk._stakingContract?.removeAllListeners(); // so a failure here does not also hang the file
    }
  });

  test("an EOA mint skips the SDK's re-check of the signature our callback just made; a PKP mint still verifies the nodes' signature", async () => {
    // The modules the SDK itself calls, so the counts see its calls.
    const sdkRequire = createRequire(require.resolve('@lit-protocol/lit-node-client-nodejs'));
    const siwe = sdkRequire('siwe');
    const bls = sdkRequire('./lib/helpers/validate-bls-session-sig');
    const verifySiwe = siwe.SiweMessage.prototype.verify;
    const verifyBls = bls.blsSessionSigVerify;
    let siweVerifies = 0;
    let blsVerifies = 0;
    siwe.SiweMessage.prototype.verify = function (this: unknown, ...args: unknown[]) {
      siweVerifies++;
      return verifySiwe.apply(this, args);
    };
    bls.blsSessionSigVerify = (...args: unknown[]) => {
      blsVerifies++;
      return verifyBls(...args);
    };
    try {
      const eoaResult = await activities.mintSessionSigs(eoa());
      assert.equal(siweVerifies, 0, 'the SDK re-verified the SIWE our own wallet had just signed');
      await activities.mintSessionSigs(pkp());
      assert.equal(blsVerifies, 1, "the nodes' combined signature must still be verified");
      assert.equal(await decrypts(eoaResult.sessionSigs, wallet.address), true);
    } finally {
      siwe.SiweMessage.prototype.verify = verifySiwe;
      bls.blsSessionSigVerify = verifyBls;
    }
  });

  test('a retired client keeps serving the mints still running on it, then is disconnected', async () => {
    const held = await pool.acquire('devnet');
    const connectsBefore = pool.connects;
    pool.invalidate('devnet');
    // A new client for the next mint; the old one is still connected for the mint that holds it.
    const next = await pool.acquire('devnet');
    assert.notEqual(next.client, held.client);
    assert.equal(pool.connects, connectsBefore + 1);
    assert.equal(held.client.ready, true);
    next.release();
    const disconnected = new Promise<void>((resolve) => held.client.on('disconnected', () => resolve()));
    held.release();
    await disconnected;
    assert.equal(held.client.ready, false);
  });

  test('a slow PKP mint in flight when its client is retired still completes and its sigs decrypt', async () => {
    await activities.mintSessionSigs(pkp()); // connect while healthy
    const nodes = devnet.nodeUrls.length; // an earlier test may have added a node
    for (let node = 0; node < nodes; node++)
      await devnet.setFault(node, { mode: 'latency', latencyMs: 1_500, endpoints: ['sign_session_key'] });
    const signing = new Promise<void>((resolve) => {
      const onRequest = (e: NodeRequestEvent) => {
        if (e.endpoint !== 'sign_session_key') return;
        devnet.off('request', onRequest);
        resolve();
      };
      devnet.on('request', onRequest);
    });
    const slow = activities.mintSessionSigs(pkp({ generation: 2 }));
    await signing; // the mint is now waiting on the nodes
    pool.invalidate('devnet');
    const result = await slow;
    await devnet.clearFaults();
    assert.equal(result.nodeUrls.length, nodes);
    assert.equal(await decrypts(result.sessionSigs, pkpAddress), true);
  });

  test('only failures of the Lit round trips reconnect; a failing block indexer says nothing about the client', () => {
    const table: [unknown, string, boolean][] = [
      [new Error('fetch failed'), 'NetworkError', true],
      [new Error('x'), 'NotEnoughNodes', true],
      [new Error('x'), 'NodeTimeout', true],
      [
        new TypedActivityError('NetworkError', 'block indexer unreachable', 'block-indexer'),
        'NetworkError',
        false,
      ],
      [
        new TypedActivityError('NodeTimeout', 'block indexer did not answer', 'block-indexer'),
        'NodeTimeout',
        false,
      ],
      [new Error('x'), 'NodeSystemFault', false],
      [new Error('x'), 'StaleBlockhash', false],
    ];
    for (const [err, type, expected] of table) assert.equal(shouldReconnect(err, type), expected, type);
  });
});
