/**
 * Issue 20, the keeper's half of agent-held session keys, end to end with nothing faked: a Temporal
 * dev server, the real worker (workflow + mint activity + pooled Lit client) keeping a capability
 * fresh for agents started with `sessionPublicKey`, the keeper client, the devnet, and as the
 * agent the STOCK SDK: `getSessionSigs({ sessionKey, resourceAbilityRequests,
 * authNeededCallback: async () => capability.authSig })`.
 * (a) for an EOA agent and a PKP agent (controller wallet, and Lit Action auth): everything in the
 *     raw workflow history and in the query result, used by another process in every way the SDK
 *     allows (as sessionSigs, wrapped by a fresh session key) for decrypt, pkpSign and executeJs,
 *     is refused; the agent with its own key succeeds at all three (pkpSign recovers to the PKP);
 * (b) agent B's own key cannot use agent A's capability (while it can use its own);
 * (d) rotateSessionKey while the old key is in use: the old key's requests go on succeeding
 *     through the rotation, afterwards both the old capability (served as previous) and the new
 *     one work, and the status shows both;
 * (e) delivered mode unchanged: the status has no capability, and its sigs work as they are.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LitActionResource } from '@lit-protocol/auth-helpers';
import { LIT_ABILITY } from '@lit-protocol/constants';
import { generateSessionKeyPair } from '@lit-protocol/crypto';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ethers } from 'ethers';
import { SiweMessage } from 'siwe';
import type { SessionKeeperClient } from '../../src/client';
import { type Devnet, litErrorCodeOf, startDevnet } from '../../src/devnet';
import type { PkpInfo } from '../../src/devnet/pkp-registry';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import { workflowIdFor } from '../../src/shared/names';
import type { AuthSigJson, ResourceAbility, SessionCapability, SessionStatus } from '../../src/shared/types';
import {
  connected,
  DECRYPT_ANY,
  decryptWith,
  encryptFor,
  PKP_SIGNING,
  rejectionOf,
  type SessionSigs,
} from '../devnet/helpers';
import { assertSignsAsPkp, digestOf, startKeeper, startLocalTemporal, statusWhere } from './harness';

type KeyPair = ReturnType<typeof generateSessionKeyPair>;

const eoaWallet = ethers.Wallet.createRandom();
const bWallet = ethers.Wallet.createRandom();
const controller = ethers.Wallet.createRandom();
const deliveredWallet = ethers.Wallet.createRandom();
const signerEnv = {
  HELD_EOA_KEY: eoaWallet.privateKey,
  HELD_B_KEY: bWallet.privateKey,
  HELD_CONTROLLER_KEY: controller.privateKey,
  DELIVERED_KEY: deliveredWallet.privateKey,
};
/** An auth action: the PKP's only other authority, for the Lit Action agent. */
const AUTH_ACTION = `Lit.Actions.setResponse({ response: String(jsParams.agent === 'held-action') });`;
/** What each agent may do: decrypt, sign with a PKP, run a Lit Action. */
const SPEC_RESOURCES: ResourceAbility[] = [
  { resource: 'lit-accesscontrolcondition://*', ability: 'access-control-condition-decryption' },
  { resource: 'lit-pkp://*', ability: 'pkp-signing' },
  { resource: 'lit-litaction://*', ability: 'lit-action-execution' },
];
const sdkResources = () => [
  ...DECRYPT_ANY(),
  ...PKP_SIGNING(),
  { resource: new LitActionResource('*'), ability: LIT_ABILITY.LitActionExecution },
];
const ACTION_CODE = `Lit.Actions.setResponse({ response: 'ran ' + jsParams.n });`;

let env: TestWorkflowEnvironment;
let devnet: Devnet;
/** The other processes' client and the agents' own: a stock SDK client, nothing patched. */
let lit: LitNodeClientNodeJs;
let pkp: PkpInfo;
let keeper: SessionKeeperClient;
let keeperStack: Awaited<ReturnType<typeof startKeeper>> | undefined;

