/**
 * Issue 20, test (c) and the agent's half of agent-held mode, end to end on the devnet with the
 * stock SDK (LitNodeClientNodeJs 7.4.0), nothing faked:
 * - the per-node sigs `AgentSessionSigner` makes from a capability for its key pair are the bytes
 *   the SDK's own `getSessionSigs` would sign (same messages but for the times), and the nodes
 *   accept them: an EOA agent decrypts, a PKP agent `pkpSign`s as its PKP;
 * - an epoch that ADDS a node: once the agent's own client is connected to it, the agent's next
 *   sigs cover the new node with the same capability (no re-mint, generation unchanged, the keeper
 *   not asked again), and a request the new node answers succeeds.
 *
 * The capability is made with the stock SDK by a separate client standing for the keeper (EOA:
 * `createSiweMessage` + `generateAuthSig` with `uri: lit:session:<pub>`; PKP: `signSessionKey`
 * with only the public half of the key), and served to the signer through its status seam the way
 * the agent's workflow query serves it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSiweMessage, generateAuthSig } from '@lit-protocol/auth-helpers';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { ethers } from 'ethers';
import { AgentSessionSigner, type CapabilityStatus } from '../../src/client/agent-session-signer';
import {
  readSessionKeyFile,
  type SessionKeyPair,
  writeNewSessionKeyFile,
} from '../../src/client/session-key-file';
import { type Devnet, startDevnet } from '../../src/devnet';
import type { PkpInfo } from '../../src/devnet/pkp-registry';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import type { SessionCapability } from '../../src/shared/types';
import {
  connected,
  DECRYPT_ANY,
  decryptWith,
  encryptFor,
  ethWalletAuthMethod,
  inMs,
  PKP_SIGNING,
  type ResourceAbilityRequests,
} from '../devnet/helpers';
import { until } from '../polling';
import { assertSignsAsPkp } from './harness';

const wallet = ethers.Wallet.createRandom();
const controller = ethers.Wallet.createRandom();

let devnet: Devnet;
/** The agent's own client. */
let lit: LitNodeClientNodeJs;
/** The keeper's client, which only makes capabilities. */
let keeperLit: LitNodeClientNodeJs;
let pkp: PkpInfo;
let dir: string;

function newKeyPair(name: string): SessionKeyPair {
  const file = path.join(dir, name);
  writeNewSessionKeyFile(file);
  return readSessionKeyFile(file);
}

/** EOA capability for `publicKey`: the wallet's SIWE naming lit:session:<key>, with ReCap resources. */
async function eoaCapability(
  publicKey: string,
  resources: ResourceAbilityRequests,
): Promise<SessionCapability> {
  const expiresAt = inMs(3600_000);
  const toSign = await createSiweMessage({
    uri: `lit:session:${publicKey}`,
    expiration: expiresAt,
    resources,
    walletAddress: wallet.address,
    nonce: await keeperLit.getLatestBlockhash(),
    litNodeClient: keeperLit,
  });
  const authSig = await generateAuthSig({ signer: wallet, toSign });
  return { sessionPublicKey: publicKey, authSig: authSig as SessionCapability['authSig'], expiresAt };
}

/** PKP capability for `publicKey`: the network signs the session key (only its public half given). */
async function pkpCapability(
  publicKey: string,
  resources: ResourceAbilityRequests,
): Promise<SessionCapability> {
  const expiresAt = inMs(3600_000);
  const { authSig } = await keeperLit.signSessionKey({
    sessionKey: { publicKey, secretKey: '' },
    pkpPublicKey: pkp.publicKey,
    authMethods: [await ethWalletAuthMethod(keeperLit, controller)],
    resourceAbilityRequests: resources,
    // As getPkpSessionSigs passes them.
    resources: [
      (
        await keeperLit.generateSessionCapabilityObjectWithWildcards(resources.map((r) => r.resource))
      ).encodeAsSiweResource(),
    ],
    expiration: expiresAt,
  });
  return { sessionPublicKey: publicKey, authSig: authSig as SessionCapability['authSig'], expiresAt };
}

/** A signer reading `capability` as the agent's workflow query would serve it; counts the reads. */
function signerFor(agentId: string, key: SessionKeyPair, capability: SessionCapability) {
  const reads = { count: 0 };
  const status: CapabilityStatus = {
    state: 'fresh',
    generation: 1,
    refreshAt: inMs(2400_000),
    sessionSigs: null,
    capability,
    previousCapability: null,
  };
  const signer = new AgentSessionSigner({
    agentId,
    sessionKey: key,
    litNodeClient: lit,
    fetchStatus: async () => {
      reads.count++;
      return status;
    },
  });
  return { signer, reads };
}

