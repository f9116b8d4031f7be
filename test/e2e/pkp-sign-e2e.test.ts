/**
 * The keeper's sigs used for what agents do besides decrypting: the stock SDK's `pkpSign`
 * (LitNodeClientNodeJs 7.4.0) with sigs the real system handed out — a Temporal dev server, the
 * real worker (workflow + mint activity + pooled Lit client), the real keeper client and the
 * devnet. Nothing is faked.
 * - a PKP agent whose spec asks for `pkp-signing` signs a digest with every generation: each
 *   rotation raises the generation, and the new generation's sigs sign and verify too;
 * - an EOA agent whose wallet the PKP permits signs with a grant on exactly that PKP (token id);
 * - an agent with `lit-action-execution` runs a Lit Action that signs with its PKP, every generation;
 * - refused with Lit's error code: an agent with the default (decrypt-only) abilities, an EOA
 *   agent whose wallet the PKP does not permit, a tampered copy of the keeper's sigs, and the
 *   keeper's sigs judged by nodes whose clock (the devnet's clock offset) is past their expiry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ethers } from 'ethers';
import type { SessionKeeperClient } from '../../src/client';
import { type Devnet, litErrorCodeOf, type PkpInfo, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import type { SessionStatus } from '../../src/shared/types';
import { connected, decryptWith, encryptFor, rejectionOf } from '../devnet/helpers';
import {
  assertSignsAsPkp,
  digestOf,
  freshAbove as freshAboveOf,
  startKeeper,
  startLocalTemporal,
} from './harness';

const controller = ethers.Wallet.createRandom();
const permittedWallet = ethers.Wallet.createRandom();
const strangerWallet = ethers.Wallet.createRandom();
const signerEnv = {
  SIGN_CONTROLLER_KEY: controller.privateKey,
  SIGN_PERMITTED_KEY: permittedWallet.privateKey,
  SIGN_STRANGER_KEY: strangerWallet.privateKey,
};
const PKP_SIGNING_ANY = [{ resource: 'lit-pkp://*', ability: 'pkp-signing' }];

let env: TestWorkflowEnvironment;
let devnet: Devnet;
let lit: LitNodeClientNodeJs;
let pkp: PkpInfo;
let keeper: SessionKeeperClient;
let keeperStack: Awaited<ReturnType<typeof startKeeper>> | undefined;

function pkpSign(sigs: SessionStatus['sessionSigs'], digest: Uint8Array, pubKey = pkp.publicKey) {
  return lit.pkpSign({ pubKey, toSign: digest, sessionSigs: sigs as any });
}

/** Signs `text` with the stock SDK and asserts that the signature is the PKP's. */
const assertSigns = (sigs: SessionStatus['sessionSigs'], text: string, label: string) =>
  assertSignsAsPkp(lit, pkp, sigs, text, label);

/** A copy of `sigs` with one byte of every node's session-key signature flipped. */
function tampered(sigs: SessionStatus['sessionSigs']): SessionStatus['sessionSigs'] {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [url, sig] of Object.entries(sigs as Record<string, { sig: string }>)) {
    const bytes = Buffer.from(sig.sig, 'hex');
    bytes[7] ^= 0x01;
    out[url] = { ...sig, sig: bytes.toString('hex') };
  }
  return out as unknown as SessionStatus['sessionSigs'];
}

/** The latest session expiry among `sigs` (each node's signed message names one). */
function expiryOf(sigs: SessionStatus['sessionSigs']): number {
  const times = Object.values(sigs as Record<string, { signedMessage: string }>).map((s) =>
    Date.parse((JSON.parse(s.signedMessage) as { expiration: string }).expiration),
  );
  assert.ok(times.length > 0 && times.every(Number.isFinite), 'every sig names its expiration');
  return Math.max(...times);
}

async function pkpSignError(sigs: SessionStatus['sessionSigs']): Promise<string | undefined> {
  return litErrorCodeOf(await rejectionOf(pkpSign(sigs, digestOf('must not be signed'))));
}

const freshAbove = (agentId: string, after: number) => freshAboveOf(keeper, agentId, after);

/** A PKP agent whose controller wallet (SIGN_CONTROLLER_KEY) authorises it; pkp-signing unless told otherwise (null: the spec's default abilities). */
function startControlledPkpAgent(
  agentId: string,
  resourceAbilityRequests: { resource: string; ability: string }[] | null = PKP_SIGNING_ANY,
) {
  return keeper.startAgent({
    agentId,
    network: 'devnet',
    mode: 'pkp',
    signer: 'env:SIGN_CONTROLLER_KEY',
    pkpPublicKey: pkp.publicKey,
    ...(resourceAbilityRequests ? { resourceAbilityRequests } : {}),
  });
}

