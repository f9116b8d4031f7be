import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import {
  flagsByField,
  parseAgentsFile,
  parseRefreshAt,
  parseResources,
  specErrorForFlags,
  specInputFromFlags,
} from '../../src/cli/commands/agent';
import { progressPercent, rotationTarget } from '../../src/cli/commands/rotate';
import { expiresIn, relativeTime } from '../../src/cli/output';
import { AgentSpecError, parseAgentSpec } from '../../src/shared/agent-spec';

describe('agent start flags', () => {
  test('--refresh-at: a fraction or a renew-before duration', () => {
    assert.deepEqual(parseRefreshAt('0.66'), { fraction: 0.66 });
    assert.deepEqual(parseRefreshAt('.5'), { fraction: 0.5 });
    assert.deepEqual(parseRefreshAt('2h'), { renewBefore: '2h' });
    assert.deepEqual(parseRefreshAt('1.5'), { fraction: 1.5 }); // rejected by parseAgentSpec, with the range
  });

  test('--resources', () => {
    assert.deepEqual(
      parseResources(
        'lit-accesscontrolcondition://*=access-control-condition-decryption,lit-pkp://*=pkp-signing',
      ),
      [
        { resource: 'lit-accesscontrolcondition://*', ability: 'access-control-condition-decryption' },
        { resource: 'lit-pkp://*', ability: 'pkp-signing' },
      ],
    );
    assert.throws(() => parseResources('lit-pkp://*'), InvalidArgumentError);
  });

  test('flags become a spec input parseAgentSpec accepts', () => {
    const input = specInputFromFlags('a1', {
      network: 'datil',
      mode: 'eoa',
      signer: 'env:K',
      ttl: '2h',
      refreshAt: '30m',
      jitter: 0.2,
      label: { team: 'x' },
      capacitySigner: 'env:CAP',
    });
    const spec = parseAgentSpec(input);
    assert.equal(spec.sessionTtlMs, 2 * 3600_000);
    assert.deepEqual(spec.refresh, { fraction: 2 / 3, jitter: 0.2, renewBeforeMs: 30 * 60_000 });
    assert.deepEqual(spec.labels, { team: 'x' });
    assert.equal(spec.capacityDelegation?.signer, 'env:CAP');
    assert.deepEqual(specInputFromFlags(undefined, {}), {});
  });

  test('spec errors are reported in terms of the flags, on one line', () => {
    try {
      parseAgentSpec(
        specInputFromFlags('a1', { mode: 'x', signer: '0x' + 'ab'.repeat(32), refreshAt: '1.5' }),
      );
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof AgentSpecError);
      const line = specErrorForFlags(err);
      assert.match(line, /^invalid agent spec: /);
      assert.match(line, /--network: is required/);
      assert.match(line, /--mode: must be "eoa"/);
      assert.match(line, /--signer: looks like a private key/);
      assert.match(line, /--refresh-at: must be between 0 and 1/);
      assert.ok(!line.includes('\n'));
    }
  });

  test('each spec field is named by the flag that fills it, read off the command (no table)', () => {
    const byField = flagsByField();
    assert.deepEqual(byField.get('agentId'), ['<agentId>']);
    assert.deepEqual(byField.get('sessionTtl'), ['--ttl']);
    assert.deepEqual(byField.get('refresh.fraction'), ['--refresh-at']);
    assert.deepEqual(byField.get('refresh.renewBefore'), ['--refresh-at']);
    assert.deepEqual(byField.get('refresh.jitter'), ['--jitter']);
    assert.deepEqual(byField.get('resourceAbilityRequests'), ['--resources']);
    assert.deepEqual(byField.get('litAction.code'), ['--lit-action-file']);
    assert.deepEqual(byField.get('capacityDelegation.ttl'), ['--capacity-ttl']);
    // Options that fill no spec field (connection, output, --replace) are not fields.
    assert.ok(![...byField.values()].flat().some((f) => ['--address', '--output', '--replace'].includes(f)));
    const line = specErrorForFlags(
      new AgentSpecError([
        { field: 'labels.team', message: 'is too long' },
        { field: 'litAction', message: 'give exactly one of litAction.code or litAction.ipfsId' },
        { field: 'litAction', message: 'only applies to mode "pkp"' },
        { field: '(spec)', message: 'is not an object' },
      ]),
    );
    assert.equal(
      line,
      'invalid agent spec: --label: is too long; ' +
        '--lit-action-file/--lit-action-ipfs-id: give exactly one of --lit-action-file or --lit-action-ipfs-id; ' +
        '--lit-action-file/--lit-action-ipfs-id/--lit-action-params: only applies to mode "pkp"; ' +
        '(spec): is not an object',
    );
  });

  test('--from-file accepts an array or {agents: [...]}', () => {
    assert.equal(parseAgentsFile('[{"agentId":"a"}]', 'f').length, 1);
    assert.equal(parseAgentsFile('{"agents":[{"agentId":"a"},{"agentId":"b"}]}', 'f').length, 2);
    assert.throws(() => parseAgentsFile('{', 'f.json'), /f\.json is not valid JSON/);
    assert.throws(() => parseAgentsFile('[]', 'f.json'), /f\.json holds no agents/);
  });
});

describe('rotate flags', () => {
  test('exactly one target', () => {
    assert.deepEqual(rotationTarget('a1', {}), { kind: 'agent', agentId: 'a1' });
    assert.deepEqual(rotationTarget(undefined, { all: true }), { kind: 'fleet', query: undefined });
    assert.deepEqual(rotationTarget(undefined, { query: 'LitNetwork = "x"' }), {
      kind: 'fleet',
      query: 'LitNetwork = "x"',
    });
    assert.throws(() => rotationTarget(undefined, {}), /exactly one of/);
    assert.throws(() => rotationTarget('a1', { all: true }), /exactly one of/);
    assert.throws(() => rotationTarget(undefined, { all: true, wait: true }), /--wait applies to one agent/);
    assert.throws(() => rotationTarget('a1', { rps: 5 }), /--rps/);
    assert.throws(() => rotationTarget(undefined, { query: '  ' }), /--query is empty/);
  });

  test('progress percentage', () => {
    assert.equal(progressPercent({ state: 'running', total: 0, completed: 0, failed: 0 }), 0);
    assert.equal(progressPercent({ state: 'running', total: 50, completed: 20, failed: 5 }), 50);
    assert.equal(progressPercent({ state: 'completed', total: 50, completed: 50, failed: 0 }), 100);
    assert.equal(progressPercent({ state: 'completed', total: 0, completed: 0, failed: 0 }), 100);
  });
});

describe('output', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  test('relative times', () => {
    assert.equal(relativeTime(null, now), '-');
    assert.equal(relativeTime('2025-01-01T00:05:00Z', now), 'in 5m');
    assert.equal(relativeTime('2024-12-31T23:58:00Z', now), '2m ago');
    assert.equal(expiresIn('2025-01-01T02:00:00Z', now), '2h');
    assert.equal(expiresIn('2024-12-31T23:59:30Z', now), 'expired 30s ago');
  });
});
