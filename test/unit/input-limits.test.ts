/**
 * What a spec may hold beyond its formats: no key-shaped text anywhere, bounded size and nesting,
 * durations with units, short labels; and the key file policy. Table tests of the pure checks,
 * then parseAgentSpec on the same inputs, which is what the CLI, the client library and the
 * workflow call.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgentSpecError, parseAgentSpec } from '../../src/shared/agent-spec';
import {
  isKeyShaped,
  keyShapedStrings,
  MAX_SPEC_DEPTH,
  maskKeyShaped,
  nestingDepth,
} from '../../src/shared/input-limits';
import { keyFileProblem } from '../../src/shared/key-file-policy';

const KEY = 'ab'.repeat(32); // 64 hex digits starting with a letter: a valid env var name too
const PKP = `0x04${'cd'.repeat(64)}`;
const base = { agentId: 'agent-1', network: 'datil-dev', mode: 'eoa', signer: 'env:AGENT_1_KEY' };
const actionAgent = { agentId: 'agent-2', network: 'datil-dev', mode: 'pkp', pkpPublicKey: PKP };

function issuesOf(input: unknown): { field: string; message: string }[] {
  try {
    parseAgentSpec(input);
  } catch (err) {
    assert.ok(err instanceof AgentSpecError, String(err));
    return err.issues;
  }
  return [];
}

describe('key-shaped text', () => {
  const table: [string, string, boolean][] = [
    ['64 hex', KEY, true],
    ['0x + 64 hex', `0x${KEY}`, true],
    ['128 hex (an ed25519 secret key)', KEY + KEY, true],
    ['inside a reference', `env:${KEY}`, true],
    ['as a path component', `file:/${KEY}`, true],
    ['in a sentence', `my key is ${KEY}.`, true],
    ['a PKP public key (04 + 128 hex)', PKP, false],
    ['63 hex', KEY.slice(1), false],
    ['65 hex', `${KEY}a`, false],
    ['part of a longer word', `x${KEY}`, false],
    ['an env name', 'env:AGENT_1_KEY', false],
  ];
  for (const [name, text, shaped] of table) {
    test(`${name}: ${shaped ? 'key-shaped' : 'not key-shaped'}`, () => {
      assert.equal(isKeyShaped(text), shaped);
      assert.equal(maskKeyShaped(text, '[x]').includes(KEY.slice(0, 64)), !shaped && text.includes(KEY));
    });
  }

  test('keyShapedStrings finds every path, keys of objects included, and skips named fields', () => {
    assert.deepEqual(
      keyShapedStrings({ a: KEY, b: [1, { c: `0x${KEY}` }], [KEY]: 1, pkpPublicKey: KEY }, ['pkpPublicKey']),
      [['a'], [KEY], ['b', 1, 'c']],
    );
  });
});

describe('nesting depth is measured without recursion', () => {
  test('a scalar is 0, {} is 1, nested objects and arrays count', () => {
    assert.equal(nestingDepth('x'), 0);
    assert.equal(nestingDepth({}), 1);
    assert.equal(nestingDepth({ a: [{ b: 1 }] }), 3);
  });
  test('a 100,000-deep array stops at the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(nestingDepth(deep, 16), 17);
  });
});

describe('parseAgentSpec refuses, naming the field and the fix', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = { d: deep };
  const table: [string, unknown, string, RegExp][] = [
    ['a key as an env reference', { ...base, signer: `env:${KEY}` }, 'signer', /looks like a private key/],
    ['a key as a file path', { ...base, signer: `file:/${KEY}` }, 'signer', /looks like a private key/],
    [
      'a key as the capacity signer',
      { ...base, capacityDelegation: { signer: `env:${KEY}` } },
      'capacityDelegation.signer',
      /looks like a private key/,
    ],
    ['a key in a label', { ...base, labels: { note: KEY } }, 'labels.note', /shaped like a private key/],
    ['a key as the agent id', { ...base, agentId: KEY }, 'agentId', /shaped like a private key/],
    [
      'a key in the action code',
      { ...actionAgent, litAction: { code: `const k = "${KEY}";` } },
      'litAction.code',
      /pin the action to IPFS/,
    ],
    ['a TTL without a unit', { ...base, sessionTtl: '1.5' }, 'sessionTtl', /"1.5" has no unit; .*"24h"/],
    [
      'a renew-before without a unit',
      { ...base, refresh: { renewBefore: '5' } },
      'refresh.renewBefore',
      /"5" has no unit; .*"2h" \(or a fraction of the lifetime such as 0.66\)/,
    ],
    [
      'jsParams over 16 KiB',
      { ...actionAgent, litAction: { code: 'x()', jsParams: { blob: 'x'.repeat(20_000) } } },
      'litAction.jsParams',
      /more than 16384; .*fetch data inside the action/,
    ],
    [
      'jsParams nested 18 deep',
      {
        ...actionAgent,
        litAction: { code: 'x()', jsParams: JSON.parse(`${'{"a":'.repeat(18)}1${'}'.repeat(18)}`) },
      },
      'litAction.jsParams',
      new RegExp(`nests deeper than ${MAX_SPEC_DEPTH} levels`),
    ],
    ['a spec nested 100,000 deep', { ...base, labels: deep }, 'labels', /nests deeper than 16 levels/],
    [
      'jsParams nested 100,000 deep',
      { ...actionAgent, litAction: { code: 'x()', jsParams: deep } },
      'litAction.jsParams',
      /nests deeper than 16 levels/,
    ],
    ['a 1 MB spec', { ...base, labels: { a: 'x'.repeat(1_000_000) } }, 'labels', /more than 524288/],
    [
      'too many labels',
      { ...base, labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`l${i}`, 'v'])) },
      'labels',
      /33 labels, more than 32/,
    ],
    ['a long label value', { ...base, labels: { team: 'x'.repeat(300) } }, 'labels.team', /more than 256/],
    [
      'a label key with spaces',
      { ...base, labels: { 'my team': 'x' } },
      'labels.my team',
      /label key must be/,
    ],
    [
      'too many resources',
      {
        ...base,
        resourceAbilityRequests: Array.from({ length: 33 }, () => ({
          resource: 'lit-pkp://*',
          ability: 'pkp-signing',
        })),
      },
      'resourceAbilityRequests',
      /more than 32 resources; use a wildcard/,
    ],
  ];
  for (const [name, input, field, message] of table) {
    test(name, () => {
      const issues = issuesOf(input);
      const hit = issues.find((i) => i.field === field);
      assert.ok(hit, `expected an issue on ${field}, got ${JSON.stringify(issues).slice(0, 500)}`);
      assert.match(hit.message, message);
      assert.equal(issues.filter((i) => i.field === field).length, 1, 'one message per field');
    });
  }

  test('public 32-byte values in their own fields pass: a PKP token id as resource, a condition hash', () => {
    const tokenId = `0x${'ef'.repeat(32)}`;
    const spec = parseAgentSpec({
      ...base,
      resourceAbilityRequests: [
        { resource: `lit-pkp://${tokenId.slice(2)}`, ability: 'pkp-signing' },
        {
          resource: `lit-accesscontrolcondition://${'12'.repeat(32)}`,
          ability: 'access-control-condition-decryption',
        },
      ],
    });
    assert.equal(spec.resourceAbilityRequests.length, 2);
  });

  test('durations with units, numbers as milliseconds, and a PKP key still pass', () => {
    const spec = parseAgentSpec({
      ...actionAgent,
      signer: 'env:CONTROLLER',
      sessionTtl: '1.5h',
      refresh: { renewBefore: 600_000 },
      labels: { 'team/sub.x': 'payments' },
    });
    assert.equal(spec.sessionTtlMs, 5_400_000);
    assert.equal(spec.refresh.renewBeforeMs, 600_000);
    assert.equal(spec.pkpPublicKey, PKP);
  });
});

describe('key file policy (as OpenSSH decides)', () => {
  const me = 1000;
  const file = { isFile: true, mode: 0o100600, uid: me, size: 67 };
  const link = { isSymbolicLink: false, uid: me };
  const table: [string, Parameters<typeof keyFileProblem>[0], RegExp | undefined][] = [
    ['0600, mine', { link, target: file }, undefined],
    ['0400, root-owned', { link, target: { ...file, mode: 0o100400, uid: 0 } }, undefined],
    [
      'world-readable',
      { link, target: { ...file, mode: 0o100644 } },
      /group and other users \(mode 0644\); chmod 600/,
    ],
    [
      'group-readable',
      { link, target: { ...file, mode: 0o100640 } },
      /accessible to its group \(mode 0640\)/,
    ],
    ['owned by someone else', { link, target: { ...file, uid: 1234 } }, /owned by uid 1234.*chown/],
    [
      'a symlink someone else placed',
      { link: { isSymbolicLink: true, uid: 1234 }, target: file },
      /symlink owned by uid 1234/,
    ],
    ['my own symlink to my file', { link: { isSymbolicLink: true, uid: me }, target: file }, undefined],
    ['a directory', { link, target: { ...file, isFile: false } }, /not a regular file/],
    ['a huge file', { link, target: { ...file, size: 10_000_000 } }, /more than a key file holds/],
  ];
  for (const [name, facts, problem] of table) {
    test(name, () => {
      const got = keyFileProblem(facts, me);
      if (problem) assert.match(got ?? '', problem);
      else assert.equal(got, undefined);
    });
  }
});