describe('end to end: the keeper’s sigs sign through the stock SDK’s pkpSign', () => {
  before(async () => {
    env = await startLocalTemporal();
    devnet = await startDevnet({ blockTimeMs: 1000 });
    pkp = devnet.mintPkp([controller.address, permittedWallet.address]);
    lit = await connected(devnet.networkConfig());
    keeperStack = await startKeeper(env.nativeConnection, env.address, devnet, signerEnv);
    keeper = keeperStack.keeper;
  });

  after(async () => {
    await keeperStack?.stop();
    if (lit) await disposeLitClient(lit);
    await env?.teardown();
    await devnet?.close();
  });

  test('a PKP agent with pkp-signing sigs signs with every generation, across rotations', async () => {
    const agentId = 'sign-pkp';
    await startControlledPkpAgent(agentId);
    let status: SessionStatus = await freshAbove(agentId, 0);
    assert.equal(status.generation, 1);
    const before = devnet.stats().totals.successes.pkp_sign ?? 0;
    await assertSigns(status.sessionSigs, `${agentId} generation 1`, 'generation 1');
    assert.equal(devnet.stats().totals.successes.pkp_sign, before + devnet.nodeUrls.length);

    const seen = [status.sessionSigs];
    for (let round = 0; round < 2; round++) {
      const previous: number = status.generation;
      await keeper.rotate(agentId, { reason: `pkpSign e2e round ${round + 1}` });
      status = await freshAbove(agentId, previous);
      assert.equal(status.generation, previous + 1, 'one rotation, one new generation');
      for (const old of seen) assert.notDeepEqual(status.sessionSigs, old, 'new sigs, not the old ones');
      seen.push(status.sessionSigs);
      await assertSigns(
        status.sessionSigs,
        `${agentId} generation ${status.generation}`,
        `generation ${status.generation}`,
      );
    }
    assert.equal(status.generation, 3);
    // The agent's own path: the caching source hands out the newest generation's sigs, which sign.
    await assertSigns(await keeper.getSessionSigs(agentId), `${agentId} via getSessionSigs`, 'source');
  });

  test("an EOA agent whose wallet the PKP permits signs with a grant on that PKP's token id", async () => {
    const agentId = 'sign-eoa-permitted';
    await keeper.startAgent({
      agentId,
      network: 'devnet',
      mode: 'eoa',
      signer: 'env:SIGN_PERMITTED_KEY',
      resourceAbilityRequests: [{ resource: `lit-pkp://${pkp.tokenId}`, ability: 'pkp-signing' }],
    });
    const first = await freshAbove(agentId, 0);
    await assertSigns(first.sessionSigs, `${agentId} generation 1`, 'EOA generation 1');
    const { status } = await keeper.rotate(agentId, { wait: true });
    assert.ok(status);
    assert.equal(status.generation, first.generation + 1);
    await assertSigns(status.sessionSigs, `${agentId} generation 2`, 'EOA generation 2');
  });

  test('refused: decrypt-only sigs (default abilities) get NodeResourceIdNotFound', async () => {
    const agentId = 'sign-decrypt-only';
    await startControlledPkpAgent(agentId, null); // the spec's default abilities: decrypt only
    const status = await freshAbove(agentId, 0);
    // The sigs are valid — they decrypt — they only lack the pkp-signing ability.
    const encrypted = await encryptFor(lit, pkp.ethAddress, 'for the agent');
    assert.equal(await decryptWith(lit, status.sessionSigs as any, encrypted), 'for the agent');
    assert.equal(await pkpSignError(status.sessionSigs), 'NodeResourceIdNotFound');
  });

  test('refused: an EOA agent whose wallet the PKP does not permit gets NodePKPNotAuthorized', async () => {
    const agentId = 'sign-eoa-stranger';
    await keeper.startAgent({
      agentId,
      network: 'devnet',
      mode: 'eoa',
      signer: 'env:SIGN_STRANGER_KEY',
      resourceAbilityRequests: PKP_SIGNING_ANY,
    });
    const status = await freshAbove(agentId, 0);
    assert.equal(await pkpSignError(status.sessionSigs), 'NodePKPNotAuthorized');
    // Once the PKP permits the wallet, the very same sigs sign: the refusal was the permission.
    devnet.setPkpController(pkp.publicKey, strangerWallet.address);
    try {
      await assertSigns(status.sessionSigs, `${agentId} once permitted`, 'permitted later');
    } finally {
      devnet.setPkpController(pkp.publicKey, strangerWallet.address, false);
    }
  });
  test('an agent with lit-action-execution sigs runs a Lit Action that signs with its PKP, every generation', async () => {
    const agentId = 'action-pkp';
    await startControlledPkpAgent(agentId, [
      { resource: 'lit-litaction://*', ability: 'lit-action-execution' },
    ]);
    // The action receives the digest (the devnet's sandbox has no ethers) and signs it with the PKP.
    const code = `
      await Lit.Actions.signEcdsa({ toSign: digest, publicKey, sigName: 'agentSig' });
      Lit.Actions.setResponse({ response: JSON.stringify({ generation }) });
    `;
    let status = await freshAbove(agentId, 0);
    for (let round = 0; round < 2; round++) {
      const digest = digestOf(`${agentId} generation ${status.generation}`);
      const res = await lit.executeJs({
        sessionSigs: status.sessionSigs as any,
        code,
        jsParams: { digest: Array.from(digest), publicKey: pkp.publicKey, generation: status.generation },
      });
      const sig = (res.signatures as Record<string, { signature: string }>).agentSig;
      assert.equal(
        ethers.utils.recoverAddress(digest, sig.signature),
        pkp.ethAddress,
        `generation ${status.generation}`,
      );
      assert.deepEqual(res.response, { generation: status.generation });
      if (round === 0) {
        const previous = status.generation;
        await keeper.rotate(agentId, { reason: 'executeJs e2e' });
        status = await freshAbove(agentId, previous);
      }
    }
    assert.equal(status.generation, 2);
    // The same sigs carry no pkp-signing, so the direct pkpSign is refused: the ability is what counts.
    assert.equal(await pkpSignError(status.sessionSigs), 'NodeResourceIdNotFound');
  });

  test('refused: pkp-signing-only sigs cannot run a Lit Action', async () => {
    const agentId = 'action-refused';
    await startControlledPkpAgent(agentId);
    const status = await freshAbove(agentId, 0);
    const err = await rejectionOf(
      lit.executeJs({
        sessionSigs: status.sessionSigs as any,
        code: 'Lit.Actions.setResponse({ response: "ran" });',
      }),
    );
    assert.equal(litErrorCodeOf(err), 'NodeResourceIdNotFound');
  });

  test("refused: a tampered copy of the keeper's sigs (one byte of the signature) gets NodeInvalidAuthSigSessionKeySignature", async () => {
    const agentId = 'sign-tampered';
    await startControlledPkpAgent(agentId);
    const status = await freshAbove(agentId, 0);
    const errorsBefore = devnet.stats().nodes.map((n) => n.errors.NodeInvalidAuthSigSessionKeySignature ?? 0);
    assert.equal(await pkpSignError(tampered(status.sessionSigs)), 'NodeInvalidAuthSigSessionKeySignature');
    // Every node refused it on the signature itself (the SDK sent it unchanged).
    const errorsAfter = devnet.stats().nodes.map((n) => n.errors.NodeInvalidAuthSigSessionKeySignature ?? 0);
    assert.ok(
      errorsAfter.every((n, i) => n > errorsBefore[i]),
      'each node answered NodeInvalidAuthSigSessionKeySignature',
    );
    // The untouched sigs still sign: the byte was the refusal.
    await assertSigns(status.sessionSigs, `${agentId} untampered`, 'untampered');
  });

  test("refused: the keeper's sigs judged after their expiry (nodes' clock moved past it) get NodeExpWrongOrTooLarge", async () => {
    const agentId = 'sign-expired';
    await startControlledPkpAgent(agentId);
    const status = await freshAbove(agentId, 0);
    const expiry = expiryOf(status.sessionSigs);
    assert.ok(expiry > Date.now(), 'fresh sigs expire in the future');
    await assertSigns(status.sessionSigs, `${agentId} before expiry`, 'before expiry');
    // Past the expiry plus the nodes' 60 s grace: to the SDK (host clock) the sigs are still valid,
    // so it sends them, and every node judges them expired.
    devnet.setClockOffset(expiry - Date.now() + 5 * 60_000);
    try {
      assert.equal(await pkpSignError(status.sessionSigs), 'NodeExpWrongOrTooLarge');
    } finally {
      devnet.setClockOffset(0);
    }
    await assertSigns(status.sessionSigs, `${agentId} clock reset`, 'clock reset');
  });
});