/** Session sigs as the stock SDK makes them from `key` and a capability handed to it. */
function sigsFrom(
  key: KeyPair,
  capability: Pick<SessionCapability, 'authSig' | 'capacityDelegationAuthSig'>,
) {
  return lit.getSessionSigs({
    sessionKey: key,
    resourceAbilityRequests: sdkResources(),
    expiration: new Date(Date.now() + 5 * 60_000).toISOString(),
    authNeededCallback: async () => capability.authSig as any,
    ...(capability.capacityDelegationAuthSig
      ? { capacityDelegationAuthSig: capability.capacityDelegationAuthSig as any }
      : {}),
  }) as Promise<SessionSigs>;
}

interface Agent {
  agentId: string;
  key: KeyPair;
  /** The address the agent's data is encrypted to (the wallet, or the PKP for a PKP agent). */
  address: string;
}

/** The three things an agent does, each of which must succeed with `sigs`. */
async function actsWith(agent: Agent, sigs: SessionSigs, label: string): Promise<void> {
  const encrypted = await encryptFor(lit, agent.address, `${agent.agentId} secret`);
  assert.equal(await decryptWith(lit, sigs, encrypted), `${agent.agentId} secret`, `${label}: decrypt`);
  await assertSignsAsPkp(lit, pkp, sigs, `${agent.agentId} ${label}`, `${label}: pkpSign`);
  const ran = await lit.executeJs({ code: ACTION_CODE, sessionSigs: sigs as any, jsParams: { n: 1 } });
  assert.equal(ran.response, 'ran 1', `${label}: executeJs`);
}

/**
 * Each of the three must be refused with `sigs`. `byNodes`: the SDK sends the request and every
 * node refuses it with a Lit error code (a capability wrapped by a key it does not name); else the
 * SDK itself may refuse first (a capability passed as sessionSigs is not a session sig at all).
 */
async function refusedWith(agent: Agent, sigs: SessionSigs, label: string, byNodes = true): Promise<void> {
  const encrypted = await encryptFor(lit, agent.address, `${agent.agentId} secret`);
  const calls: [string, () => Promise<unknown>][] = [
    ['decrypt', () => decryptWith(lit, sigs, encrypted)],
    [
      'pkpSign',
      () => lit.pkpSign({ pubKey: pkp.publicKey, toSign: digestOf(label), sessionSigs: sigs as any }),
    ],
    ['executeJs', () => lit.executeJs({ code: ACTION_CODE, sessionSigs: sigs as any, jsParams: { n: 1 } })],
  ];
  for (const [what, call] of calls) {
    const err = await rejectionOf(call()).catch((e) => assert.fail(`${label}: ${what}: ${e}`));
    if (byNodes)
      assert.ok(litErrorCodeOf(err), `${label}: ${what} refused by the nodes: ${(err as Error).message}`);
  }
}

function capabilityOf(s: SessionStatus): SessionCapability {
  assert.ok(s.capability, `${s.agentId} has a capability`);
  return s.capability;
}

const withCapability = (agentId: string, key: string, after = 0) =>
  statusWhere(
    keeper,
    agentId,
    `a capability for its key above generation ${after}`,
    (s) => s.state === 'fresh' && s.generation > after && s.capability?.sessionPublicKey === key,
  );

/** Every payload of the agent's raw workflow history (every run), decoded as JSON. */
async function historyPayloads(agentId: string): Promise<unknown[]> {
  const history = await keeper.temporal.workflow.getHandle(workflowIdFor(agentId)).fetchHistory();
  const out: unknown[] = [];
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') {
      const text = Buffer.from(o.data).toString('utf8');
      try {
        out.push(JSON.parse(text));
      } catch {
        out.push(text);
      }
      return;
    }
    for (const child of Object.values(o)) walk(child);
  };
  walk(history);
  return out;
}

