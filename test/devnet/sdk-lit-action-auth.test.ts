/**
 * Lit Action auth of PKP sessions with the real, unmodified Lit SDK (LitNodeClientNodeJs 7.4.0,
 * `getLitActionSessionSigs`, which POSTs `/web/sign_session_key/v1` with `code` or
 * `litActionIpfsId` and `jsParams`) against the devnet: a permitted action that answers "true"
 * gets the PKP a session whose sigs pkpSign and decrypt; then the refusals, each with the node's
 * error code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSessionKeyPair } from '@lit-protocol/crypto';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { type Devnet, ipfsCidOf, litErrorCodeOf, type PkpInfo, startDevnet } from '../../src/devnet';
import { extractRecaps } from '../../src/devnet/recap';
import { parseSiwe } from '../../src/devnet/siwe-checks';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import {
  connected,
  DECRYPT_ANY,
  decryptWith,
  encryptFor,
  ethers,
  ethWalletAuthMethod,
  inMs,
  PKP_SIGNING,
  type ResourceAbilityRequests,
  rejectionOf,
  type SessionSigs,
} from './helpers';

let devnet: Devnet;
let client: LitNodeClientNodeJs;
let pkp: PkpInfo;
const alice = ethers.Wallet.createRandom();

/** The action answers "true" only for the password its jsParams carry. */
const PASSWORD_ACTION = `
  const ok = jsParams.password === 'open sesame' && Lit.Auth.actionIpfsIds.length === 1;
  Lit.Actions.setResponse({ response: ok ? 'true' : 'false' });
`;
const SAYS_FALSE = `Lit.Actions.setResponse({ response: 'false' });`;
const THROWS = `throw new Error('no session for you');`;
const SPINS = `while (true) {}`;
const NEVER_PERMITTED = `Lit.Actions.setResponse({ response: 'true' }); // not permitted on the PKP`;
/** Like Lit's own tests: the action decides on the auth methods the request proved. */
const WALLET_ACTION = `
  const ok = Lit.Auth.authMethodContexts.some(
    (c) => c.authMethodType === 1 && c.userId.toLowerCase() === jsParams.wallet.toLowerCase(),
  );
  Lit.Actions.setResponse({ response: String(ok) });
`;

const base64 = (code: string) => Buffer.from(code).toString('base64');

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
  client = await connected(devnet.networkConfig());
  // No permitted address at all: only the actions can authorise this PKP's sessions.
  pkp = devnet.mintPkp(
    [],
    [PASSWORD_ACTION, SAYS_FALSE, THROWS, SPINS, WALLET_ACTION].map((c) => ipfsCidOf(c)),
  );
});
after(async () => {
  if (client) await disposeLitClient(client);
  await devnet?.close();
});

function litActionSessionSigs(
  action: { code: string } | { ipfsId: string },
  jsParams: Record<string, unknown>,
  opts: { resourceAbilityRequests?: ResourceAbilityRequests; authMethods?: unknown[] } = {},
): Promise<SessionSigs> {
  return client.getLitActionSessionSigs({
    pkpPublicKey: pkp.publicKey,
    ...('code' in action ? { litActionCode: base64(action.code) } : { litActionIpfsId: action.ipfsId }),
    jsParams,
    authMethods: (opts.authMethods ?? []) as any,
    resourceAbilityRequests: opts.resourceAbilityRequests ?? PKP_SIGNING(),
    expiration: inMs(3600_000),
    sessionKey: generateSessionKeyPair(),
  }) as Promise<SessionSigs>;
}

async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  return litErrorCodeOf(await rejectionOf(promise));
}

const digestOf = (text: string) =>
  ethers.utils.arrayify(ethers.utils.keccak256(ethers.utils.toUtf8Bytes(text)));

async function assertPkpSigns(sigs: SessionSigs): Promise<void> {
  const digest = digestOf('signed under lit action auth');
  const { signature } = await client.pkpSign({
    pubKey: pkp.publicKey,
    toSign: digest,
    sessionSigs: sigs as any,
  });
  assert.equal(ethers.utils.recoverAddress(digest, signature), pkp.ethAddress);
}

