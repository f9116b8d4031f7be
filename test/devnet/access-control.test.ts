import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  hashAccessControlConditions,
  hashUnifiedAccessControlConditions,
} from '@lit-protocol/access-control-conditions';
import {
  type ConditionItem,
  canonicalizeConditions,
  evaluateConditions,
  hashConditions,
} from '../../src/devnet/access-control';
import { LitNodeError } from '../../src/devnet/lit-errors';

const ALICE = '0x1cD4147AF045AdCADe6eAC4883b9310FD286d95a';
const BOB = '0x9D1a5EC58232A894eBFcB5e466E3075b23101B89';

const is = (address: string, comparator = '=') => ({
  contractAddress: '',
  standardContractType: '',
  chain: 'ethereum',
  method: '',
  parameters: [':userAddress'],
  returnValueTest: { comparator, value: address },
});

const hex = (buf: ArrayBuffer) => Buffer.from(buf).toString('hex');

describe('hashConditions equals the SDK hash the ciphertext is bound to', () => {
  const sets: [string, unknown[]][] = [
    ['one condition', [is(ALICE)]],
    ['an or of two', [is(ALICE), { operator: 'or' }, is(BOB)]],
    ['a nested group', [is(ALICE), { operator: 'and' }, [is(BOB, '!='), { operator: 'or' }, is(ALICE)]]],
    [
      'keys in another order',
      [
        {
          returnValueTest: { value: ALICE, comparator: '=' },
          parameters: [':userAddress'],
          method: '',
          chain: 'ethereum',
          standardContractType: '',
          contractAddress: '',
        },
      ],
    ],
  ];
  for (const [name, conditions] of sets) {
    test(`accessControlConditions: ${name}`, async () => {
      const ours = hashConditions(canonicalizeConditions('accessControlConditions', conditions));
      assert.equal(ours, hex(await hashAccessControlConditions(conditions as any)));
    });
    test(`unifiedAccessControlConditions: ${name}`, async () => {
      const unified = JSON.parse(JSON.stringify(conditions), (_k, v) =>
        v && typeof v === 'object' && 'returnValueTest' in v ? { conditionType: 'evmBasic', ...v } : v,
      );
      const ours = hashConditions(canonicalizeConditions('unifiedAccessControlConditions', unified));
      assert.equal(ours, hex(await hashUnifiedAccessControlConditions(unified)));
    });
  }
});

describe('evaluateConditions', () => {
  const cases: [string, ConditionItem[], string, boolean][] = [
    ['the named address', [is(ALICE)], ALICE, true],
    ['the named address in lower case', [is(ALICE.toLowerCase())], ALICE, true],
    ['another address', [is(ALICE)], BOB, false],
    ['!= another address', [is(ALICE, '!=')], BOB, true],
    ['or: second matches', [is(ALICE), { operator: 'or' }, is(BOB)], BOB, true],
    ['and: one fails', [is(ALICE), { operator: 'and' }, is(BOB)], BOB, false],
    ['group', [is(BOB), { operator: 'or' }, [is(ALICE), { operator: 'and' }, is(BOB, '!=')]], ALICE, true],
  ];
  for (const [name, items, user, expected] of cases) {
    test(name, () => {
      const canonical = canonicalizeConditions('accessControlConditions', items);
      assert.equal(evaluateConditions(canonical, { userAddress: user }), expected);
    });
  }
});

describe('conditions the devnet cannot decide are refused as bad input', () => {
  const cases: [string, string, unknown][] = [
    [
      'a balance check',
      'accessControlConditions',
      [{ ...is(ALICE), method: 'eth_getBalance', parameters: [':userAddress', 'latest'] }],
    ],
    ['a > comparator', 'accessControlConditions', [is(ALICE, '>')]],
    ['two conditions without operator', 'accessControlConditions', [is(ALICE), is(BOB)]],
    ['a trailing operator', 'accessControlConditions', [is(ALICE), { operator: 'or' }]],
    [
      'a solRpc unified condition',
      'unifiedAccessControlConditions',
      [{ conditionType: 'solRpc', ...is(ALICE) }],
    ],
  ];
  for (const [name, kind, conditions] of cases) {
    test(name, () => {
      assert.throws(
        () => evaluateConditions(canonicalizeConditions(kind as any, conditions), { userAddress: ALICE }),
        (e: unknown) => e instanceof LitNodeError && e.code === 'NodeBadInput',
      );
    });
  }
  test('no conditions at all', () => {
    assert.throws(
      () => canonicalizeConditions('accessControlConditions', []),
      (e: unknown) => e instanceof LitNodeError && e.code === 'NodeMissingAccessControlConditions',
    );
  });
});