function withoutTimes(message: string): unknown {
  const { issuedAt: _i, expiration: _e, ...rest } = JSON.parse(message) as Record<string, unknown>;
  return rest;
}

describe('end to end: agents make their own session sigs from a capability (AgentSessionSigner)', () => {
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-signer-e2e-'));
    devnet = await startDevnet({ blockTimeMs: 1000 });
    pkp = devnet.mintPkp([controller.address]);
    lit = await connected(devnet.networkConfig());
    keeperLit = await connected(devnet.networkConfig());
  });

  after(async () => {
    if (lit) await disposeLitClient(lit);
    if (keeperLit) await disposeLitClient(keeperLit);
    await devnet?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('EOA: the sigs are the stock SDK’s messages and they decrypt', async () => {
    const key = newKeyPair('eoa.key');
    const capability = await eoaCapability(key.publicKey, DECRYPT_ANY());
    const { signer } = signerFor('eoa-agent', key, capability);
    const sigs = await signer.getSessionSigs();
    assert.deepEqual(Object.keys(sigs).sort(), [...lit.connectedNodes].sort());

    // The stock SDK with the same key pair and capability signs the same messages (times aside).
    const sdkSigs = (await lit.getSessionSigs({
      sessionKey: key,
      resourceAbilityRequests: DECRYPT_ANY(),
      authNeededCallback: async () => capability.authSig,
    })) as typeof sigs;
    for (const [url, sig] of Object.entries(sigs)) {
      const sdk = sdkSigs[url];
      assert.deepEqual(withoutTimes(sig.signedMessage), withoutTimes(sdk.signedMessage), url);
      assert.deepEqual(
        { derivedVia: sig.derivedVia, address: sig.address, algo: sig.algo },
        { derivedVia: sdk.derivedVia, address: sdk.address, algo: sdk.algo },
      );
    }

    const encrypted = await encryptFor(lit, wallet.address, 'for the agent only');
    assert.equal(await decryptWith(lit, sigs, encrypted), 'for the agent only');
  });

  test('PKP: the sigs pkpSign as the PKP', async () => {
    const key = newKeyPair('pkp.key');
    const capability = await pkpCapability(key.publicKey, PKP_SIGNING());
    const { signer } = signerFor('pkp-agent', key, capability);
    await assertSignsAsPkp(lit, pkp, await signer.getSessionSigs(), 'agent-held pkp', 'agent-held PKP');
  });

  test('a capability for another key: the signer refuses to wrap it and says why', async () => {
    const key = newKeyPair('owner.key');
    const stranger = newKeyPair('stranger.key');
    const capability = await eoaCapability(key.publicKey, DECRYPT_ANY());
    const { signer } = signerFor('stranger', stranger, capability);
    await assert.rejects(signer.getSessionSigs({ waitTimeoutMs: 0 }), /bound to session key/);
  });

  test('an epoch that adds a node: the next sigs cover it without a re-mint, and the new node answers them', async () => {
    const key = newKeyPair('epoch.key');
    const capability = await eoaCapability(key.publicKey, DECRYPT_ANY());
    const { signer, reads } = signerFor('epoch-agent', key, capability);
    const before = await signer.getWithInfo();
    assert.equal(before.nodeUrls.length, 3);
    assert.equal(reads.count, 1);

    const change = await devnet.advanceEpoch({ addNode: true });
    const added = change.addedNodeUrl;
    assert.ok(added);
    // The agent's own client follows the epoch (the SDK's Staking listener) and connects to the new node.
    await until(
      `the agent's client connected to ${added}`,
      () => (lit.connectedNodes.has(added) ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 200,
      },
    );

    const next = await signer.getWithInfo();
    assert.equal(next.fromCache, false, 'made again for the new node set');
    assert.ok(next.nodeUrls.includes(added));
    assert.ok(next.sessionSigs[added], 'a sig for the new node');
    assert.equal(next.generation, before.generation, 'same generation: no re-mint');
    assert.equal(next.capabilityExpiresAt, before.capabilityExpiresAt, 'same capability');
    assert.equal(reads.count, 1, 'the keeper was not asked again');

    const nodeSuccesses = () =>
      devnet.stats().nodes.find((n) => n.url === added)?.successes.encryption_sign ?? 0;
    const servedBefore = nodeSuccesses();
    const encrypted = await encryptFor(lit, wallet.address, 'after the epoch');
    assert.equal(await decryptWith(lit, next.sessionSigs, encrypted), 'after the epoch');
    assert.ok(nodeSuccesses() > servedBefore, 'the new node accepted the agent’s sig and answered');
  });
});