describe('getLitActionSessionSigs against the devnet', () => {
  test('a permitted action given inline that answers "true" gets a PKP session; its sigs pkpSign', async () => {
    const sigs = await litActionSessionSigs({ code: PASSWORD_ACTION }, { password: 'open sesame' });
    assert.deepEqual(Object.keys(sigs).sort(), [...devnet.nodeUrls].sort());
    for (const s of Object.values(sigs)) {
      assert.equal(JSON.parse(s.signedMessage).capabilities[0].address, pkp.ethAddress);
    }
    await assertPkpSigns(sigs);
  });

  test('the signed capability records the action in the resolved auth context', async () => {
    const sigs = await litActionSessionSigs({ code: PASSWORD_ACTION }, { password: 'open sesame' });
    const sessionMessage = JSON.parse(Object.values(sigs)[0].signedMessage);
    const recaps = extractRecaps(parseSiwe(sessionMessage.capabilities[0].signedMessage));
    const context = recaps[0].att['lit-resolvedauthcontext://*']['Auth/Auth'][0] as {
      actionIpfsIdStack: string[];
    };
    assert.deepEqual(context.actionIpfsIdStack, [ipfsCidOf(PASSWORD_ACTION)]);
  });

  test('a permitted action by IPFS id (the devnet content store) gets a session; its sigs decrypt', async () => {
    const { ipfsId } = devnet.addLitAction(PASSWORD_ACTION);
    const sigs = await litActionSessionSigs(
      { ipfsId },
      { password: 'open sesame' },
      { resourceAbilityRequests: DECRYPT_ANY() },
    );
    const encrypted = await encryptFor(client, pkp.ethAddress, 'for the pkp only');
    assert.equal(await decryptWith(client, sigs, encrypted), 'for the pkp only');
  });

  test('jsParams decide: the wrong password is refused with NodeAuthFailed', async () => {
    assert.equal(
      await refusal(litActionSessionSigs({ code: PASSWORD_ACTION }, { password: 'guess' })),
      'NodeAuthFailed',
    );
  });

  test('the action sees the auth methods of the request in Lit.Auth.authMethodContexts', async () => {
    const authMethods = [await ethWalletAuthMethod(client, alice)];
    const sigs = await litActionSessionSigs(
      { code: WALLET_ACTION },
      { wallet: alice.address },
      { authMethods },
    );
    await assertPkpSigns(sigs);
    const other = ethers.Wallet.createRandom().address;
    assert.equal(
      await refusal(litActionSessionSigs({ code: WALLET_ACTION }, { wallet: other }, { authMethods })),
      'NodeAuthFailed',
    );
  });

  describe('refusals', () => {
    const cases: [string, () => Promise<unknown>, string][] = [
      [
        'an action that is not a permitted action of the PKP',
        () => litActionSessionSigs({ code: NEVER_PERMITTED }, {}),
        'NodePKPNotAuthorized',
      ],
      [
        'an action that answers "false"',
        () => litActionSessionSigs({ code: SAYS_FALSE }, {}),
        'NodeAuthFailed',
      ],
      ['an action that throws', () => litActionSessionSigs({ code: THROWS }, {}), 'NodeJsExecutionError'],
      [
        'an action that runs past the time limit',
        () => litActionSessionSigs({ code: SPINS }, {}),
        'NodeJsTimeoutError',
      ],
      [
        'neither an auth method nor an action',
        () =>
          client.getPkpSessionSigs({
            pkpPublicKey: pkp.publicKey,
            authMethods: [],
            resourceAbilityRequests: PKP_SIGNING(),
            expiration: inMs(3600_000),
            sessionKey: generateSessionKeyPair(),
          }),
        'NodePKPNotAuthorized',
      ],
    ];
    for (const [name, call, code] of cases) {
      test(`${name} → ${code}`, async () => {
        assert.equal(await refusal(call()), code);
      });
    }
  });

  describe('malformed Lit Action requests, posted to a node directly', () => {
    const post = async (extra: Record<string, unknown>) => {
      const res = await fetch(`${devnet.nodeUrls[0]}/web/sign_session_key/v1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          sessionKey: 'lit:session:00',
          authMethods: [],
          pkpPublicKey: pkp.publicKey,
          siweMessage: 'not reached',
          curveType: 'BLS',
          ...extra,
        }),
      });
      return { status: res.status, body: (await res.json()) as { errorCode?: string; message?: string } };
    };
    test('jsParams that are not an object → NodeBadInput', async () => {
      const res = await post({ code: base64(PASSWORD_ACTION), jsParams: [1] });
      assert.equal(res.status, 422);
      assert.equal(res.body.errorCode, 'NodeBadInput');
    });
    test('code whose IPFS id is not the litActionIpfsId given → NodeBadInput', async () => {
      const res = await post({ code: base64(PASSWORD_ACTION), litActionIpfsId: ipfsCidOf(SAYS_FALSE) });
      assert.equal(res.body.errorCode, 'NodeBadInput');
      assert.match(res.body.message ?? '', /is not the IPFS id of the code/);
    });
    test('an IPFS id the content store does not hold → NodeBadInput', async () => {
      const res = await post({ litActionIpfsId: ipfsCidOf('// never stored') });
      assert.equal(res.body.errorCode, 'NodeBadInput');
    });
  });

  test('an action no longer permitted is refused', async () => {
    const { ipfsId } = devnet.addLitAction(`Lit.Actions.setResponse({ response: 'true' });`);
    devnet.setPkpAction(pkp.publicKey, ipfsId);
    await litActionSessionSigs({ ipfsId }, {});
    devnet.setPkpAction(pkp.publicKey, ipfsId, false);
    assert.equal(await refusal(litActionSessionSigs({ ipfsId }, {})), 'NodePKPNotAuthorized');
  });
});
