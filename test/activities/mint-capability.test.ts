/**
 * The mint activity in agent-held mode (issue 20) against the devnet with the real Lit SDK: with
 * `sessionPublicKey` it returns only the capability for that key (no per-node sigs, an empty
 * sigs map), with the capacity delegation when configured; the stock SDK takes it in
 * `authNeededCallback` with the agent's key pair (delegation passed along) and the nodes accept
 * the result; a failed PKP authorisation is classified as for sigs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSessionKeyPair } from '@lit-protocol/crypto';
import { ApplicationFailure } from '@temporalio/common';
import { ethers } from 'ethers';
import { SiweMessage } from 'siwe';
import { createActivities } from '../../src/activities';
import { type Devnet, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import { LitClientPool } from '../../src/lit/lit-client-pool';
import { resolveNetworkTarget } from '../../src/lit/network-targets';
import type { SessionActivities } from '../../src/shared/activity-contract';
import type { MintRequest, MintResult } from '../../src/shared/types';
import { connected, DECRYPT_ANY, decryptWith, encryptFor } from '../devnet/helpers';

const wallet = ethers.Wallet.createRandom();
const controller = ethers.Wallet.createRandom();
const stranger = ethers.Wallet.createRandom();
const capacityOwner = ethers.Wallet.createRandom();
const signerEnvironment = {
  env: {
    AGENT_KEY: wallet.privateKey,
    CONTROLLER_KEY: controller.privateKey,
    STRANGER_KEY: stranger.privateKey,
    CAPACITY_KEY: capacityOwner.privateKey,
  },
  readFile: () => {
    throw Object.assign(new Error('no files here'), { code: 'ENOENT' });
  },
};
const DECRYPT = [
  { resource: 'lit-accesscontrolcondition://*', ability: 'access-control-condition-decryption' },
];

let devnet: Devnet;
let pool: LitClientPool;
let activities: SessionActivities;
let pkp: { publicKey: string; ethAddress: string };

function request(key: string, overrides: Partial<MintRequest> = {}): MintRequest {
  return {
    agentId: 'held',
    network: 'devnet',
    mode: 'eoa',
    signer: 'env:AGENT_KEY',
    resourceAbilityRequests: DECRYPT,
    sessionTtlMs: 3600_000,
    sessionPublicKey: key,
    generation: 1,
    ...overrides,
  };
}

/** The agent's side with the stock SDK: its key pair, the capability from the keeper; decrypts? */
async function agentDecrypts(
  key: ReturnType<typeof generateSessionKeyPair>,
  result: MintResult,
  address: string,
) {
  const client = await connected(devnet.networkConfig());
  try {
    const capability = result.capability!;
    const sigs = await client.getSessionSigs({
      sessionKey: key,
      resourceAbilityRequests: DECRYPT_ANY(),
      authNeededCallback: async () => capability.authSig as any,
      ...(capability.capacityDelegationAuthSig
        ? { capacityDelegationAuthSig: capability.capacityDelegationAuthSig as any }
        : {}),
    });
    const encrypted = await encryptFor(client, address, 'for the agent');
    return (await decryptWith(client, sigs as any, encrypted)) === 'for the agent';
  } finally {
    await disposeLitClient(client);
  }
}

describe('mintSessionSigs for an agent-held session key', () => {
  before(async () => {
    devnet = await startDevnet({ blockTimeMs: 1000 });
    pkp = devnet.mintPkp([controller.address]);
    pool = new LitClientPool({
      resolveNetwork: (name) => resolveNetworkTarget(name, { custom: { devnet: devnet.networkConfig() } }),
      handshakeTimeoutMs: 1_000,
      reprobeIntervalMs: 0,
      replaceRetryMs: 0,
    });
    activities = createActivities({ pool, signerEnvironment, mintTimeoutMs: 10_000 });
  });
  after(async () => {
    await pool?.close();
    await devnet?.close();
  });

  test('EOA: only the wallet-signed capability for the key, with the capacity delegation', async () => {
    const key = generateSessionKeyPair();
    const started = Date.now();
    const result = await activities.mintSessionSigs(
      request(key.publicKey, { capacityDelegation: { signer: 'env:CAPACITY_KEY', ttlMs: 2 * 3600_000 } }),
    );
    assert.deepEqual(result.sessionSigs, {}, 'no per-node sigs');
    assert.deepEqual([...result.nodeUrls].sort(), [...devnet.nodeUrls].sort());
    const capability = result.capability!;
    assert.equal(capability.sessionPublicKey, key.publicKey);
    assert.equal(capability.expiresAt, result.expiresAt);
    assert.ok(Math.abs(Date.parse(result.expiresAt) - started - 3600_000) < 10_000);
    const siwe = new SiweMessage(capability.authSig.signedMessage);
    assert.equal(siwe.uri, `lit:session:${key.publicKey}`);
    assert.equal(siwe.address, wallet.address);
    assert.equal(
      ethers.utils.verifyMessage(capability.authSig.signedMessage, capability.authSig.sig),
      wallet.address,
    );
    const delegation = new SiweMessage(capability.capacityDelegationAuthSig!.signedMessage);
    assert.equal(delegation.address, capacityOwner.address, 'the capacity owner delegates');
    assert.ok(result.capacityDelegationExpiresAt);
    assert.ok(!JSON.stringify(result).includes('litSessionSignViaNacl'));
    assert.ok(await agentDecrypts(key, result, wallet.address), 'the agent with its key decrypts');
  });

  test('PKP (controller wallet): the network-signed capability for the key', async () => {
    const key = generateSessionKeyPair();
    const result = await activities.mintSessionSigs(
      request(key.publicKey, { mode: 'pkp', signer: 'env:CONTROLLER_KEY', pkpPublicKey: pkp.publicKey }),
    );
    assert.deepEqual(result.sessionSigs, {});
    const capability = result.capability!;
    assert.equal(capability.authSig.algo, 'LIT_BLS');
    assert.equal(capability.authSig.address, pkp.ethAddress);
    assert.equal(new SiweMessage(capability.authSig.signedMessage).uri, `lit:session:${key.publicKey}`);
    assert.ok(await agentDecrypts(key, result, pkp.ethAddress));
  });

  test('PKP whose controller is not permitted: NodePKPNotAuthorized, non-retryable, as for sigs', async () => {
    const err = await activities
      .mintSessionSigs(
        request(generateSessionKeyPair().publicKey, {
          mode: 'pkp',
          signer: 'env:STRANGER_KEY',
          pkpPublicKey: pkp.publicKey,
        }),
      )
      .then(
        () => assert.fail('minted for a stranger'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, 'NodePKPNotAuthorized');
    assert.equal(err.nonRetryable, true);
  });
});
