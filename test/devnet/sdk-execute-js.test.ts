/**
 * The real, unmodified Lit SDK's `executeJs` (LitNodeClientNodeJs 7.4.0, POST /web/execute/v1)
 * against the devnet: sigs granting `lit-action-execution` run inline code whose response the SDK
 * returns, and whose `signEcdsa` shares the SDK's own combiner turns into a signature of the PKP;
 * then `checkConditions` and `decryptAndCombine` inside an action, and the refusals, each with the
 * node's error code — among them the worker thread's memory and time limits, after which the
 * devnet keeps serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LitActionResource, LitPKPResource } from '@lit-protocol/auth-helpers';
import { LIT_ABILITY } from '@lit-protocol/constants';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import {
  DEFAULT_LIT_ACTION_TIMEOUT_MS,
  type Devnet,
  litErrorCodeOf,
  type PkpInfo,
  startDevnet,
} from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import {
  connected,
  encryptFor,
  eoaSessionSigs,
  ethers,
  PKP_SIGNING,
  pkpSessionSigs,
  type ResourceAbilityRequests,
  rejectionOf,
  type SessionSigs,
  userAddressCondition,
} from './helpers';

let devnet: Devnet;
let client: LitNodeClientNodeJs;
const alice = ethers.Wallet.createRandom();
const bob = ethers.Wallet.createRandom();
let pkp: PkpInfo;

/** `lit-action-execution` on one action (by IPFS id) or, by default, on every action. */
const LIT_ACTION_EXECUTION = (ipfsId = '*') =>
  [
    { resource: new LitActionResource(ipfsId), ability: LIT_ABILITY.LitActionExecution },
  ] as unknown as ResourceAbilityRequests;

const EXECUTE_AND_SIGN = () =>
  [
    { resource: new LitActionResource('*'), ability: LIT_ABILITY.LitActionExecution },
    { resource: new LitPKPResource('*'), ability: LIT_ABILITY.PKPSigning },
  ] as unknown as ResourceAbilityRequests;

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
  client = await connected(devnet.networkConfig());
  pkp = devnet.mintPkp([alice.address]);
});
after(async () => {
  if (client) await disposeLitClient(client);
  await devnet?.close();
});

function executeJs(sigs: SessionSigs, code: string, jsParams?: Record<string, unknown>) {
  return client.executeJs({ sessionSigs: sigs as any, code, ...(jsParams ? { jsParams } : {}) });
}

const SIGN_CODE = `
  const digest = ethers.utils.arrayify(ethers.utils.keccak256(ethers.utils.toUtf8Bytes(message)));
  await Lit.Actions.signEcdsa({ toSign: digest, publicKey, sigName: 'agentSig' });
  Lit.Actions.setResponse({ response: JSON.stringify({ signed: message }) });
`;

// The devnet's sandbox has no ethers; the test hands the digest in instead.
const SIGN_DIGEST_CODE = `
  await LitActions.signEcdsa({ toSign: digest, publicKey, sigName: 'agentSig' });
  LitActions.setResponse({ response: JSON.stringify({ signed: jsParams.label }) });
`;

