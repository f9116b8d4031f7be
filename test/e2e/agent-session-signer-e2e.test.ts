/**
 * Issue 20, test (c) and the agent's half of agent-held mode, end to end with nothing faked: a
 * Temporal dev server, the real worker (workflow + mint activity) keeping a *capability* fresh for
 * agents started with `sessionPublicKey`, the keeper client's query, the devnet and the stock SDK
 * (LitNodeClientNodeJs 7.4.0) as the agent's own client:
 * - the per-node sigs `AgentSessionSigner` makes from the keeper's capability are the messages the
 *   SDK's own `getSessionSigs` signs with the same key pair and capability (times aside), and the
 *   nodes accept them: an EOA agent decrypts, a PKP agent `pkpSign`s as its PKP;
 * - a capability for another key is not wrapped (the signer says why);
 * - an epoch that ADDS a node: once the agent's own client is connected to it, the agent's next
 *   sigs cover the new node with the capability it already holds (same generation, the keeper not
 *   asked again: no re-mint), and the new node answers a request made with them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ethers } from 'ethers';
import type { SessionKeeperClient } from '../../src/client';
import { AgentSessionSigner } from '../../src/client/agent-session-signer';
import {
  readSessionKeyFile,
  type SessionKeyPair,
  writeNewSessionKeyFile,
} from '../../src/client/session-key-file';
import { type Devnet, startDevnet } from '../../src/devnet';
import type { PkpInfo } from '../../src/devnet/pkp-registry';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import type { ResourceAbility, SessionStatus } from '../../src/shared/types';
import { connected, DECRYPT_ANY, decryptWith, encryptFor } from '../devnet/helpers';
import { until } from '../polling';
import { assertSignsAsPkp, startKeeper, startLocalTemporal, statusWhere } from './harness';

const wallet = ethers.Wallet.createRandom();
const controller = ethers.Wallet.createRandom();
const signerEnv = { HELD_WALLET_KEY: wallet.privateKey, HELD_CONTROLLER_KEY: controller.privateKey };
const PKP_SIGNING_ANY: ResourceAbility[] = [{ resource: 'lit-pkp://*', ability: 'pkp-signing' }];

let env: TestWorkflowEnvironment;
let devnet: Devnet;
/** The agent's own client. */
let lit: LitNodeClientNodeJs;
let pkp: PkpInfo;
let dir: string;
let keeper: SessionKeeperClient;
let keeperStack: Awaited<ReturnType<typeof startKeeper>> | undefined;

function newKeyPair(name: string): SessionKeyPair {
  const file = path.join(dir, name);
  writeNewSessionKeyFile(file);
  return readSessionKeyFile(file);
}

/** Starts an agent-held agent for `key`'s public half and waits for its first capability. */
async function startHeldAgent(
  agentId: string,
  key: SessionKeyPair,
  mode: 'eoa' | 'pkp',
  resourceAbilityRequests?: ResourceAbility[],
): Promise<SessionStatus> {
  await keeper.startAgent({
    agentId,
    network: 'devnet',
    mode,
    signer: mode === 'eoa' ? 'env:HELD_WALLET_KEY' : 'env:HELD_CONTROLLER_KEY',
    ...(mode === 'pkp' ? { pkpPublicKey: pkp.publicKey } : {}),
    ...(resourceAbilityRequests ? { resourceAbilityRequests } : {}),
    sessionPublicKey: key.publicKey,
  });
  const status = await statusWhere(
    keeper,
    agentId,
    'holding a capability',
    (s) => s.state === 'fresh' && !!s.capability,
  );
  assert.equal(status.sessionSigs, null, 'agent-held: the keeper serves no sigs');
  assert.equal(status.capability?.sessionPublicKey, key.publicKey);
  return status;
}

/** The agent's signer: its key pair, the keeper's query, its own client; counts the keeper reads. */
function signerFor(agentId: string, key: SessionKeyPair) {
  const reads = { count: 0 };
  const signer = new AgentSessionSigner({
    agentId,
    sessionKey: key,
    litNodeClient: lit,
    fetchStatus: (id) => {
      reads.count++;
      return keeper.querySessionStatus(id);
    },
  });
  return { signer, reads };
}

