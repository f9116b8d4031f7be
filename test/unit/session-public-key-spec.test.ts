/**
 * Agent-held mode's spec field `sessionPublicKey` (issue 20): the edge's parser (parseAgentSpec)
 * and the workflow's plain-TypeScript check (normalisedSpecIssues) take 32 bytes of hex for every
 * mode, normalised to lowercase without 0x; they refuse 64 bytes (a tweetnacl secret key) and
 * anything else, naming the field and the fix. The field is exempt from the key-shape refusal (it
 * is a public key), and log redaction shows it there while still masking a wallet key elsewhere.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REDACTED, redactSecrets, redactString } from '../../src/codec/redact';
import { AgentSpecError, parseAgentSpec } from '../../src/shared/agent-spec';
import { normalisedSpecIssues } from '../../src/shared/spec-check';
import { normaliseSessionPublicKey, sessionPublicKeyProblem } from '../../src/shared/spec-rules';

const PUB = 'ab'.repeat(32);
const SECRET = `${'12'.repeat(32)}${PUB}`;
const PKP = `0x04${'cd'.repeat(64)}`;
const CID = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG';
const eoa = { agentId: 'a-1', network: 'datil-dev', mode: 'eoa', signer: 'env:A_1' };
const pkpWallet = { ...eoa, mode: 'pkp', pkpPublicKey: PKP };
const pkpAction = {
  agentId: 'a-2',
  network: 'datil-dev',
  mode: 'pkp',
  pkpPublicKey: PKP,
  litAction: { ipfsId: CID },
};

function issuesOf(input: unknown): { field: string; message: string }[] {
  try {
    parseAgentSpec(input);
  } catch (err) {
    if (err instanceof AgentSpecError) return err.issues;
    throw err;
  }
  return [];
}

describe('sessionPublicKey: accepted for every mode, normalised', () => {
  const rows: [string, Record<string, unknown>, string][] = [
    ['eoa, lowercase', { ...eoa, sessionPublicKey: PUB }, PUB],
    ['eoa, 0x and uppercase', { ...eoa, sessionPublicKey: `0x${PUB.toUpperCase()}` }, PUB],
    ['pkp by wallet', { ...pkpWallet, sessionPublicKey: PUB.toUpperCase() }, PUB],
    ['pkp by Lit Action', { ...pkpAction, sessionPublicKey: `0X${PUB}`.replace('0X', '0x') }, PUB],
  ];
  for (const [name, input, expected] of rows) {
    test(name, () => {
      const spec = parseAgentSpec(input);
      assert.equal(spec.sessionPublicKey, expected);
      assert.deepEqual(normalisedSpecIssues(spec), [], 'the workflow takes what the parser made');
      assert.deepEqual(parseAgentSpec(spec), spec, 'parsing the normalised spec again changes nothing');
    });
  }
  test('without it the spec is delivered mode, unchanged', () => {
    assert.equal('sessionPublicKey' in parseAgentSpec(eoa), false);
  });
});

describe('sessionPublicKey: refused with the field and the fix', () => {
  const rows: [string, unknown, RegExp][] = [
    ['a tweetnacl secret key (128 hex)', SECRET, /SECRET key.*never send it.*agent keygen/],
    ['a secret key with 0x', `0x${SECRET}`, /SECRET key/],
    ['63 hex digits', PUB.slice(1), /32 bytes as 64 hex digits.*agent keygen/],
    ['65 hex digits', `${PUB}a`, /32 bytes as 64 hex digits/],
    ['not hex', 'zz'.repeat(32), /32 bytes as 64 hex digits/],
    ['base64 of 32 bytes', Buffer.from(PUB, 'hex').toString('base64'), /64 hex digits/],
    ['empty', '', /64 hex digits/],
    ['a number', 42, /agent keygen/],
  ];
  for (const [name, value, message] of rows) {
    test(`${name}: edge`, () => {
      const issues = issuesOf({ ...eoa, sessionPublicKey: value });
      assert.equal(issues.length, 1, JSON.stringify(issues));
      assert.equal(issues[0].field, 'sessionPublicKey');
      assert.match(issues[0].message, message);
      assert.ok(!issues[0].message.includes(PUB), 'the message does not echo the value');
    });
    test(`${name}: workflow check`, () => {
      const spec = { ...parseAgentSpec(eoa), sessionPublicKey: value };
      const issues = normalisedSpecIssues(spec);
      assert.deepEqual(
        issues.map((i) => i.field),
        ['sessionPublicKey'],
      );
      assert.match(issues[0].message, message);
    });
  }
  test('the workflow check wants the normalised form (a hand-made start with 0x or uppercase)', () => {
    for (const k of [`0x${PUB}`, PUB.toUpperCase()]) {
      const issues = normalisedSpecIssues({ ...parseAgentSpec(eoa), sessionPublicKey: k });
      assert.deepEqual(
        issues.map((i) => i.field),
        ['sessionPublicKey'],
      );
      assert.match(issues[0].message, /normalised/);
    }
  });
  test('only that field is exempt: a 64-hex value anywhere else is still refused', () => {
    const issues = issuesOf({ ...eoa, sessionPublicKey: PUB, labels: { key: PUB } });
    assert.deepEqual(
      issues.map((i) => i.field),
      ['labels.key'],
    );
    const check = normalisedSpecIssues({
      ...parseAgentSpec(eoa),
      sessionPublicKey: PUB,
      labels: { key: PUB },
    });
    assert.deepEqual(
      check.map((i) => i.field),
      ['labels.key'],
    );
  });
  test('the shared helpers', () => {
    assert.equal(sessionPublicKeyProblem(PUB), undefined);
    assert.equal(normaliseSessionPublicKey(` 0x${PUB.toUpperCase()} `), PUB);
  });
});

describe('log redaction of a session public key', () => {
  const WALLET_KEY = `0x${'9f'.repeat(32)}`;
  test('shown in its own field, so an operator sees which key an agent is bound to', () => {
    const out = redactSecrets({
      spec: { agentId: 'a', sessionPublicKey: PUB },
      capability: { sessionPublicKey: PUB },
    });
    assert.deepEqual(out, {
      spec: { agentId: 'a', sessionPublicKey: PUB },
      capability: { sessionPublicKey: PUB },
    });
  });
  test('a wallet key elsewhere in the same record is still masked', () => {
    const out = redactSecrets({ sessionPublicKey: PUB, signer: WALLET_KEY, note: `key ${WALLET_KEY}` });
    assert.deepEqual(out, { sessionPublicKey: PUB, signer: REDACTED, note: `key ${REDACTED}` });
  });
  test('a secret key (128 hex) or text around a key in that field is masked', () => {
    assert.deepEqual(redactSecrets({ sessionPublicKey: SECRET }), { sessionPublicKey: REDACTED });
    assert.deepEqual(redactSecrets({ sessionPublicKey: `k=${WALLET_KEY}` }), {
      sessionPublicKey: `k=${REDACTED}`,
    });
  });
  test('in free text 64 hex digits stay masked whatever they are', () => {
    assert.equal(redactString(`rotated to ${PUB}`), `rotated to ${REDACTED}`);
  });
  test('the capability itself is masked where it can act with the key (authSig, signedMessage)', () => {
    const out = redactSecrets({
      capability: { sessionPublicKey: PUB, authSig: { sig: 'x' }, expiresAt: 'T' },
    });
    assert.deepEqual(out, { capability: { sessionPublicKey: PUB, authSig: REDACTED, expiresAt: 'T' } });
  });
});