describe('executeJs with the stock SDK', () => {
  test('inline code setResponse-s a value computed from jsParams; logs come back', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: LIT_ACTION_EXECUTION() });
    const before = devnet.stats().totals.successes.execute_js ?? 0;
    const res = await executeJs(
      sigs,
      `console.log('multiplying', a, 'by', jsParams.b);
       Lit.Actions.setResponse({ response: JSON.stringify({ product: a * b, who: jsParams.who }) });`,
      { a: 6, b: 7, who: 'agent' },
    );
    assert.equal(devnet.stats().totals.successes.execute_js, before + devnet.nodeUrls.length);
    // Without signatures the SDK hands back the response string as the nodes set it.
    assert.deepEqual(JSON.parse(res.response as string), { product: 42, who: 'agent' });
    assert.match(String(res.logs), /multiplying 6 by 7/);
  });

  test('a grant on exactly the IPFS id the SDK computes for the code runs it', async () => {
    const code = `LitActions.setResponse({ response: 'by id ' + n });`;
    const ipfsId = await client.getIpfsId({ str: code });
    const sigs = await eoaSessionSigs(client, alice, {
      resourceAbilityRequests: LIT_ACTION_EXECUTION(String(ipfsId)),
    });
    const res = await executeJs(sigs, code, { n: 3 });
    assert.equal(res.response, 'by id 3');
  });

  test('code stored through the admin API runs by its ipfsId; getRpcUrl names the chain', async () => {
    const code = `LitActions.setResponse({ response: (await Lit.Actions.getRpcUrl({ chain: 'ethereum' })) + ' ' + n });`;
    const res = await fetch(`${devnet.adminUrl}/lit-actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    const { ipfsId } = (await res.json()) as { ipfsId: string };
    assert.equal(ipfsId, String(await client.getIpfsId({ str: code })), 'the CID the SDK computes');
    const sigs = await eoaSessionSigs(client, alice, {
      resourceAbilityRequests: LIT_ACTION_EXECUTION(ipfsId),
    });
    const out = await client.executeJs({ sessionSigs: sigs as any, ipfsId, jsParams: { n: 5 } });
    assert.equal(out.response, `${devnet.rpcUrl} 5`);
    const unknown = await rejectionOf(
      client.executeJs({
        sessionSigs: sigs as any,
        ipfsId: 'QmUnknownActionXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      }),
    );
    assert.ok(litErrorCodeOf(unknown), `an unknown ipfsId is refused with a code: ${String(unknown)}`);
  });

  test('signEcdsa with a PKP the owner may use: the combined signature recovers to the PKP', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: EXECUTE_AND_SIGN() });
    const digest = ethers.utils.arrayify(ethers.utils.keccak256(ethers.utils.toUtf8Bytes('from an action')));
    const res = await executeJs(sigs, SIGN_DIGEST_CODE, {
      digest,
      publicKey: pkp.publicKey,
      label: 'from an action',
    });
    const sig = (res.signatures as Record<string, any>).agentSig;
    assert.ok(sig, 'signatures.agentSig');
    assert.equal(ethers.utils.recoverAddress(digest, sig.signature), pkp.ethAddress);
    assert.equal(sig.dataSigned, Buffer.from(digest).toString('hex'));
    assert.deepEqual(res.response, { signed: 'from an action' });
  });

  test('PKP session sigs (getPkpSessionSigs) run an action that signs with that PKP', async () => {
    const sigs = await pkpSessionSigs(client, alice, pkp.publicKey, {
      resourceAbilityRequests: LIT_ACTION_EXECUTION(),
    });
    const digest = ethers.utils.arrayify(ethers.utils.keccak256(ethers.utils.toUtf8Bytes('pkp session')));
    const res = await executeJs(sigs, SIGN_DIGEST_CODE, { digest, publicKey: pkp.publicKey, label: 'x' });
    const sig = (res.signatures as Record<string, any>).agentSig;
    assert.equal(ethers.utils.recoverAddress(digest, sig.signature), pkp.ethAddress);
  });
});

describe('executeJs is refused, with the node error code', () => {
  test('sigs without lit-action-execution (pkp-signing only): NodeResourceIdNotFound', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: PKP_SIGNING() });
    const err = await rejectionOf(executeJs(sigs, `LitActions.setResponse({ response: 'no' });`));
    assert.equal(litErrorCodeOf(err), 'NodeResourceIdNotFound');
  });

  test('a grant on another action only: NodeResourceIdNotFound', async () => {
    const other = await client.getIpfsId({ str: 'another action' });
    const sigs = await eoaSessionSigs(client, alice, {
      resourceAbilityRequests: LIT_ACTION_EXECUTION(String(other)),
    });
    const err = await rejectionOf(executeJs(sigs, `LitActions.setResponse({ response: 'no' });`));
    assert.equal(litErrorCodeOf(err), 'NodeResourceIdNotFound');
  });

  test('an action that throws: NodeJsExecutionError', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: LIT_ACTION_EXECUTION() });
    const err = await rejectionOf(executeJs(sigs, `throw new Error('the action gave up');`));
    assert.equal(litErrorCodeOf(err), 'NodeJsExecutionError');
    assert.match(String((err as Error).message), /the action gave up/);
  });

  test('an action that uses what the sandbox lacks (ethers) fails the same way', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: EXECUTE_AND_SIGN() });
    const err = await rejectionOf(executeJs(sigs, SIGN_CODE, { message: 'm', publicKey: pkp.publicKey }));
    assert.equal(litErrorCodeOf(err), 'NodeJsExecutionError');
  });

  test('an action that runs past the time limit: NodeJsTimeoutError', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: LIT_ACTION_EXECUTION() });
    const started = Date.now();
    const err = await rejectionOf(executeJs(sigs, `while (true) {}`));
    assert.equal(litErrorCodeOf(err), 'NodeJsTimeoutError');
    assert.ok(Date.now() - started >= DEFAULT_LIT_ACTION_TIMEOUT_MS);
  });

  test('signEcdsa with a PKP the owner may not use: NodePKPNotAuthorized', async () => {
    const sigs = await eoaSessionSigs(client, bob, { resourceAbilityRequests: EXECUTE_AND_SIGN() });
    const digest = new Uint8Array(32).fill(7);
    const err = await rejectionOf(
      executeJs(sigs, SIGN_DIGEST_CODE, { digest, publicKey: pkp.publicKey, label: 'bob' }),
    );
    assert.equal(litErrorCodeOf(err), 'NodePKPNotAuthorized');
  });

  test('an action that allocates without end: NodeJsMemoryLimitError at the memory limit; the devnet keeps serving', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: LIT_ACTION_EXECUTION() });
    const err = await rejectionOf(
      executeJs(sigs, `const keep = []; for (;;) keep.push(new Array(1 << 16).fill(keep.length));`),
    );
    assert.equal(litErrorCodeOf(err), 'NodeJsMemoryLimitError');
    assert.match(String((err as Error).message), /exceeded the maximum memory of 64 MB/);
    await assertStillServes(sigs);
  });

  test('an endless loop of promise jobs: NodeJsTimeoutError; the devnet keeps serving', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: LIT_ACTION_EXECUTION() });
    const started = Date.now();
    const err = await rejectionOf(executeJs(sigs, `while (true) await null;`));
    assert.equal(litErrorCodeOf(err), 'NodeJsTimeoutError');
    assert.ok(Date.now() - started >= DEFAULT_LIT_ACTION_TIMEOUT_MS);
    await assertStillServes(sigs);
  });
});

/** A plain action still runs and a decrypt-free request still answers after a refused one. */
async function assertStillServes(sigs: SessionSigs): Promise<void> {
  const res = await executeJs(sigs, `Lit.Actions.setResponse({ response: 'still serving' });`);
  assert.equal(res.response, 'still serving');
}

describe('Lit.Actions.checkConditions and decryptAndCombine', () => {
  const CHECK_CODE = `
    const ok = await Lit.Actions.checkConditions({ conditions, chain: 'ethereum' });
    Lit.Actions.setResponse({ response: JSON.stringify({ ok }) });
  `;
  const DECRYPT_CODE = `
    const text = await Lit.Actions.decryptAndCombine({
      accessControlConditions, ciphertext, dataToEncryptHash, chain: 'ethereum', authSig: null,
    });
    Lit.Actions.setResponse({ response: text });
  `;

  test('checkConditions answers true for the session owner the conditions name, false for another', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: LIT_ACTION_EXECUTION() });
    const forAlice = await executeJs(sigs, CHECK_CODE, { conditions: userAddressCondition(alice.address) });
    assert.deepEqual(JSON.parse(forAlice.response as string), { ok: true });
    const forBob = await executeJs(sigs, CHECK_CODE, { conditions: userAddressCondition(bob.address) });
    assert.deepEqual(JSON.parse(forBob.response as string), { ok: false });
  });

  test('checkConditions with an authSig the action passes judges that wallet', async () => {
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: LIT_ACTION_EXECUTION() });
    const { createSiweMessage, generateAuthSig } = await import('@lit-protocol/auth-helpers');
    const toSign = await createSiweMessage({
      walletAddress: bob.address,
      nonce: await client.getLatestBlockhash(),
      litNodeClient: client,
    });
    const authSig = await generateAuthSig({ signer: bob, toSign });
    const res = await executeJs(
      sigs,
      `const ok = await Lit.Actions.checkConditions({ conditions, authSig, chain: 'ethereum' });
       Lit.Actions.setResponse({ response: JSON.stringify({ ok }) });`,
      { conditions: userAddressCondition(bob.address), authSig },
    );
    assert.deepEqual(JSON.parse(res.response as string), { ok: true }, 'bob’s wallet, not the session owner');
  });

  test('decryptAndCombine hands the plaintext to a session that satisfies the conditions only', async () => {
    const encrypted = await encryptFor(client, alice.address, 'the agent’s secret');
    const params = {
      accessControlConditions: encrypted.accessControlConditions,
      ciphertext: encrypted.ciphertext,
      dataToEncryptHash: encrypted.dataToEncryptHash,
    };
    const aliceSigs = await eoaSessionSigs(client, alice, {
      resourceAbilityRequests: LIT_ACTION_EXECUTION(),
    });
    const res = await executeJs(aliceSigs, DECRYPT_CODE, params);
    assert.equal(res.response, 'the agent’s secret');

    const bobSigs = await eoaSessionSigs(client, bob, { resourceAbilityRequests: LIT_ACTION_EXECUTION() });
    const err = await rejectionOf(executeJs(bobSigs, DECRYPT_CODE, params));
    assert.equal(litErrorCodeOf(err), 'NodeAccessControlConditionsReturnedNotAuthorized');
    assert.doesNotMatch(String((err as Error).message), /the agent’s secret/);
  });

  test('decryptAndCombine with conditions other than those encrypted under: refused, no plaintext', async () => {
    const encrypted = await encryptFor(client, alice.address, 'bound to its conditions');
    const sigs = await eoaSessionSigs(client, alice, { resourceAbilityRequests: LIT_ACTION_EXECUTION() });
    // Conditions alice also satisfies, but not the ones the ciphertext is bound to.
    const other = [
      ...userAddressCondition(alice.address),
      { operator: 'or' },
      ...userAddressCondition(bob.address),
    ];
    const err = await rejectionOf(
      executeJs(sigs, DECRYPT_CODE, {
        accessControlConditions: other,
        ciphertext: encrypted.ciphertext,
        dataToEncryptHash: encrypted.dataToEncryptHash,
      }),
    );
    assert.equal(litErrorCodeOf(err), 'NodeBadInput');
  });
});