/** The signed message with its two times blanked: the rest must be the SDK's, byte for byte. */
function withoutTimes(message: string): string {
  const blanked = message.replace(/"issuedAt":"[^"]+","expiration":"[^"]+"/, '"issuedAt":"","expiration":""');
  assert.notEqual(blanked, message, 'the message names its issue and expiry times');
  return blanked;
}

describe("end to end: agents make their own session sigs from the keeper's capability (AgentSessionSigner)", () => {
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-signer-e2e-'));
    env = await startLocalTemporal();
    devnet = await startDevnet({ blockTimeMs: 1000 });
    pkp = devnet.mintPkp([controller.address]);
    lit = await connected(devnet.networkConfig());
    keeperStack = await startKeeper(env.nativeConnection, env.address, devnet, signerEnv);
    keeper = keeperStack.keeper;
  });

  after(async () => {
    await keeperStack?.stop();
    if (lit) await disposeLitClient(lit);
    await env?.teardown();
    await devnet?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('EOA: the sigs are the stock SDK’s messages and they decrypt', async () => {
    const key = newKeyPair('eoa.key');
    const status = await startHeldAgent('held-eoa', key, 'eoa');
    const { signer } = signerFor('held-eoa', key);
    const sigs = await signer.getSessionSigs();
    assert.deepEqual(Object.keys(sigs).sort(), [...lit.connectedNodes].sort());

    // The stock SDK with the same key pair and capability signs the same messages (times aside).
    const capability = status.capability!;
    const sdkSigs = (await lit.getSessionSigs({
      sessionKey: key,
      resourceAbilityRequests: DECRYPT_ANY(),
      ...(capability.capacityDelegationAuthSig
        ? { capacityDelegationAuthSig: capability.capacityDelegationAuthSig }
        : {}),
      authNeededCallback: async () => capability.authSig,
    })) as typeof sigs;
    for (const [url, sig] of Object.entries(sigs)) {
      const sdk = sdkSigs[url];
      assert.equal(withoutTimes(sig.signedMessage), withoutTimes(sdk.signedMessage), url);
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
    await startHeldAgent('held-pkp', key, 'pkp', PKP_SIGNING_ANY);
    const { signer } = signerFor('held-pkp', key);
    await assertSignsAsPkp(lit, pkp, await signer.getSessionSigs(), 'agent-held pkp', 'agent-held PKP');
  });

  test('a capability for another key: the signer refuses to wrap it and says why', async () => {
    const key = newKeyPair('owner.key');
    const stranger = newKeyPair('stranger.key');
    await startHeldAgent('held-owner', key, 'eoa');
    const { signer } = signerFor('held-owner', stranger);
    await assert.rejects(signer.getSessionSigs({ waitTimeoutMs: 0 }), /bound to session key/);
  });

  test('an epoch that adds a node: the next sigs cover it without a re-mint, and the new node answers them', async () => {
    const key = newKeyPair('epoch.key');
    const minted = await startHeldAgent('held-epoch', key, 'eoa');
    const { signer, reads } = signerFor('held-epoch', key);
    const before = await signer.getWithInfo();
    assert.equal(before.nodeUrls.length, 3);
    assert.equal(before.generation, minted.generation);
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
    assert.equal(next.generation, minted.generation, 'the same generation: no re-mint needed');
    assert.equal(next.capabilityExpiresAt, before.capabilityExpiresAt, 'the same capability');
    assert.equal(reads.count, 1, 'the keeper was not asked again');
    const capabilityIn = (sig: { signedMessage: string }) =>
      (JSON.parse(sig.signedMessage) as { capabilities: { sig: string }[] }).capabilities.at(-1)?.sig;
    assert.equal(
      capabilityIn(next.sessionSigs[added]),
      minted.capability?.authSig.sig,
      'generation 1 capability',
    );

    const nodeSuccesses = () =>
      devnet.stats().nodes.find((n) => n.url === added)?.successes.encryption_sign ?? 0;
    const servedBefore = nodeSuccesses();
    const encrypted = await encryptFor(lit, wallet.address, 'after the epoch');
    assert.equal(await decryptWith(lit, next.sessionSigs, encrypted), 'after the epoch');
    assert.ok(nodeSuccesses() > servedBefore, 'the new node accepted the agent’s sig and answered');
  });
});
