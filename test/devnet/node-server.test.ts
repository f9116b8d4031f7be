/**
 * A node's endpoints over plain HTTP, with requests built by hand, so every check of
 * `sign_session_key` can be hit on its own and the error bodies inspected.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LitAccessControlConditionResource, RecapSessionCapabilityObject } from '@lit-protocol/auth-helpers';
import { LIT_ABILITY } from '@lit-protocol/constants';
import { combineSignatureShares, verifySignature } from '@lit-protocol/crypto';
import { ethers } from 'ethers';
import { SiweMessage } from 'siwe';
import { type Devnet, type PkpInfo, type SessionSignedEvent, startDevnet } from '../../src/devnet';

let devnet: Devnet;
let pkp: PkpInfo;
const controller = ethers.Wallet.createRandom();
const stranger = ethers.Wallet.createRandom();
const SESSION_KEY = `lit:session:${'cd'.repeat(32)}`;
const MIN = 60_000;
const DAY = 24 * 3600_000;
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
  pkp = devnet.mintPkp([controller.address]);
});
after(() => devnet.close());

async function post(
  url: string,
  body: unknown,
  requestId = 'lit_test',
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

interface SiweOpts {
  address?: string;
  uri?: string;
  nonce?: string;
  issuedAt?: string;
  expirationTime?: string | null;
}

function pkpSiwe(opts: SiweOpts = {}): string {
  const recap = new RecapSessionCapabilityObject({}, []);
  recap.addCapabilityForResource(
    new LitAccessControlConditionResource('*'),
    LIT_ABILITY.AccessControlConditionDecryption,
  );
  const siwe = new SiweMessage({
    domain: 'localhost',
    address: opts.address ?? pkp.ethAddress,
    statement: 'Lit Protocol PKP session signature',
    uri: opts.uri ?? SESSION_KEY,
    version: '1',
    chainId: 1,
    nonce: opts.nonce ?? devnet.latestBlock().hash,
    issuedAt: opts.issuedAt ?? iso(0),
    ...(opts.expirationTime === null ? {} : { expirationTime: opts.expirationTime ?? iso(DAY) }),
  });
  return (recap.addToSiweMessage(siwe) as SiweMessage).prepareMessage();
}

async function authMethod(signer = controller) {
  const signedMessage = new SiweMessage({
    domain: 'localhost',
    address: signer.address,
    uri: 'https://localhost/login',
    version: '1',
    chainId: 1,
    nonce: devnet.latestBlock().hash,
    issuedAt: iso(0),
    expirationTime: iso(10 * MIN),
  }).prepareMessage();
  const authSig = {
    sig: await signer.signMessage(signedMessage),
    derivedVia: 'web3.eth.personal.sign',
    signedMessage,
    address: signer.address,
  };
  return { authMethodType: 1, accessToken: JSON.stringify(authSig) };
}

async function signSessionKey(overrides: Record<string, unknown> = {}, siwe: SiweOpts = {}) {
  const body = {
    sessionKey: SESSION_KEY,
    authMethods: [await authMethod()],
    pkpPublicKey: pkp.publicKey,
    siweMessage: pkpSiwe(siwe),
    curveType: 'BLS',
    epoch: 1,
    ...overrides,
  };
  return post(`${devnet.nodeUrls[0]}/web/sign_session_key/v1`, body);
}

test('handshake reports the network key and the latest blockhash', async () => {
  const { status, body } = await post(`${devnet.nodeUrls[0]}/web/handshake/`, {
    clientPublicKey: 'test',
    challenge: 'ab',
  });
  assert.equal(status, 200);
  assert.equal(body.networkPublicKey, devnet.networkPublicKey);
  assert.equal(body.subnetPublicKey, devnet.networkPublicKey);
  assert.equal(body.networkPublicKeySet, devnet.networkPublicKey);
  assert.ok(Array.isArray(body.hdRootPubkeys) && body.hdRootPubkeys.length > 0);
  assert.match(body.serverPublicKey, /^[0-9a-f]{64}$/);
  assert.ok(devnet.latestBlock().number - 1 <= (await blockNumberOf(body.latestBlockhash)));
});

async function blockNumberOf(hash: string): Promise<number> {
  const res = await post(devnet.rpcUrl, {
    jsonrpc: '2.0',
    id: 1,
    method: 'eth_getBlockByHash',
    params: [hash, false],
  });
  return Number.parseInt(res.body.result.number, 16);
}

describe('sign_session_key', () => {
  test('returns shares that combine into a network signature over the node-built SIWE', async () => {
    const nonce = devnet.latestBlock();
    const body = {
      sessionKey: SESSION_KEY,
      authMethods: [await authMethod()],
      pkpPublicKey: pkp.publicKey,
      siweMessage: pkpSiwe({ nonce: nonce.hash }),
      curveType: 'BLS',
      epoch: 1,
    };
    const events: SessionSignedEvent[] = [];
    const onSigned = (e: SessionSignedEvent) => events.push(e);
    devnet.on('sessionSigned', onSigned);
    const answers = await Promise.all(
      [0, 1].map((node) => post(`${devnet.nodeUrls[node]}/web/sign_session_key/v1`, body)),
    );
    devnet.off('sessionSigned', onSigned);
    assert.deepEqual(
      events.map((e) => e.node).sort(),
      [0, 1],
      'each node that answered its share says so (sessionSigned)',
    );
    for (const e of events) assert.deepEqual([e.pkpPublicKey, e.sessionKey], [pkp.publicKey, SESSION_KEY]);
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.equal(a.body.result, 'success');
      assert.equal(a.body.curveType, 'BLS');
      assert.equal(a.body.blsRootPubkey, devnet.networkPublicKey);
    }
    const [a, b] = answers.map((x) => x.body);
    assert.equal(a.siweMessage, b.siweMessage, 'every node builds the identical message');
    assert.notEqual(a.shareIndex, b.shareIndex);
    const signed = new SiweMessage(a.siweMessage);
    assert.equal(signed.address, pkp.ethAddress);
    assert.equal(signed.uri, SESSION_KEY);
    assert.equal(signed.nonce, nonce.hash);
    assert.equal(
      signed.issuedAt,
      new Date(nonce.timestamp * 1000).toISOString(),
      'issued at the nonce block time',
    );
    assert.match(signed.statement ?? '', /'Threshold': 'Decryption' for 'lit-accesscontrolcondition:\/\/\*'/);
    assert.match(signed.statement ?? '', /'Auth': 'Auth' for 'lit-resolvedauthcontext:\/\/\*'/);
    const combined = await combineSignatureShares([a.signatureShare, b.signatureShare]);
    await verifySignature(
      devnet.networkPublicKey,
      Buffer.from(a.dataSigned, 'hex'),
      Buffer.from(combined, 'hex'),
    );
  });

  const failures: [string, () => Promise<{ status: number; body: any }>, string, number][] = [
    [
      'a nonce this chain never issued',
      () => signSessionKey({}, { nonce: ethers.utils.id('not a block') }),
      'NodeInvalidBlockhash',
      502,
    ],
    [
      'a nonce block older than 30 days',
      () => signSessionKey({}, { nonce: devnet.expiredBlockhash() }),
      'NodeInvalidBlockhash',
      502,
    ],
    [
      'an expiration beyond 30 days',
      () => signSessionKey({}, { expirationTime: iso(31 * DAY) }),
      'NodeSIWEMessageError',
      400,
    ],
    [
      'an expired SIWE',
      () => signSessionKey({}, { issuedAt: iso(-DAY), expirationTime: iso(-2 * MIN) }),
      'NodeSIWEMessageError',
      400,
    ],
    ['no expiration', () => signSessionKey({}, { expirationTime: null }), 'NodeSIWEMessageError', 400],
    [
      'an expiration before issue',
      () => signSessionKey({}, { issuedAt: iso(0), expirationTime: iso(-30_000) }),
      'NodeExpWrongOrTooLarge',
      403,
    ],
    [
      'a uri other than the session key',
      () => signSessionKey({}, { uri: 'lit:session:ffff' }),
      'NodeSIWEMessageError',
      400,
    ],
    [
      'a SIWE for another address than the PKP',
      () => signSessionKey({}, { address: controller.address }),
      'NodeSIWEMessageError',
      400,
    ],
    [
      'a controller the PKP does not permit',
      async () => signSessionKey({ authMethods: [await authMethod(stranger)] }),
      'NodePKPNotAuthorized',
      401,
    ],
    ['no auth method at all', () => signSessionKey({ authMethods: [] }), 'NodePKPNotAuthorized', 401],
    [
      'an auth sig whose signature is not the wallet’s',
      async () => {
        const m = await authMethod();
        const authSig = JSON.parse(m.accessToken);
        authSig.sig = await stranger.signMessage(authSig.signedMessage);
        return signSessionKey({ authMethods: [{ authMethodType: 1, accessToken: JSON.stringify(authSig) }] });
      },
      'NodeInvalidAuthSig',
      401,
    ],
    ['an ECDSA curve type', () => signSessionKey({ curveType: 'ECDSA' }), 'NodeInvalidCurveType', 400],
    [
      'a body that is not JSON',
      () => post(`${devnet.nodeUrls[0]}/web/sign_session_key/v1`, '{oops'),
      'NodeBadInput',
      422,
    ],
    ['a body without siweMessage', () => signSessionKey({ siweMessage: undefined }), 'NodeBadInput', 422],
  ];
  for (const [name, call, code, status] of failures) {
    test(`refuses ${name} with ${code}`, async () => {
      const res = await call();
      assert.equal(res.status, status);
      assert.equal(res.body.errorCode, code);
      assert.equal(res.body.status, status);
      assert.equal(typeof res.body.errorKind, 'string');
      assert.equal(typeof res.body.message, 'string');
      assert.ok(Array.isArray(res.body.details));
    });
  }

  test('echoes the request id as correlationId and counts the error per node', async () => {
    const before = devnet.stats().nodes[2].errors.NodeInvalidBlockhash ?? 0;
    const body = {
      sessionKey: SESSION_KEY,
      authMethods: [await authMethod()],
      pkpPublicKey: pkp.publicKey,
      siweMessage: pkpSiwe({ nonce: ethers.utils.id('nope') }),
      curveType: 'BLS',
    };
    const events: SessionSignedEvent[] = [];
    const onSigned = (e: SessionSignedEvent) => events.push(e);
    devnet.on('sessionSigned', onSigned);
    const res = await post(`${devnet.nodeUrls[2]}/web/sign_session_key/v1`, body, 'lit_42');
    devnet.off('sessionSigned', onSigned);
    assert.deepEqual(events, [], 'a refusal is no sessionSigned');
    assert.equal(res.body.correlationId, 'lit_42');
    assert.equal(devnet.stats().nodes[2].errors.NodeInvalidBlockhash, before + 1);
  });
});

describe('encryption/sign input checks', () => {
  const url = () => `${devnet.nodeUrls[0]}/web/encryption/sign/`;
  const conditions = [
    {
      contractAddress: '',
      standardContractType: '',
      chain: 'ethereum',
      method: '',
      parameters: [':userAddress'],
      returnValueTest: { comparator: '=', value: controller.address },
    },
  ];
  test('without conditions: NodeMissingAccessControlConditions', async () => {
    const res = await post(url(), { dataToEncryptHash: 'ab'.repeat(32), authSig: {} });
    assert.equal(res.body.errorCode, 'NodeMissingAccessControlConditions');
  });
  test('with a wallet auth sig instead of a session sig: NodeInvalidAuthSig', async () => {
    const res = await post(url(), {
      accessControlConditions: conditions,
      dataToEncryptHash: 'ab'.repeat(32),
      authSig: {
        sig: '0x',
        derivedVia: 'web3.eth.personal.sign',
        signedMessage: '',
        address: controller.address,
      },
    });
    assert.equal(res.body.errorCode, 'NodeInvalidAuthSig');
  });
  test('with a malformed data hash: NodeBadInput', async () => {
    const res = await post(url(), {
      accessControlConditions: conditions,
      dataToEncryptHash: 'xyz',
      authSig: {},
    });
    assert.equal(res.status, 422);
    assert.equal(res.body.errorCode, 'NodeBadInput');
  });
});

describe('pkp/sign input checks', () => {
  const url = () => `${devnet.nodeUrls[0]}/web/pkp/sign/v1`;
  const toSign = Array.from({ length: 32 }, (_, i) => i);
  const cases: [string, () => Record<string, unknown>, string, number][] = [
    ['toSign missing', () => ({ pubkey: pkp.publicKey, authSig: {} }), 'NodeBadInput', 422],
    ['toSign not bytes', () => ({ toSign: ['a'], pubkey: pkp.publicKey, authSig: {} }), 'NodeBadInput', 422],
    [
      'toSign of 31 bytes',
      () => ({ toSign: toSign.slice(1), pubkey: pkp.publicKey, authSig: {} }),
      'NodeBadInput',
      422,
    ],
    ['pubkey missing', () => ({ toSign, authSig: {} }), 'NodeBadInput', 422],
    [
      'a public key that is no PKP here',
      () => ({ toSign, pubkey: ethers.Wallet.createRandom().publicKey, authSig: {} }),
      'NodeInvalidPKPAddress',
      401,
    ],
    ['authSig missing', () => ({ toSign, pubkey: pkp.publicKey }), 'NodeBadInput', 422],
    [
      'a wallet auth sig instead of a session sig',
      () => ({
        toSign,
        pubkey: pkp.publicKey,
        authSig: {
          sig: '0x',
          derivedVia: 'web3.eth.personal.sign',
          signedMessage: '',
          address: controller.address,
        },
      }),
      'NodeInvalidAuthSig',
      401,
    ],
  ];
  for (const [name, body, code, status] of cases) {
    test(`${name}: ${code}`, async () => {
      const res = await post(url(), body());
      assert.equal(res.status, status);
      assert.equal(res.body.errorCode, code);
    });
  }
});

test('unknown endpoints answer 404', async () => {
  const res = await post(`${devnet.nodeUrls[0]}/web/nope/v1`, {});
  assert.equal(res.status, 404);
  assert.equal(devnet.stats().nodes[0].requests.other >= 1, true);
});