/** Every auth-sig-shaped object (sig + signedMessage) and every sessionSigs map inside `values`. */
function credentialsIn(values: unknown[]): { authSigs: AuthSigJson[]; sigMaps: SessionSigs[] } {
  const authSigs = new Map<string, AuthSigJson>();
  const sigMaps: SessionSigs[] = [];
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.sig === 'string' && typeof o.signedMessage === 'string')
      authSigs.set(o.sig, o as unknown as AuthSigJson);
    if (o.sessionSigs && typeof o.sessionSigs === 'object') sigMaps.push(o.sessionSigs as SessionSigs);
    for (const child of Object.values(o)) walk(child);
  };
  for (const v of values) walk(v);
  return { authSigs: [...authSigs.values()], sigMaps };
}

/**
 * (a) for one agent: what history and the query hold, used every way the SDK allows, is refused;
 * the agent's own key with the same capability succeeds.
 */
async function nothingStoredActs(agent: Agent): Promise<void> {
  const status = await withCapability(agent.agentId, agent.key.publicKey);
  assert.equal(status.sessionSigs, null, 'the query serves no sigs');
  const capability = capabilityOf(status);
  const payloads = await historyPayloads(agent.agentId);
  const everything = JSON.stringify([payloads, status]);
  assert.ok(!everything.includes(agent.key.secretKey.slice(0, 64)), 'the session secret is nowhere');
  assert.ok(!everything.includes('litSessionSignViaNacl'), 'no per-node session sig anywhere');
  assert.ok(everything.includes(`lit:session:${agent.key.publicKey}`), 'the capability names the agent key');
  // The SIWE the SDK's authNeededCallback would have been asked for: the key's URI, the session
  // TTL's expiry, a recap of the requested abilities.
  const siwe = new SiweMessage(capability.authSig.signedMessage);
  assert.equal(siwe.uri, `lit:session:${agent.key.publicKey}`);
  assert.equal(Date.parse(siwe.expirationTime ?? ''), Date.parse(capability.expiresAt));
  assert.ok(siwe.resources?.[0]?.startsWith('urn:recap:'), 'a recap of the abilities');
  assert.match(siwe.nonce, /^(0x)?[0-9a-fA-F]{16,}$/, 'a blockhash nonce');

  const { authSigs, sigMaps } = credentialsIn([...payloads, status]);
  assert.ok(
    authSigs.some((a) => a.sig === capability.authSig.sig),
    'the capability is in history',
  );
  for (const map of sigMaps) assert.deepEqual(map, {}, 'every stored sigs map is empty');
  const nodeUrls = status.nodeUrls;
  assert.ok(nodeUrls.length > 0);

  // The agent, with its own key: decrypt, pkpSign as the PKP, executeJs.
  await actsWith(agent, await sigsFrom(agent.key, capability), `${agent.agentId} with its own key`);

  for (const [i, authSig] of authSigs.entries()) {
    const what = `${agent.agentId} stored credential ${i + 1}/${authSigs.length}`;
    // As sessionSigs themselves, for every node.
    const asSigs = Object.fromEntries(nodeUrls.map((url) => [url, authSig])) as SessionSigs;
    await refusedWith(agent, asSigs, `${what} as sessionSigs`, false);
    // Wrapped by a session key of the reader's own (the SDK re-checks it, then signs anyway).
    await refusedWith(
      agent,
      await sigsFrom(generateSessionKeyPair(), { authSig }),
      `${what} with a fresh key`,
    );
  }
  // The empty sigs map of the mint result.
  await refusedWith(agent, {}, `${agent.agentId} stored empty sigs`, false);
}

const EOA_SPEC = {
  agentId: 'held-eoa',
  network: 'devnet',
  mode: 'eoa' as const,
  signer: 'env:HELD_EOA_KEY',
  sessionTtl: '1h',
  resourceAbilityRequests: SPEC_RESOURCES,
};

