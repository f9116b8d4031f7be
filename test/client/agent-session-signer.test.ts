/**
 * AgentSessionSigner's pure parts (capability checks, the per-node message, expiry choice, the
 * capability decision) as tables, and the class around them with a fake keeper and a fake client
 * (the nodes' acceptance is test/e2e/agent-session-signer-e2e.test.ts).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import {
  AgentSessionSigner,
  type CapabilityStatus,
  capabilityView,
  decideCapability,
  sigsStillServe,
} from '../../src/client/agent-session-signer';
import { SessionSigsUnavailableError } from '../../src/client/errors';
import {
  capabilityFor,
  grantsCover,
  recapGrants,
  requestsGranted,
  sdkResourceRequests,
  sessionSigExpiry,
  sessionSigMessage,
  siweFields,
  verifyCapability,
} from '../../src/client/session-capability';
import { sessionKeyPairFromSeed } from '../../src/client/session-key-file';
import type { SessionCapability } from '../../src/shared/types';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const KEY = sessionKeyPairFromSeed(new Uint8Array(32).fill(1));
const OTHER = sessionKeyPairFromSeed(new Uint8Array(32).fill(2));

function recap(att: Record<string, Record<string, object[]>>): string {
  return `urn:recap:${Buffer.from(JSON.stringify({ att, prf: [] })).toString('base64url')}`;
}
const DECRYPT = { 'lit-accesscontrolcondition://*': { 'Threshold/Decryption': [{}] } };
const SIGN_PKP = { 'lit-pkp://*': { 'Threshold/Signing': [{}] } };

function siwe(uri: string, expiresAtMs: number, resources: string[]): string {
  return [
    'localhost wants you to sign in with your Ethereum account:',
    '0x0000000000000000000000000000000000000001',
    '',
    "This is a test statement.  You can put anything you want here. I further authorize the stated URI to perform the following actions on my behalf: (1) 'Threshold': 'Decryption' for 'lit-accesscontrolcondition://*'.",
    '',
    `URI: ${uri}`,
    'Version: 1',
    'Chain ID: 1',
    'Nonce: 0xabc',
    `Issued At: ${iso(T0)}`,
    `Expiration Time: ${iso(expiresAtMs)}`,
    'Resources:',
    ...resources.map((r) => `- ${r}`),
  ].join('\n');
}

function capability(
  over: {
    key?: string;
    uri?: string;
    expiresInMs?: number;
    siweExpiresInMs?: number;
    att?: object;
    sig?: string;
  } = {},
): SessionCapability {
  const key = over.key ?? KEY.publicKey;
  const exp = T0 + (over.expiresInMs ?? 60 * MIN);
  return {
    sessionPublicKey: key,
    authSig: {
      sig: over.sig ?? `0xsig-${key.slice(0, 4)}-${exp}`,
      derivedVia: 'web3.eth.personal.sign',
      signedMessage: siwe(
        over.uri ?? `lit:session:${key}`,
        T0 + (over.siweExpiresInMs ?? over.expiresInMs ?? 60 * MIN),
        [recap((over.att as never) ?? DECRYPT)],
      ),
      address: '0x0000000000000000000000000000000000000001',
    },
    expiresAt: iso(exp),
  };
}

describe('session capability: pure checks', () => {
  test('siweFields reads URI, expiration and resources', () => {
    const f = siweFields(siwe('lit:session:ab', T0 + MIN, ['urn:recap:x', 'https://example.com']));
    assert.deepEqual(f, {
      uri: 'lit:session:ab',
      expirationTime: iso(T0 + MIN),
      resources: ['urn:recap:x', 'https://example.com'],
    });
  });

  const grants = recapGrants([recap({ ...DECRYPT, ...SIGN_PKP }), 'https://not-a-recap']);
  for (const [resource, ability, covered] of [
    ['lit-accesscontrolcondition://*', 'access-control-condition-decryption', true],
    ['lit-accesscontrolcondition://abc', 'access-control-condition-decryption', true],
    ['lit-pkp://*', 'pkp-signing', true],
    ['lit-pkp://123', 'pkp-signing', true],
    ['lit-litaction://*', 'lit-action-execution', false],
    ['lit-accesscontrolcondition://*', 'not-an-ability', false],
  ] as const) {
    test(`grantsCover ${resource}=${ability} → ${covered}`, () => {
      assert.equal(grantsCover(grants, { resource, ability }), covered);
    });
  }

  test('requestsGranted maps ReCap abilities back to Lit abilities (signing by resource kind)', () => {
    assert.deepEqual(requestsGranted(grants), [
      { resource: 'lit-accesscontrolcondition://*', ability: 'access-control-condition-decryption' },
      { resource: 'lit-pkp://*', ability: 'pkp-signing' },
    ]);
  });

  const cases: [string, SessionCapability, RegExp | number][] = [
    ['bound to this key', capability(), T0 + 60 * MIN],
    ['the SIWE expires first', capability({ siweExpiresInMs: 10 * MIN }), T0 + 10 * MIN],
    [
      'bound to another key',
      capability({ key: OTHER.publicKey }),
      /bound to session key 8139770e…, not this one/,
    ],
    [
      'SIWE names another URI',
      { ...capability(), authSig: capability({ key: OTHER.publicKey }).authSig },
      /SIWE names lit:session:8139/,
    ],
    ['no ReCap grant', capability({ att: {} }), /grants no resource/],
  ];
  for (const [what, cap, want] of cases) {
    test(`verifyCapability: ${what}`, () => {
      const got = verifyCapability(cap, KEY.publicKey);
      if (typeof want === 'number') {
        assert.ok('expiresAtMs' in got, JSON.stringify(got));
        assert.equal(got.expiresAtMs, want);
      } else {
        assert.ok('problem' in got);
        assert.match(got.problem, want);
      }
    });
  }

  test('verifyCapability: requested resources it does not grant are named', () => {
    const got = verifyCapability(capability(), KEY.publicKey, [
      { resource: 'lit-pkp://*', ability: 'pkp-signing' },
    ]);
    assert.ok('problem' in got);
    assert.match(got.problem, /does not grant lit-pkp:\/\/\*=pkp-signing/);
  });

  test('capabilityFor picks the current or previous capability bound to this key', () => {
    const mine = capability();
    const theirs = capability({ key: OTHER.publicKey });
    assert.equal(capabilityFor({ capability: mine, previousCapability: null }, KEY.publicKey), mine);
    assert.equal(capabilityFor({ capability: theirs, previousCapability: mine }, KEY.publicKey), mine);
    assert.equal(capabilityFor({ capability: theirs }, KEY.publicKey), undefined);
    const later = capability({ expiresInMs: 90 * MIN });
    assert.equal(capabilityFor({ capability: mine, previousCapability: later }, KEY.publicKey), later);
  });

  test('sessionSigMessage is the SDK 7.4.0 message: key order, resource objects, delegation first', () => {
    const cap = {
      ...capability(),
      capacityDelegationAuthSig: { sig: 'd', derivedVia: 'x', signedMessage: 'm', address: 'a' },
    };
    const message = sessionSigMessage({
      sessionPublicKey: KEY.publicKey,
      requests: sdkResourceRequests([
        { resource: 'lit-accesscontrolcondition://*', ability: 'access-control-condition-decryption' },
      ]),
      capability: cap,
      issuedAt: iso(T0),
      expiration: iso(T0 + 5 * MIN),
      nodeAddress: 'http://127.0.0.1:7473',
    });
    assert.equal(
      message,
      `{"sessionKey":"${KEY.publicKey}","resourceAbilityRequests":[{"resource":{"resource":"*","resourcePrefix":"lit-accesscontrolcondition"},"ability":"access-control-condition-decryption"}],"capabilities":[${JSON.stringify(cap.capacityDelegationAuthSig)},${JSON.stringify(cap.authSig)}],"issuedAt":"${iso(T0)}","expiration":"${iso(T0 + 5 * MIN)}","nodeAddress":"http://127.0.0.1:7473"}`,
    );
  });

  for (const [what, ttl, capLeft, want] of [
    ['the sig lifetime when the capability lasts longer', 5 * MIN, 60 * MIN, 5 * MIN],
    ['never past the capability', 5 * MIN, 3 * MIN, 3 * MIN],
  ] as const) {
    test(`sessionSigExpiry: ${what}`, () => {
      assert.equal(sessionSigExpiry(T0, T0 + capLeft, ttl), T0 + want);
    });
  }

  for (const [what, cached, want] of [
    [
      'same capability, nodes, time left',
      { capabilitySig: 'c', nodesKey: 'a b', expiresAtMs: T0 + 2 * MIN },
      true,
    ],
    ['a node joined', { capabilitySig: 'c', nodesKey: 'a', expiresAtMs: T0 + 2 * MIN }, false],
    ['a new capability', { capabilitySig: 'old', nodesKey: 'a b', expiresAtMs: T0 + 2 * MIN }, false],
    ['running short', { capabilitySig: 'c', nodesKey: 'a b', expiresAtMs: T0 + 30_000 }, false],
    ['nothing cached', undefined, false],
  ] as const) {
    test(`sigsStillServe: ${what} → ${want}`, () => {
      assert.equal(
        sigsStillServe(cached, { capabilitySig: 'c', nodesKey: 'a b', nowMs: T0, minSigValidityMs: MIN }),
        want,
      );
    });
  }
});

function status(over: Partial<CapabilityStatus> = {}): CapabilityStatus {
  return {
    state: 'fresh',
    generation: 1,
    refreshAt: iso(T0 + 40 * MIN),
    sessionSigs: null,
    capability: capability(),
    previousCapability: null,
    ...over,
  };
}

describe('decideCapability', () => {
  const base = {
    nowMs: T0,
    minValidityMs: 2 * MIN,
    startedMs: T0,
    deadlineMs: T0 + MIN,
    pollIntervalMs: 1000,
  };
  const rows: [string, CapabilityStatus | undefined, string, RegExp?][] = [
    ['nothing fetched yet', undefined, 'fetch'],
    ['a capability for this key', status(), 'use-fetched'],
    [
      'not minted yet: wait',
      status({ state: 'pending', capability: null, generation: 0 }),
      'wait',
      /no capability minted for this key yet/,
    ],
    [
      'bound to another key: wait (a key rotation may be under way)',
      status({ capability: capability({ key: OTHER.publicKey }) }),
      'wait',
      /bound to session key 8139770e…, not this key/,
    ],
    [
      'delivered mode: fail now',
      status({
        capability: null,
        sessionSigs: { n: { sig: 's', derivedVia: 'd', signedMessage: 'm', address: 'a' } },
      }),
      'fail',
      /delivered mode/,
    ],
    ['failed agent: fail now', status({ state: 'failed', capability: null }), 'fail', /stopped retrying/],
    [
      'expired capability, still refreshing: wait',
      status({ state: 'degraded', capability: capability({ expiresInMs: -MIN }) }),
      'wait',
      /capability expired at/,
    ],
  ];
  for (const [what, s, action, reason] of rows) {
    test(what, () => {
      const d = decideCapability(s ? capabilityView(s, KEY.publicKey) : undefined, base);
      assert.equal(d.action, action);
      if (reason) assert.match(d.action === 'fail' ? d.reason : d.action === 'wait' ? d.why : '', reason);
    });
  }
  test('past the deadline: fail with the reason', () => {
    const d = decideCapability(
      capabilityView(status({ state: 'pending', capability: null }), KEY.publicKey),
      {
        ...base,
        nowMs: T0 + 2 * MIN,
      },
    );
    assert.equal(d.action, 'fail');
    assert.match(
      d.action === 'fail' ? d.reason : '',
      /no capability minted for this key yet .* after waiting/,
    );
  });
});

describe('AgentSessionSigner (fake keeper and client)', () => {
  function setup(statuses: CapabilityStatus[], nodes = ['http://n1', 'http://n2', 'http://n3']) {
    let now = T0;
    const fetches: number[] = [];
    const client = { ready: true, connectedNodes: new Set(nodes) };
    const signer = new AgentSessionSigner({
      agentId: 'a1',
      sessionKey: KEY,
      litNodeClient: client,
      fetchStatus: async () => {
        fetches.push(now);
        return statuses[Math.min(fetches.length - 1, statuses.length - 1)];
      },
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      waitTimeoutMs: 5_000,
    });
    return { signer, client, fetches, advance: (ms: number) => (now += ms) };
  }
  const publicKey = crypto.createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(KEY.publicKey, 'hex')]),
    format: 'der',
    type: 'spki',
  });

  test('signs every connected node with the session key, 5-minute sigs, cached until a node joins', async () => {
    const { signer, client, fetches } = setup([status()]);
    const first = await signer.getWithInfo();
    assert.deepEqual(Object.keys(first.sessionSigs), ['http://n1', 'http://n2', 'http://n3']);
    assert.equal(first.expiresAt, iso(T0 + 5 * MIN));
    for (const [url, s] of Object.entries(first.sessionSigs)) {
      assert.equal(s.address, KEY.publicKey);
      assert.equal(s.derivedVia, 'litSessionSignViaNacl');
      assert.equal(s.algo, 'ed25519');
      assert.equal(JSON.parse(s.signedMessage).nodeAddress, url);
      assert.ok(crypto.verify(null, Buffer.from(s.signedMessage), publicKey, Buffer.from(s.sig, 'hex')));
    }
    assert.equal((await signer.getWithInfo()).fromCache, true);
    client.connectedNodes.add('http://n4');
    const grown = await signer.getWithInfo();
    assert.equal(grown.fromCache, false);
    assert.equal(Object.keys(grown.sessionSigs).length, 4);
    assert.equal(fetches.length, 1, 'the capability was read once');
  });

  test('remade before they run short; the capability is re-read when it nears expiry', async () => {
    const { signer, fetches, advance } = setup([
      status(),
      status({ generation: 2, capability: capability({ expiresInMs: 120 * MIN }) }),
    ]);
    await signer.getSessionSigs();
    advance(4 * MIN + 1);
    const remade = await signer.getWithInfo();
    assert.equal(remade.fromCache, false);
    assert.equal(fetches.length, 1);
    advance(54 * MIN);
    const next = await signer.getWithInfo();
    assert.equal(fetches.length, 2);
    assert.equal(next.generation, 2);
    assert.equal(next.capabilityExpiresAt, iso(T0 + 120 * MIN));
  });

  test('never past the capability: sigs end with it', async () => {
    const { signer } = setup([status({ capability: capability({ expiresInMs: 3 * MIN }) })]);
    assert.equal((await signer.getWithInfo()).expiresAt, iso(T0 + 3 * MIN));
  });

  test('throws why: bound to another key, after waiting', async () => {
    const { signer } = setup([status({ capability: capability({ key: OTHER.publicKey }) })]);
    await assert.rejects(signer.getSessionSigs(), (err: unknown) => {
      assert.ok(err instanceof SessionSigsUnavailableError);
      assert.match(err.message, /bound to session key 8139770e…, not this key .* after waiting 5s/);
      assert.doesNotMatch(err.message, new RegExp(KEY.secretKey.slice(0, 16)));
      return true;
    });
  });

  test('throws why: a capability without the requested ability, at once', async () => {
    const { signer } = setup([status()]);
    const strict = new AgentSessionSigner({
      agentId: 'a1',
      sessionKey: KEY,
      litNodeClient: { ready: true, connectedNodes: ['http://n1'] },
      fetchStatus: async () => status(),
      resourceAbilityRequests: [{ resource: 'lit-pkp://*', ability: 'pkp-signing' }],
      now: () => T0,
    });
    await assert.rejects(strict.getSessionSigs(), /does not grant lit-pkp:\/\/\*=pkp-signing/);
    assert.ok(signer);
  });

  test('throws why: the client is not connected', async () => {
    const { signer, client } = setup([status()]);
    (client as { ready: boolean }).ready = false;
    await assert.rejects(signer.getSessionSigs(), /not connected/);
  });

  test('refuses a key pair whose halves do not match', () => {
    assert.throws(
      () =>
        new AgentSessionSigner({
          agentId: 'a1',
          sessionKey: { publicKey: OTHER.publicKey, secretKey: KEY.secretKey },
          litNodeClient: { ready: true, connectedNodes: [] },
          fetchStatus: async () => status(),
        }),
      /not the public half/,
    );
  });
});
