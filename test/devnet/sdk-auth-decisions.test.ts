/**
 * The auth decisions of Lit's nodes (decision tables in src/devnet/pkp-auth.ts, from lit-peer's
 * web_client.rs `sign_session_key` and pkp/auth/mod.rs `check_pkp_auth`), table-tested through
 * the real, unmodified Lit SDK 7.4.0 against the devnet:
 * - sign_session_key with an auth method and/or a Lit Action: the action runs first and must
 *   answer "true"; then a permitted auth method or a permitted action authorises the session;
 * - pkpSign and signEcdsa inside executeJs with sigs whose capability came from a Lit Action:
 *   checked again at use against what authorised the session, or the running action.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LitActionResource, LitPKPResource } from '@lit-protocol/auth-helpers';
import { LIT_ABILITY } from '@lit-protocol/constants';
import { generateSessionKeyPair } from '@lit-protocol/crypto';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { type Devnet, ipfsCidOf, litErrorCodeOf, type PkpInfo, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import {
  connected,
  eoaSessionSigs,
  ethers,
  ethWalletAuthMethod,
  inMs,
  type ResourceAbilityRequests,
  type SessionSigs,
} from './helpers';

let devnet: Devnet;
let client: LitNodeClientNodeJs;
/** Permitted on every PKP below. */
const alice = ethers.Wallet.createRandom();
/** Permitted on none. */
const bob = ethers.Wallet.createRandom();

const EXECUTE_AND_SIGN = () =>
  [
    { resource: new LitActionResource('*'), ability: LIT_ABILITY.LitActionExecution },
    { resource: new LitPKPResource('*'), ability: LIT_ABILITY.PKPSigning },
  ] as unknown as ResourceAbilityRequests;

// Distinct code, so distinct IPFS ids; the "permitted" ones are permitted on every PKP minted here.
const TRUE_PERMITTED = `(async () => { Lit.Actions.setResponse({ response: 'true' }); })(); // permitted`;
const TRUE_UNPERMITTED = `(async () => { Lit.Actions.setResponse({ response: 'true' }); })(); // not permitted`;
const FALSE_PERMITTED = `Lit.Actions.setResponse({ response: 'false' }); // permitted`;
const FALSE_UNPERMITTED = `Lit.Actions.setResponse({ response: 'false' }); // not permitted`;
const THROWS_UNPERMITTED = `(async () => { throw new Error('no'); })(); // not permitted`;
const CONTAINS_TRUE = `Lit.Actions.setResponse({ response: JSON.stringify({ allowed: true }) }); // not permitted`;
/** Signs inside executeJs, un-awaited; permitted or not as its comment says. */
const signCode = (permitted: boolean) => `(async () => {
  await Lit.Actions.signEcdsa({ toSign: digest, publicKey, sigName: 'sig' });
})(); // ${permitted ? 'permitted' : 'not permitted'} signer`;
const SIGN_PERMITTED = signCode(true);
const SIGN_UNPERMITTED = signCode(false);
const PERMITTED = [TRUE_PERMITTED, FALSE_PERMITTED, SIGN_PERMITTED].map((c) => ipfsCidOf(c));

const freshPkp = () => devnet.mintPkp([alice.address], PERMITTED);

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
  client = await connected(devnet.networkConfig());
});
after(async () => {
  if (client) await disposeLitClient(client);
  await devnet?.close();
});

type Who = 'alice' | 'bob' | 'none';

async function sessionFor(pkp: PkpInfo, who: Who, action?: string): Promise<SessionSigs> {
  const wallet = who === 'alice' ? alice : who === 'bob' ? bob : undefined;
  const authMethods = wallet ? [await ethWalletAuthMethod(client, wallet)] : [];
  const common = {
    pkpPublicKey: pkp.publicKey,
    authMethods,
    resourceAbilityRequests: EXECUTE_AND_SIGN(),
    expiration: inMs(3600_000),
    sessionKey: generateSessionKeyPair(),
  };
  return (
    action
      ? await client.getLitActionSessionSigs({
          ...common,
          litActionCode: Buffer.from(action).toString('base64'),
          jsParams: {},
        })
      : await client.getPkpSessionSigs(common)
  ) as SessionSigs;
}

const digest = ethers.utils.arrayify(ethers.utils.keccak256(ethers.utils.toUtf8Bytes('decided')));

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'signed';
  } catch (e) {
    return litErrorCodeOf(e) ?? String(e);
  }
}

async function pkpSigns(sigs: SessionSigs, pkp: PkpInfo): Promise<string> {
  return outcome(
    (async () => {
      const { signature } = await client.pkpSign({
        pubKey: pkp.publicKey,
        toSign: digest,
        sessionSigs: sigs as any,
      });
      assert.equal(ethers.utils.recoverAddress(digest, signature), pkp.ethAddress);
    })(),
  );
}

async function actionSigns(sigs: SessionSigs, pkp: PkpInfo, code: string): Promise<string> {
  return outcome(
    (async () => {
      const res = await client.executeJs({
        sessionSigs: sigs as any,
        code,
        jsParams: { digest: Array.from(digest), publicKey: pkp.publicKey },
      });
      const sig = (res.signatures as Record<string, { signature: string }>).sig;
      assert.equal(ethers.utils.recoverAddress(digest, sig.signature), pkp.ethAddress);
    })(),
  );
}

