import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  LitAccessControlConditionResource,
  LitPKPResource,
  RecapSessionCapabilityObject,
} from '@lit-protocol/auth-helpers';
import { LIT_ABILITY } from '@lit-protocol/constants';
import {
  canonicalJson,
  decodeRecap,
  encodeRecap,
  extractRecaps,
  mergeAttenuations,
  RecapError,
  recapGrants,
  recapStatement,
} from '../../src/devnet/recap';

/** Recaps exactly as the SDK builds them for a SIWE. */
function sdkRecap(grants: [resource: any, ability: string][]) {
  const recap = new RecapSessionCapabilityObject({}, []);
  for (const [resource, ability] of grants) recap.addCapabilityForResource(resource, ability as any);
  return { urn: recap.encodeAsSiweResource(), statement: recap.statement, att: recap.attenuations };
}

const SDK_CASES = [
  {
    name: 'decryption on every condition',
    grants: [[new LitAccessControlConditionResource('*'), LIT_ABILITY.AccessControlConditionDecryption]],
  },
  {
    name: 'decryption on one condition and PKP signing',
    grants: [
      [new LitAccessControlConditionResource('abc123/def456'), LIT_ABILITY.AccessControlConditionDecryption],
      [new LitPKPResource('*'), LIT_ABILITY.PKPSigning],
    ],
  },
  {
    name: 'two abilities on one resource',
    grants: [
      [new LitAccessControlConditionResource('*'), LIT_ABILITY.AccessControlConditionSigning],
      [new LitAccessControlConditionResource('*'), LIT_ABILITY.AccessControlConditionDecryption],
    ],
  },
] as { name: string; grants: [any, string][] }[];

describe('recap encoding matches the SDK', () => {
  for (const c of SDK_CASES) {
    test(c.name, () => {
      const { urn, statement, att } = sdkRecap(c.grants);
      const decoded = decodeRecap(urn);
      assert.deepEqual(decoded.att, att);
      assert.deepEqual(decoded.prf, []);
      assert.equal(encodeRecap(decoded), urn, 're-encoding gives the SDK bytes');
      assert.equal(recapStatement(decoded.att), statement);
    });
  }
});

describe('recapGrants', () => {
  const att = {
    'lit-accesscontrolcondition://*': { 'Threshold/Decryption': [{}] },
    'lit-pkp://abc': { 'Threshold/Signing': [{}] },
    'lit-litaction://*': { '*/*': [{}] },
  };
  const cases: [string, string, string, boolean][] = [
    ['lit-accesscontrolcondition', 'h1/h2', 'access-control-condition-decryption', true],
    ['lit-accesscontrolcondition', 'h1/h2', 'access-control-condition-signing', false],
    ['lit-pkp', 'abc', 'pkp-signing', true],
    ['lit-pkp', 'other', 'pkp-signing', false],
    ['lit-litaction', 'Qm123', 'lit-action-execution', true],
    ['lit-ratelimitincrease', '1', 'rate-limit-increase-auth', false],
    ['lit-accesscontrolcondition', 'h1/h2', 'not-an-ability', false],
  ];
  for (const [prefix, id, ability, expected] of cases) {
    test(`${ability} on ${prefix}://${id} → ${expected}`, () => {
      assert.equal(recapGrants(att, prefix, id, ability), expected);
    });
  }
});

describe('decodeRecap refuses malformed recaps', () => {
  const enc = (o: unknown) => `urn:recap:${Buffer.from(JSON.stringify(o)).toString('base64url')}`;
  const cases: [string, string][] = [
    ['not a recap URN', 'https://example.com'],
    ['non-base64url payload', 'urn:recap:!!!'],
    ['non-JSON payload', `urn:recap:${Buffer.from('nope').toString('base64url')}`],
    ['unsorted attenuations', enc({ att: { b: { 'x/y': [{}] }, a: { 'x/y': [{}] } }, prf: [] })],
    ['bad ability string', enc({ att: { a: { 'no-slash': [{}] } }, prf: [] })],
    ['nota bene not objects', enc({ att: { a: { 'x/y': ['s'] } }, prf: [] })],
    ['missing prf', enc({ att: {} })],
  ];
  for (const [name, urn] of cases) {
    test(name, () => assert.throws(() => decodeRecap(urn), RecapError));
  }
});

describe('extractRecaps', () => {
  const { urn, statement } = sdkRecap([
    [new LitAccessControlConditionResource('*'), LIT_ABILITY.AccessControlConditionDecryption],
  ]);
  test('accepts a statement ending with the recap sentence', () => {
    const recaps = extractRecaps({ statement: `Hello. ${statement}`, resources: ['https://x', urn] });
    assert.equal(recaps.length, 1);
  });
  test('refuses a statement that does not end with it', () => {
    assert.throws(() => extractRecaps({ statement: 'Hello.', resources: [urn] }), RecapError);
  });
  test('refuses a SIWE without recap resources', () => {
    assert.throws(() => extractRecaps({ statement, resources: ['https://x'] }), RecapError);
  });
});

test('mergeAttenuations keeps both sides, sorted, nota bene appended', () => {
  const merged = mergeAttenuations(
    { 'z://*': { 'A/b': [{ n: 1 }] }, 'a://*': { 'X/y': [{}] } },
    { 'z://*': { 'A/b': [{ n: 2 }], 'A/a': [{}] } },
  );
  assert.equal(canonicalJson(merged), JSON.stringify(merged), 'keys are in canonical order');
  assert.deepEqual(merged['z://*']['A/b'], [{ n: 1 }, { n: 2 }]);
  assert.deepEqual(Object.keys(merged), ['a://*', 'z://*']);
  assert.equal(
    recapStatement(merged),
    "I further authorize the stated URI to perform the following actions on my behalf: (1) 'X': 'y' for 'a://*'. (2) 'A': 'a', 'b' for 'z://*'.",
  );
});
