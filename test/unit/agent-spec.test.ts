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
const CID = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG';
const CODE = 'Lit.Actions.setResponse({ response: "true" });';
/** A Lit-Action-authorised PKP agent: no signer needed. */
const actionAgent = { agentId: 'agent-8', network: 'datil-dev', mode: 'pkp', pkpPublicKey: PKP };

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
    ['missing signer without litAction', { ...base, signer: undefined }, 'signer', /required.*litAction/],
    [
      'missing signer of a pkp agent without litAction',
      { ...actionAgent },
      'signer',
      /only a mode "pkp" agent with litAction may omit it/,
    ],
    [
      'litAction on an eoa agent',
      { ...base, litAction: { code: CODE } },
      'litAction',
      /only applies to mode "pkp"/,
    ],
    [
      'litAction with both code and ipfsId',
      { ...actionAgent, litAction: { code: CODE, ipfsId: CID } },
      'litAction',
      /exactly one of litAction.code .* or litAction.ipfsId/,
    ],
    ['litAction with neither code nor ipfsId', { ...actionAgent, litAction: {} }, 'litAction', /exactly one/],
    [
      'litAction.ipfsId that is no CID',
      { ...actionAgent, litAction: { ipfsId: 'bafy-not-v0' } },
      'litAction.ipfsId',
      /"Qm" followed by 44 base58/,
    ],
    [
      'empty litAction.code',
      { ...actionAgent, litAction: { code: '  ' } },
      'litAction.code',
      /JavaScript source/,
    ],
    [
      'litAction.code over the size limit',
      { ...actionAgent, litAction: { code: 'x'.repeat(256 * 1024 + 1) } },
      'litAction.code',
      /use litAction.ipfsId/,
    ],
    [
      'litAction.jsParams that is an array',
      { ...actionAgent, litAction: { code: CODE, jsParams: [1] } },
      'litAction.jsParams',
      /must be a JSON object/,
    ],
    [
      'litAction.jsParams holding a private key',
      { ...actionAgent, litAction: { code: CODE, jsParams: { wallet: { key: `0x${'a'.repeat(64)}` } } } },
      'litAction.jsParams.wallet.key',
      /looks like a private key; jsParams are not secret .*workflow history/,
    ],
    [
      'litAction.jsParams holding a non-JSON value',
      { ...actionAgent, litAction: { code: CODE, jsParams: { when: new Date(0) } } },
      'litAction.jsParams.when',
      /plain JSON/,
    ],
    [
      'unknown litAction field',
      { ...actionAgent, litAction: { code: CODE, params: {} } },
      'litAction',
      /unknown field\(s\) params/,
    ],
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

  const goodActions: [string, Record<string, unknown>][] = [
    ['inline code', { code: CODE }],
    [
      'inline code with jsParams',
      { code: CODE, jsParams: { minBalance: 1, tags: ['a'], nested: { ok: null } } },
    ],
    ['an IPFS id', { ipfsId: CID }],
  ];
  for (const [name, litAction] of goodActions) {
    test(`a pkp agent authorised by a Lit Action (${name}) needs no signer and round-trips`, () => {
      const spec = parseAgentSpec({ ...actionAgent, litAction });
      assert.deepEqual(spec.litAction, litAction);
      assert.equal(spec.signer, undefined);
      assert.ok(sameSpec(spec, parseAgentSpec(spec)));
    });
  }

  test('a Lit Action agent may still name a signer (its wallet becomes an auth method the action sees)', () => {
    const spec = parseAgentSpec({ ...actionAgent, signer: 'env:CTRL', litAction: { ipfsId: CID } });
    assert.equal(spec.signer, 'env:CTRL');
  });

  test('every bad litAction field is reported at once, beside the other fields', () => {
    assert.throws(
      () =>
        parseAgentSpec({
          ...actionAgent,
          sessionTtl: '31d',
          litAction: { code: CODE, ipfsId: 'nope', jsParams: { k: 'f'.repeat(64) } },
        }),
      (err: AgentSpecError) =>
        ['litAction', 'litAction.ipfsId', 'litAction.jsParams.k', 'sessionTtl'].every((f) =>
          err.issues.some((i) => i.field === f),
        ),
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
