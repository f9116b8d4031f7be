import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServiceError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import {
  AgentNotFoundError,
  InvalidQueryError,
  NamespaceNotFoundError,
  SearchAttributesMissingError,
  TemporalUnreachableError,
  translateTemporalError,
} from '../../src/client/errors';
import { fleetRotationSeconds } from '../../src/client/fleet-rotation';
import { durationMs, specDifferences } from '../../src/client/keeper-client';
import { planSearchAttributes } from '../../src/client/search-attributes-setup';
import { validateAgentSpec, validateAgentSpecs } from '../../src/client/validate';
import { agentsQuery } from '../../src/client/visibility';
import { AgentSpecError, parseAgentSpec } from '../../src/shared/agent-spec';

const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} X: ${details}`), { code, details, metadata: {} });
const ctx = { address: 'temporal.example:7233', namespace: 'prod' };

describe('translateTemporalError', () => {
  const cases: [string, unknown, object, new (...a: any[]) => Error, RegExp][] = [
    [
      'connect timeout',
      new ServiceError('Failed to connect to Temporal server', {
        cause: new Error('Failed to connect before the deadline'),
      }),
      ctx,
      TemporalUnreachableError,
      /cannot reach Temporal at temporal\.example:7233 .*--address \/ TEMPORAL_ADDRESS/,
    ],
    [
      'UNAVAILABLE during a call',
      grpcError(14, 'No connection established'),
      ctx,
      TemporalUnreachableError,
      /cannot reach Temporal at temporal\.example:7233 \(No connection established\)/,
    ],
    [
      'workflow not found with an agent',
      new WorkflowNotFoundError('not found', 'lit-session/a9', undefined),
      { ...ctx, agentId: 'a9' },
      AgentNotFoundError,
      /unknown agent "a9"/,
    ],
    [
      'namespace missing',
      grpcError(5, 'Namespace prod is not found.'),
      ctx,
      NamespaceNotFoundError,
      /namespace "prod" does not exist/,
    ],
    [
      'malformed visibility query (the server-side SQL position is dropped)',
      grpcError(3, 'invalid query: malformed SQL query: syntax error at position 119'),
      { ...ctx, query: 'LitNetwork = = "x"' },
      InvalidQueryError,
      /^invalid visibility query "LitNetwork = = \\"x\\"": invalid query: malformed SQL query: syntax error; e\.g\./,
    ],
    [
      'unknown attribute in a query',
      grpcError(3, 'invalid query: invalid search attribute: Foo'),
      { ...ctx, query: 'Foo = "x"' },
      InvalidQueryError,
      /invalid search attribute: Foo/,
    ],
    [
      'our search attributes missing at start',
      grpcError(3, 'Namespace prod has no mapping defined for search attribute LitAgentId'),
      { ...ctx, agentId: 'a1' },
      SearchAttributesMissingError,
      /namespace "prod" lacks the keeper's search attributes .*run `session-keeper setup`/,
    ],
    [
      'our search attributes missing in a query',
      grpcError(3, 'invalid query: invalid search attribute: LitNetwork'),
      { ...ctx, query: 'LitNetwork = "x"' },
      SearchAttributesMissingError,
      /run `session-keeper setup`/,
    ],
  ];
  for (const [name, err, c, type, message] of cases) {
    test(name, () => {
      const out = translateTemporalError(err, c as typeof ctx) as Error;
      assert.ok(out instanceof type, `${name}: got ${out?.constructor?.name}: ${out?.message}`);
      assert.match(out.message, message);
      assert.equal(out.message.split('\n').length, 1);
    });
  }
  test('anything else passes through unchanged', () => {
    const err = new Error('something else');
    assert.equal(translateTemporalError(err, ctx), err);
  });
});

describe('queries', () => {
  test('agentsQuery restricts to the refresh workflow, running by default', () => {
    assert.equal(agentsQuery(), 'WorkflowType = "sessionRefreshWorkflow" AND ExecutionStatus = "Running"');
    assert.equal(
      agentsQuery({ query: ' LitNetwork = "devnet" OR LitNetwork = "datil" ', includeClosed: true }),
      'WorkflowType = "sessionRefreshWorkflow" AND (LitNetwork = "devnet" OR LitNetwork = "datil")',
    );
  });
  test('the fleet rotation selection is parenthesised so OR cannot escape it', () => {
    assert.equal(
      agentsQuery({ query: 'LitNetwork = "a" OR LitNetwork = "b"' }),
      'WorkflowType = "sessionRefreshWorkflow" AND ExecutionStatus = "Running" AND (LitNetwork = "a" OR LitNetwork = "b")',
    );
  });
});

describe('small pure helpers', () => {
  test('durationMs', () => {
    assert.equal(durationMs(undefined, 'x'), undefined);
    assert.equal(durationMs(1500, 'x'), 1500);
    assert.equal(durationMs('5m', 'x'), 300_000);
    assert.throws(() => durationMs('soon', 'minValidity'), /minValidity "soon" is not a duration/);
  });

  test('specDifferences names the differing top-level fields', () => {
    const a = parseAgentSpec({ agentId: 'a', network: 'datil', mode: 'eoa', signer: 'env:K' });
    const b = parseAgentSpec({
      agentId: 'a',
      network: 'datil',
      mode: 'eoa',
      signer: 'env:K2',
      sessionTtl: '2h',
    });
    assert.deepEqual(specDifferences(a, b), ['sessionTtlMs', 'signer']);
    assert.deepEqual(
      specDifferences(a, { ...a, refresh: { jitter: a.refresh.jitter, fraction: a.refresh.fraction } }),
      [],
    );
  });

  test('fleetRotationSeconds uses server times when known', () => {
    const p = { jobId: 'j', state: 'completed' as const, total: 1, completed: 1, failed: 0 };
    assert.equal(
      fleetRotationSeconds({ ...p, startTime: new Date(1000), closeTime: new Date(3500) }, 0, 99_000),
      2.5,
    );
    assert.equal(fleetRotationSeconds(p, 1000, 4000), 3);
  });

  test('planSearchAttributes: add missing, keep present, refuse a wrong type', () => {
    const T = temporal.api.enums.v1.IndexedValueType;
    const plan = planSearchAttributes({
      LitAgentId: T.INDEXED_VALUE_TYPE_KEYWORD,
      LitSessionGeneration: T.INDEXED_VALUE_TYPE_TEXT,
    });
    assert.deepEqual(plan.present, ['LitAgentId']);
    assert.deepEqual(Object.keys(plan.add).sort(), ['LitNetwork', 'LitSessionExpiresAt', 'LitSessionState']);
    assert.equal(plan.add.LitSessionExpiresAt, T.INDEXED_VALUE_TYPE_DATETIME);
    assert.deepEqual(plan.conflicts, ['LitSessionGeneration is TEXT, needs INT']);
  });
});

describe('validateAgentSpec(s)', () => {
  const networks = {
    custom: {
      devnet: {
        rpcUrl: 'http://127.0.0.1:1',
        stakingAddress: `0x${'1'.repeat(40)}`,
        blockIndexerUrl: 'http://127.0.0.1:2',
      },
    },
  };
  test('knows the configured custom networks', () => {
    assert.equal(
      validateAgentSpec({ agentId: 'a', network: 'devnet', mode: 'eoa', signer: 'env:K' }, { networks })
        .network,
      'devnet',
    );
    assert.throws(
      () => validateAgentSpec({ agentId: 'a', network: 'devnet', mode: 'eoa', signer: 'env:K' }, { env: {} }),
      /network: unknown network "devnet"/,
    );
  });
  test('reports every bad agent and field at once, and duplicate ids', () => {
    try {
      validateAgentSpecs(
        [
          { agentId: 'ok', network: 'datil', mode: 'eoa', signer: 'env:K' },
          { agentId: 'bad', network: 'datil', mode: 'eoa', signer: 'K' },
          { agentId: 'ok', network: 'datil', mode: 'eoa', signer: 'env:K' },
          { agentId: 'ttl', network: 'datil', mode: 'eoa', signer: 'env:K', sessionTtl: '31d' },
        ],
        { networks },
      );
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof AgentSpecError);
      assert.deepEqual(
        err.issues.map((i) => i.field),
        ['agents[1] (bad).signer', 'agents[2] (ok).agentId', 'agents[3] (ttl).sessionTtl'],
      );
    }
  });
});

describe('startFleetRotation request', () => {
  test('signals rotate by visibility query, rate-limited, with the spread encoded by the client converter', async () => {
    const { loadDataConverter } = await import('@temporalio/common/lib/internal-non-workflow');
    const { decodeFromPayloadsAtIndex } = await import('@temporalio/common/lib/internal-non-workflow');
    const { startFleetRotation } = await import('../../src/client/fleet-rotation');
    const requests: any[] = [];
    const loadedDataConverter = loadDataConverter();
    const fake = {
      options: { namespace: 'ns1', identity: 'me', loadedDataConverter },
      workflowService: {
        startBatchOperation: async (req: unknown) => {
          requests.push(req);
          return {};
        },
      },
    };
    const jobId = await startFleetRotation(fake as any, {
      query: 'LitNetwork = "devnet"',
      rps: 25,
      spreadMs: 60_000,
      reason: 'why',
      jobId: 'job-1',
    });
    assert.equal(jobId, 'job-1');
    const [req] = requests;
    assert.equal(req.namespace, 'ns1');
    assert.equal(req.maxOperationsPerSecond, 25);
    assert.equal(req.visibilityQuery, agentsQuery({ query: 'LitNetwork = "devnet"' }));
    assert.equal(req.signalOperation.signal, 'rotate');
    assert.equal(req.signalOperation.identity, 'me');
    assert.deepEqual(
      await decodeFromPayloadsAtIndex(loadedDataConverter, 0, req.signalOperation.input.payloads),
      {
        reason: 'why',
        spreadMs: 60_000,
      },
    );
    await startFleetRotation(fake as any);
    assert.equal(requests[1].maxOperationsPerSecond, undefined, 'server default when no rps is given');
    assert.match(requests[1].jobId, /^rotate-[0-9a-f-]{36}$/);
  });
});