describe('end to end: agents hold their own session keys, the keeper only the capability', () => {
  const eoa: Agent = { agentId: 'held-eoa', key: generateSessionKeyPair(), address: eoaWallet.address };
  let pkpAgent: Agent;
  let actionAgent: Agent;

  before(async () => {
    env = await startLocalTemporal();
    devnet = await startDevnet({ blockTimeMs: 1000 });
    const actionIpfsId = devnet.addLitAction(AUTH_ACTION).ipfsId;
    // The PKP permits the controller (PKP agent), the EOA agent's wallet (so it may pkpSign) and
    // the auth action (Lit Action agent).
    pkp = devnet.mintPkp([controller.address, eoaWallet.address, bWallet.address], [actionIpfsId]);
    lit = await connected(devnet.networkConfig());
    keeperStack = await startKeeper(env.nativeConnection, env.address, devnet, signerEnv);
    keeper = keeperStack.keeper;
    pkpAgent = { agentId: 'held-pkp', key: generateSessionKeyPair(), address: pkp.ethAddress };
    actionAgent = { agentId: 'held-action', key: generateSessionKeyPair(), address: pkp.ethAddress };
    await keeper.startAgent({ ...EOA_SPEC, sessionPublicKey: `0x${eoa.key.publicKey.toUpperCase()}` });
    await keeper.startAgent({
      agentId: pkpAgent.agentId,
      network: 'devnet',
      mode: 'pkp',
      signer: 'env:HELD_CONTROLLER_KEY',
      pkpPublicKey: pkp.publicKey,
      sessionTtl: '1h',
      resourceAbilityRequests: SPEC_RESOURCES,
      sessionPublicKey: pkpAgent.key.publicKey,
    });
    await keeper.startAgent({
      agentId: actionAgent.agentId,
      network: 'devnet',
      mode: 'pkp',
      pkpPublicKey: pkp.publicKey,
      litAction: { ipfsId: actionIpfsId, jsParams: { agent: 'held-action' } },
      sessionTtl: '1h',
      resourceAbilityRequests: SPEC_RESOURCES,
      sessionPublicKey: actionAgent.key.publicKey,
    });
  });

  after(async () => {
    await keeperStack?.stop();
    if (lit) await disposeLitClient(lit);
    await env?.teardown();
    await devnet?.close();
  });

  test('(a) EOA agent: nothing in history or the query acts for anyone but the agent with its key', async () => {
    await nothingStoredActs(eoa);
  });

  test('(a) PKP agent (controller wallet): the same', async () => {
    await nothingStoredActs(pkpAgent);
    const { capability } = await keeper.getStatus(pkpAgent.agentId);
    assert.equal(capability?.authSig.algo, 'LIT_BLS', 'the network signed the capability');
  });

  test('(a) PKP agent (Lit Action auth): the same', async () => {
    await nothingStoredActs(actionAgent);
  });

  test("(b) agent B's own key cannot use agent A's capability", async () => {
    const b: Agent = { agentId: 'held-b', key: generateSessionKeyPair(), address: bWallet.address };
    await keeper.startAgent({
      agentId: b.agentId,
      network: 'devnet',
      mode: 'eoa',
      signer: 'env:HELD_B_KEY',
      sessionTtl: '1h',
      resourceAbilityRequests: SPEC_RESOURCES,
      sessionPublicKey: b.key.publicKey,
    });
    const bCapability = capabilityOf(await withCapability(b.agentId, b.key.publicKey));
    const aCapability = capabilityOf(await withCapability(eoa.agentId, eoa.key.publicKey));
    await actsWith(b, await sigsFrom(b.key, bCapability), 'B with its own capability');
    // B's key with A's capability: refused for A's data and for B's own.
    const stolen = await sigsFrom(b.key, aCapability);
    await refusedWith(eoa, stolen, "B's key with A's capability, A's data");
    await refusedWith(b, stolen, "B's key with A's capability, B's data");
    // And A's key with B's capability.
    await refusedWith(b, await sigsFrom(eoa.key, bCapability), "A's key with B's capability");
  });

  test('(d) rotateSessionKey while the old key is in use: old and new capabilities both work', async () => {
    const before = await withCapability(eoa.agentId, eoa.key.publicKey);
    const oldCapability = capabilityOf(before);
    const oldSigs = await sigsFrom(eoa.key, oldCapability);
    const newKey = generateSessionKeyPair();
    const encrypted = await encryptFor(lit, eoa.address, 'in flight');

    // The agent keeps decrypting with the old key's sigs for as long as the rotation takes.
    let rotating = true;
    let inFlight = 0;
    const rotation = keeper
      .rotateSessionKey(eoa.agentId, newKey.publicKey, 'e2e: move to a new key pair')
      .finally(() => {
        rotating = false;
      });
    while (rotating || inFlight === 0) {
      assert.equal(await decryptWith(lit, oldSigs, encrypted), 'in flight', 'old key during the rotation');
      inFlight++;
    }
    const rotated = await rotation;
    assert.ok(inFlight > 0);

    assert.equal(rotated.generation, before.generation + 1);
    assert.equal(rotated.capability?.sessionPublicKey, newKey.publicKey);
    assert.deepEqual(rotated.previousCapability, oldCapability, 'the old capability still served');
    const status = await keeper.getStatus(eoa.agentId);
    assert.equal(status.capability?.sessionPublicKey, newKey.publicKey, 'status: the new key');
    assert.equal(status.previousCapability?.sessionPublicKey, eoa.key.publicKey, 'status: the old key');

    const agentNow: Agent = { ...eoa, key: newKey };
    await actsWith(agentNow, await sigsFrom(newKey, capabilityOf(status)), 'new key, new capability');
    // The old key with its (previous) capability, made afresh after the rotation: still works.
    await actsWith(eoa, await sigsFrom(eoa.key, status.previousCapability!), 'old key, previous capability');
    assert.equal(await decryptWith(lit, oldSigs, encrypted), 'in flight', 'old sigs after the rotation');
    // Starting the agent again as it runs now (its new key) changes nothing.
    const again = await keeper.startAgent({ ...EOA_SPEC, sessionPublicKey: newKey.publicKey });
    assert.equal(again.outcome, 'already-running');
    // Each capability is bound to its key: crossed, both are refused.
    await refusedWith(agentNow, await sigsFrom(newKey, oldCapability), 'new key, old capability');
    await refusedWith(eoa, await sigsFrom(eoa.key, capabilityOf(status)), 'old key, new capability');
  });

  test('(d) rotateSessionKey is refused for a delivered-mode agent and for a secret key', async () => {
    await assert.rejects(
      keeper.rotateSessionKey(eoa.agentId, `${'12'.repeat(32)}${generateSessionKeyPair().publicKey}`),
      /SECRET key/,
    );
    await keeper.startAgent({
      agentId: 'delivered-refuse',
      network: 'devnet',
      mode: 'eoa',
      signer: 'env:DELIVERED_KEY',
    });
    await statusWhere(keeper, 'delivered-refuse', 'fresh', (s) => s.state === 'fresh');
    await assert.rejects(
      keeper.rotateSessionKey('delivered-refuse', generateSessionKeyPair().publicKey),
      /delivered mode/,
    );
  });

  test('(e) delivered mode unchanged: no capability in the status, and its sigs work as they are', async () => {
    const agentId = 'delivered-e2e';
    await keeper.startAgent({ agentId, network: 'devnet', mode: 'eoa', signer: 'env:DELIVERED_KEY' });
    const status = await statusWhere(
      keeper,
      agentId,
      'fresh with sigs',
      (s) => s.state === 'fresh' && s.sessionSigs !== null,
    );
    assert.equal('capability' in status, false);
    assert.equal('previousCapability' in status, false);
    const encrypted = await encryptFor(lit, deliveredWallet.address, 'delivered');
    assert.equal(await decryptWith(lit, status.sessionSigs as SessionSigs, encrypted), 'delivered');
  });
});
