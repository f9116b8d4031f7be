/**
 * The workflow's plain-TypeScript check of a normalised spec (shared/spec-check.ts) against the
 * edge's parser (parseAgentSpec): whatever the parser produces, the check takes unchanged; what a
 * hand-made start could put there instead, it refuses, naming the field.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseAgentSpec } from '../../src/shared/agent-spec';
import { checkedSpec, normalisedSpecIssues } from '../../src/shared/spec-check';

const PKP = `0x04${'ab'.repeat(64)}`;
const CID = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG';
const eoa = { agentId: 'a-1', network: 'datil-dev', mode: 'eoa', signer: 'env:A_1' };

describe('every spec the parser produces passes the check unchanged', () => {
  const inputs: [string, Record<string, unknown>][] = [
    ['eoa with defaults', eoa],
    [
      'eoa with everything',
      {
        ...eoa,
        sessionTtl: '2h',
        refresh: { renewBefore: '30m', jitter: 0.2 },
        resourceAbilityRequests: [{ resource: 'lit-pkp://*', ability: 'pkp-signing' }],
        capacityDelegation: { signer: 'file:/run/secrets/cap', capacityTokenId: '42', ttl: '3d' },
        labels: { team: 'payments' },
      },
    ],
    [
      'a PKP token id as resource',
      {
        ...eoa,
        resourceAbilityRequests: [{ resource: `lit-pkp://${'ef'.repeat(32)}`, ability: 'pkp-signing' }],
      },
    ],
    ['pkp by wallet, key without 0x', { ...eoa, mode: 'pkp', pkpPublicKey: PKP.slice(2) }],
    [
      'pkp by inline action',
      {
        agentId: 'p',
        network: 'devnet',
        mode: 'pkp',
        pkpPublicKey: PKP,
        litAction: { code: 'x()', jsParams: { a: 1 } },
      },
    ],
    [
      'pkp by action CID',
      { agentId: 'p', network: 'devnet', mode: 'pkp', pkpPublicKey: PKP, litAction: { ipfsId: CID } },
    ],
  ];
  for (const [name, input] of inputs) {
    test(name, () => {
      const spec = parseAgentSpec(input);
      const checked = checkedSpec(JSON.parse(JSON.stringify(spec)));
      assert.deepEqual(checked.issues, []);
      assert.deepEqual(checked.spec, spec);
    });
  }

  test('the specs of every recorded history pass', () => {
    const dir = path.join(__dirname, '..', 'histories');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 5);
    for (const f of files) {
      const h = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      const started = h.events[0].workflowExecutionStartedEventAttributes;
      const input = JSON.parse(Buffer.from(started.input.payloads[0].data, 'base64').toString('utf8'));
      assert.deepEqual(normalisedSpecIssues(input.spec), [], f);
    }
  });
});

describe('what the check refuses, by field', () => {
  const spec = parseAgentSpec(eoa);
  const table: [string, unknown, string][] = [
    ['not an object', 'x', '(spec)'],
    [
      'an input-form field (sessionTtl) instead of the normalised one',
      { ...spec, sessionTtl: '2h' },
      '(spec)',
    ],
    ['a TTL in the wrong unit', { ...spec, sessionTtlMs: 24 }, 'sessionTtlMs'],
    ['a pasted key as signer', { ...spec, signer: `env:${'ab'.repeat(32)}` }, 'signer'],
    ['no signer on an eoa agent', { ...spec, signer: undefined }, 'signer'],
    [
      'pkp without the 0x form of the key',
      { ...spec, mode: 'pkp', pkpPublicKey: PKP.slice(2) },
      'pkpPublicKey',
    ],
    [
      'an ability that does not fit',
      { ...spec, resourceAbilityRequests: [{ resource: 'lit-pkp://*', ability: 'lit-action-execution' }] },
      'resourceAbilityRequests.0',
    ],
    [
      'a prototype key as resource prefix',
      { ...spec, resourceAbilityRequests: [{ resource: 'constructor://x', ability: 'pkp-signing' }] },
      'resourceAbilityRequests.0',
    ],
    ['a fraction of 1', { ...spec, refresh: { ...spec.refresh, fraction: 1 } }, 'refresh.fraction'],
    [
      'renewBefore beyond the TTL',
      { ...spec, refresh: { ...spec.refresh, renewBeforeMs: spec.sessionTtlMs } },
      'refresh.renewBeforeMs',
    ],
    ['an action on an eoa agent', { ...spec, litAction: { code: 'x()' } }, 'litAction'],
    [
      'both code and CID',
      { ...spec, mode: 'pkp', pkpPublicKey: PKP, litAction: { code: 'x()', ipfsId: CID } },
      'litAction',
    ],
    ['a non-string label', { ...spec, labels: { n: 1 } }, 'labels'],
  ];
  for (const [name, value, field] of table) {
    test(name, () => {
      const issues = normalisedSpecIssues(value);
      assert.ok(
        issues.some((i) => i.field === field),
        `expected ${field}, got ${JSON.stringify(issues)}`,
      );
      assert.equal(checkedSpec(value).spec, undefined);
    });
  }
});