describe('sign_session_key: auth method and/or Lit Action (then pkpSign with the sigs)', () => {
  const rows: [string, Who, string | undefined, string][] = [
    ['permitted auth method, no action', 'alice', undefined, 'signed'],
    ['unpermitted auth method, no action', 'bob', undefined, 'NodePKPNotAuthorized'],
    ['neither', 'none', undefined, 'NodePKPNotAuthorized'],
    ['permitted auth method + unpermitted action saying "true"', 'alice', TRUE_UNPERMITTED, 'signed'],
    ['unpermitted auth method + permitted action saying "true"', 'bob', TRUE_PERMITTED, 'signed'],
    ['no auth method + permitted action saying "true"', 'none', TRUE_PERMITTED, 'signed'],
    ['permitted auth method + permitted action saying "true"', 'alice', TRUE_PERMITTED, 'signed'],
    [
      'unpermitted auth method + unpermitted action saying "true"',
      'bob',
      TRUE_UNPERMITTED,
      'NodePKPNotAuthorized',
    ],
    ['no auth method + unpermitted action saying "true"', 'none', TRUE_UNPERMITTED, 'NodePKPNotAuthorized'],
    [
      'permitted auth method + unpermitted action saying "false"',
      'alice',
      FALSE_UNPERMITTED,
      'NodeAuthFailed',
    ],
    ['permitted auth method + permitted action saying "false"', 'alice', FALSE_PERMITTED, 'NodeAuthFailed'],
    [
      'unpermitted auth method + unpermitted action that throws',
      'bob',
      THROWS_UNPERMITTED,
      'NodeJsExecutionError',
    ],
    ['permitted auth method + a response that contains "true"', 'alice', CONTAINS_TRUE, 'signed'],
  ];
  test('the table, row by row (a signed session must also pkpSign)', async () => {
    const got: Record<string, string> = {};
    const want: Record<string, string> = {};
    for (const [name, who, action, expected] of rows) {
      want[name] = expected;
      const pkp = freshPkp();
      got[name] = await outcome(sessionFor(pkp, who, action));
      if (got[name] === 'signed') {
        const sigs = await sessionFor(pkp, who, action);
        const signs = await pkpSigns(sigs, pkp);
        if (signs !== 'signed') got[name] = `signed, but pkpSign: ${signs}`;
      }
    }
    assert.deepEqual(got, want);
  });
});

describe('pkpSign / signEcdsa with sigs whose capability came from a Lit Action: checked at use', () => {
  test('authorised by the auth method (action unpermitted): signs until the auth method is removed', async () => {
    const pkp = freshPkp();
    const sigs = await sessionFor(pkp, 'alice', TRUE_UNPERMITTED);
    assert.equal(await pkpSigns(sigs, pkp), 'signed');
    assert.equal(await actionSigns(sigs, pkp, SIGN_UNPERMITTED), 'signed');
    devnet.setPkpController(pkp.publicKey, alice.address, false);
    assert.equal(await pkpSigns(sigs, pkp), 'NodePKPNotAuthorized');
    assert.equal(await actionSigns(sigs, pkp, SIGN_UNPERMITTED), 'NodePKPNotAuthorized');
  });

  test('authorised by the action (auth method unpermitted): signs until the action is un-permitted', async () => {
    const pkp = freshPkp();
    const sigs = await sessionFor(pkp, 'bob', TRUE_PERMITTED);
    assert.equal(await pkpSigns(sigs, pkp), 'signed');
    devnet.setPkpAction(pkp.publicKey, ipfsCidOf(TRUE_PERMITTED), false);
    assert.equal(await pkpSigns(sigs, pkp), 'NodePKPNotAuthorized');
    // Inside executeJs, a permitted running action still may sign; an unpermitted one may not.
    assert.equal(await actionSigns(sigs, pkp, SIGN_PERMITTED), 'signed');
    assert.equal(await actionSigns(sigs, pkp, SIGN_UNPERMITTED), 'NodePKPNotAuthorized');
  });

  test('a PKP session signs for another PKP that permits the auth method behind it, not for one that does not', async () => {
    const pkp = freshPkp();
    const sigs = await sessionFor(pkp, 'alice', TRUE_UNPERMITTED);
    assert.equal(await pkpSigns(sigs, freshPkp()), 'signed');
    assert.equal(await pkpSigns(sigs, devnet.mintPkp([bob.address])), 'NodePKPNotAuthorized');
  });

  test('an EOA session of an unpermitted wallet: a permitted running action signs, an unpermitted one does not', async () => {
    const pkp = freshPkp();
    const sigs = await eoaSessionSigs(client, bob, { resourceAbilityRequests: EXECUTE_AND_SIGN() });
    assert.equal(await pkpSigns(sigs, pkp), 'NodePKPNotAuthorized');
    assert.equal(await actionSigns(sigs, pkp, SIGN_PERMITTED), 'signed');
    assert.equal(await actionSigns(sigs, pkp, SIGN_UNPERMITTED), 'NodePKPNotAuthorized');
  });
});
