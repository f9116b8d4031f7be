import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AgentSpecError,
  DEFAULT_RESOURCE_ABILITY_REQUESTS,
  parseAgentSpec,
  sameSpec,
} from '../../src/shared/agent-spec';

const PKP = `0x04${'ab'.repeat(64)}`;
const base = { agentId: 'agent-7', network: 'datil-dev', mode: 'eoa', signer: 'env:AGENT_7_KEY' };

describe('parseAgentSpec', () => {
  test('applies defaults: 24 h TTL, refresh at 2/3 with ±10% jitter, decryption only (not *)', () => {
    const spec = parseAgentSpec(base);
    assert.equal(spec.sessionTtlMs, 24 * 3600_000);
    assert.deepEqual(spec.refresh, { fraction: 2 / 3, jitter: 0.1 });
    assert.deepEqual(spec.resourceAbilityRequests, DEFAULT_RESOURCE_ABILITY_REQUESTS);
    assert.ok(spec.resourceAbilityRequests.every((r) => r.ability !== '*'));
  });

  test('accepts duration strings and a normalised spec round-trips', () => {
    const spec = parseAgentSpec({ ...base, sessionTtl: '2h', refresh: { renewBefore: '30m', jitter: 0.2 } });
    assert.equal(spec.sessionTtlMs, 7_200_000);
    assert.equal(spec.refresh.renewBeforeMs, 1_800_000);
    const again = parseAgentSpec(spec);
    assert.ok(sameSpec(spec, again));
  });

  test('pkp mode keeps the public key, 0x-prefixed', () => {
    const spec = parseAgentSpec({ ...base, mode: 'pkp', pkpPublicKey: PKP.slice(2) });
    assert.equal(spec.pkpPublicKey, PKP);
  });

  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ['missing agent id', { ...base, agentId: undefined }, 'agentId', /required/],
    ['agent id with a slash', { ...base, agentId: 'a/b' }, 'agentId', /letters, digits/],
    ['unknown mode', { ...base, mode: 'jwt' }, 'mode', /eoa.*pkp/],
    ['raw private key as signer', { ...base, signer: `0x${'1'.repeat(64)}` }, 'signer', /never the key/],
    ['malformed reference', { ...base, signer: 'vault:agent7' }, 'signer', /env:NAME/],
    ['TTL over 30 days', { ...base, sessionTtl: '31d' }, 'sessionTtl', /at most 30d/],
    ['TTL under a minute', { ...base, sessionTtl: '30s' }, 'sessionTtl', /at least 1m/],
    ['TTL not a duration', { ...base, sessionTtl: 'soon' }, 'sessionTtl', /not a session TTL/],
    ['pkp without key', { ...base, mode: 'pkp' }, 'pkpPublicKey', /required when mode is "pkp"/],
    ['bad pkp key', { ...base, mode: 'pkp', pkpPublicKey: '0x1234' }, 'pkpPublicKey', /uncompressed/],
    ['fraction out of range', { ...base, refresh: { fraction: 1.5 } }, 'refresh.fraction', /between 0 and 1/],
    [
      'renewBefore beyond TTL',
      { ...base, sessionTtl: '1h', refresh: { renewBefore: '2h' } },
      'refresh.renewBefore',
      /shorter/,
    ],
    [
      'unknown resource prefix',
      { ...base, resourceAbilityRequests: [{ resource: 'foo://*', ability: 'pkp-signing' }] },
      'resourceAbilityRequests.0.resource',
      /not a Lit resource/,
    ],
    [
      'ability not for resource',
      { ...base, resourceAbilityRequests: [{ resource: 'lit-pkp://1', ability: 'lit-action-execution' }] },
      'resourceAbilityRequests.0.ability',
      /pkp-signing/,
    ],
    ['unknown field', { ...base, colour: 'blue' }, '(spec)', /unknown field\(s\) colour/],
  ];
  for (const [name, input, field, message] of bad) {
    test(`rejects ${name}, naming ${field}`, () => {
      assert.throws(
        () => parseAgentSpec(input),
        (err: unknown) => {
          assert.ok(err instanceof AgentSpecError);
          const issue = err.issues.find((i) => i.field === field);
          assert.ok(issue, `no issue for ${field}: ${err.message}`);
          assert.match(issue.message, message);
          return true;
        },
      );
    });
  }

  test('reports every bad field at once', () => {
    assert.throws(
      () => parseAgentSpec({ agentId: '', network: 'Bad Net', mode: 'x', signer: 'nope' }),
      (err: AgentSpecError) => err.issues.length === 4,
    );
  });

  test('unknown network is rejected only when the caller knows the network list', () => {
    assert.doesNotThrow(() => parseAgentSpec({ ...base, network: 'devnet' }));
    assert.throws(
      () => parseAgentSpec({ ...base, network: 'devnet' }, { knownNetworks: [] }),
      /unknown network "devnet"/,
    );
    assert.doesNotThrow(() => parseAgentSpec({ ...base, network: 'devnet' }, { knownNetworks: ['devnet'] }));
  });
});

test('format errors and cross-field checks are reported together', () => {
  assert.throws(
    () =>
      parseAgentSpec(
        { agentId: 'a', network: 'nonet', mode: 'eoa', signer: `0x${'1'.repeat(64)}`, sessionTtl: '31d' },
        { knownNetworks: [] },
      ),
    (err: AgentSpecError) =>
      ['signer', 'network', 'sessionTtl'].every((f) => err.issues.some((i) => i.field === f)),
  );
});
