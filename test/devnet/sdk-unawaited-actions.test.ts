/**
 * Lit's documented action shape — an async function called and not awaited — through the real,
 * unmodified Lit SDK 7.4.0 (`executeJs`, `getLitActionSessionSigs`) against a 3-node devnet: every
 * node waits for the action's signing to settle, so the SDK gets every share and combines them,
 * one run at a time and with several sessions running such actions in parallel; a bad action
 * between them (an un-awaited rejection) is refused with Lit's code and harms no run after it.
 * Also prints the executeJs median with three parallel signing actions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LitActionResource, LitPKPResource } from '@lit-protocol/auth-helpers';
import { LIT_ABILITY } from '@lit-protocol/constants';
import { generateSessionKeyPair } from '@lit-protocol/crypto';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { type Devnet, litErrorCodeOf, type PkpInfo, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import {
  connected,
  eoaSessionSigs,
  ethers,
  ethWalletAuthMethod,
  inMs,
  type ResourceAbilityRequests,
  rejectionOf,
  type SessionSigs,
} from './helpers';

let devnet: Devnet;
let client: LitNodeClientNodeJs;
const wallets = [0, 1, 2].map(() => ethers.Wallet.createRandom());
let pkp: PkpInfo;
const sessions: SessionSigs[] = [];

const EXECUTE_AND_SIGN = () =>
  [
    { resource: new LitActionResource('*'), ability: LIT_ABILITY.LitActionExecution },
    { resource: new LitPKPResource('*'), ability: LIT_ABILITY.PKPSigning },
  ] as unknown as ResourceAbilityRequests;

/** Lit's documented shape, as in Lit's docs and js-sdk tests: called, not awaited. */
const UNAWAITED_SIGN = `
(async () => {
  const sigShare = await Lit.Actions.signEcdsa({ toSign: digest, publicKey, sigName: 'sig' });
  Lit.Actions.setResponse({ response: JSON.stringify({ label, sigShare }) });
})();
`;

const digestOf = (text: string) =>
  ethers.utils.arrayify(ethers.utils.keccak256(ethers.utils.toUtf8Bytes(text)));

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
  assert.equal(devnet.nodeUrls.length, 3);
  client = await connected(devnet.networkConfig());
  pkp = devnet.mintPkp(wallets.map((w) => w.address));
  for (const w of wallets) {
    sessions.push(await eoaSessionSigs(client, w, { resourceAbilityRequests: EXECUTE_AND_SIGN() }));
  }
});
after(async () => {
  if (client) await disposeLitClient(client);
  await devnet?.close();
});

async function signed(sigs: SessionSigs, label: string): Promise<number> {
  const digest = digestOf(label);
  const started = performance.now();
  const res = await client.executeJs({
    sessionSigs: sigs as any,
    code: UNAWAITED_SIGN,
    jsParams: { digest: Array.from(digest), publicKey: pkp.publicKey, label },
  });
  const ms = performance.now() - started;
  const sig = (res.signatures as Record<string, { signature: string }> | undefined)?.sig;
  assert.ok(sig, `${label}: signatures.sig (${JSON.stringify(res)})`);
  assert.equal(ethers.utils.recoverAddress(digest, sig.signature), pkp.ethAddress, label);
  assert.deepEqual(res.response, { label, sigShare: 'success' });
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

describe('un-awaited signing actions through the stock SDK', () => {
  test('one at a time: every run returns every share and a valid signature (12 runs)', async () => {
    const times: number[] = [];
    for (let i = 0; i < 12; i++) times.push(await signed(sessions[i % 3], `serial ${i}`));
    console.log(`executeJs, one un-awaited signing action at a time: median ${median(times).toFixed(1)} ms`);
  });

  test('three sessions in parallel, 8 rounds: every run signs; prints the executeJs median', async () => {
    const times: number[] = [];
    for (let round = 0; round < 8; round++) {
      times.push(...(await Promise.all(sessions.map((sigs, i) => signed(sigs, `parallel ${round}/${i}`)))));
    }
    console.log(
      `executeJs, 3 parallel un-awaited signing actions, 3 devnet nodes: median ${median(times).toFixed(1)} ms over ${times.length} calls (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)})`,
    );
  });

  test('a bad action among good ones is refused with Lit’s code; the runs after it still sign', async () => {
    const bad = client.executeJs({
      sessionSigs: sessions[0] as any,
      code: `(async () => { await Lit.Actions.signEcdsa({ toSign: digest, publicKey, sigName: 'x' }); throw new Error('after signing'); })();`,
      jsParams: { digest: Array.from(digestOf('bad')), publicKey: pkp.publicKey },
    });
    const goods = [1, 2].map((i) => signed(sessions[i], `beside the bad one ${i}`));
    const err = await rejectionOf(bad);
    assert.equal(litErrorCodeOf(err), 'NodeJsExecutionError');
    assert.match(String((err as Error).message), /Uncaught \(in promise\) Error: after signing/);
    await Promise.all(goods);
    await Promise.all(sessions.map((sigs, i) => signed(sigs, `after the bad one ${i}`)));
  });

  test('sessions from an un-awaited Lit Action auth, three at once, run un-awaited signing actions in parallel', async () => {
    const AUTH = `(async () => {
      const url = await Lit.Actions.getRpcUrl({ chain: 'ethereum' });
      const ok = !!url && Lit.Auth.authMethodContexts.some((c) => c.authMethodType === 1);
      Lit.Actions.setResponse({ response: ok ? 'true' : 'false' });
    })();`;
    const litSessions = await Promise.all(
      wallets.map(
        async (w) =>
          (await client.getLitActionSessionSigs({
            pkpPublicKey: pkp.publicKey,
            litActionCode: Buffer.from(AUTH).toString('base64'),
            jsParams: {},
            authMethods: [await ethWalletAuthMethod(client, w)],
            resourceAbilityRequests: EXECUTE_AND_SIGN(),
            expiration: inMs(3600_000),
            sessionKey: generateSessionKeyPair(),
          })) as SessionSigs,
      ),
    );
    for (let round = 0; round < 3; round++) {
      await Promise.all(litSessions.map((sigs, i) => signed(sigs, `lit action session ${round}/${i}`)));
    }
  });
});
