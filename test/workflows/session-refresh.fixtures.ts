/**
 * Shared fixtures for the session refresh workflow tests and the history recorder: a time-skipping
 * Temporal test server with the project's search attributes, a worker on the real workflow bundle,
 * and a fake `mintSessionSigs` activity whose behaviour each test scripts.
 *
 * The fake stands in for the real activity on purpose: these tests are about timing and state.
 * It takes its clock from the activity's scheduled time, which is the test server's skipped time
 * (the activity's own Date.now() would be wall-clock time).
 */
import { Context } from '@temporalio/activity';
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  type LogLevel,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { SessionActivities } from '../../src/shared/activity-contract';
import { type AgentSpecInput, parseAgentSpec } from '../../src/shared/agent-spec';
import { rotateNowUpdate } from '../../src/shared/messages';
import { workflowIdFor } from '../../src/shared/names';
import { LitAgentId, LitNetwork, SEARCH_ATTRIBUTE_TYPES } from '../../src/shared/search-attributes';
import type {
  AgentSpec,
  MintRequest,
  MintResult,
  RotateRequest,
  SessionRefreshOptions,
  SessionStatus,
} from '../../src/shared/types';
import { executableOption } from '../../src/temporal/binaries';
import { sessionRefreshWorkflow } from '../../src/workflows';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const INDEXED_TYPES = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
} as const;

/** Workflow, worker and core logs at TEST_LOG_LEVEL (default ERROR): failure tests log hundreds of retries. */
export function installQuietRuntime(): void {
  try {
    const level = (process.env.TEST_LOG_LEVEL as LogLevel) ?? 'ERROR';
    Runtime.install({
      logger: new DefaultLogger(level),
      // The SDK core logs too: e.g. the time-skipping server's "Expired workflow task" on signal bursts.
      telemetryOptions: { logging: { filter: { core: level, other: level } } },
    });
  } catch {
    // Already installed by an earlier harness in this process.
  }
}

/** The time-skipping server validates search attributes like a real one: register ours first. */
export async function createTestEnv(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: executableOption('temporal-test-server') },
  });
  const searchAttributes = Object.fromEntries(
    Object.entries(SEARCH_ATTRIBUTE_TYPES).map(([name, type]) => [name, INDEXED_TYPES[type]]),
  );
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes,
  });
  return env;
}

export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quietLogger });
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

export function agentSpec(agentId: string, overrides: Partial<AgentSpecInput> = {}): AgentSpec {
  return parseAgentSpec({
    agentId,
    network: 'datil-dev',
    mode: 'eoa',
    signer: 'env:AGENT_KEY',
    ...overrides,
  });
}

export interface MintCall {
  request: MintRequest;
  /** Skipped (server) time the attempt was scheduled at. */
  at: number;
  workflowId: string;
  runId: string;
  outcome?: 'ok' | 'error';
}

/** What the fake does for one call: return a result (default: fresh sigs for the TTL) or throw. */
export type MintBehaviour = (call: MintCall, fake: FakeMint) => Promise<MintResult> | MintResult;

export class FakeMint {
  readonly calls: MintCall[] = [];
  behaviour: MintBehaviour = (call) => this.sigsFor(call);
  private waiters: { count: number; resolve: () => void }[] = [];

  readonly activities: SessionActivities = {
    mintSessionSigs: async (request) => {
      const info = Context.current().info;
      const call: MintCall = {
        request,
        at: info.currentAttemptScheduledTimestampMs,
        workflowId: info.workflowExecution?.workflowId ?? '',
        runId: info.workflowExecution?.runId ?? '',
      };
      this.calls.push(call);
      this.notify();
      try {
        const result = await this.behaviour(call, this);
        call.outcome = 'ok';
        return result;
      } catch (err) {
        call.outcome = 'error';
        throw err;
      }
    },
  };

  /** Sigs issued at the call's (skipped) time, valid for the requested TTL, tagged with the generation. */
  sigsFor(call: MintCall): MintResult {
    const issuedAt = call.at;
    const tag = `${call.request.agentId}#${call.request.generation}@${issuedAt}`;
    return {
      sessionSigs: {
        'https://node-1.test': {
          sig: `sig-${tag}`,
          derivedVia: 'litSessionSignViaNacl',
          signedMessage: tag,
          address: 'ab',
        },
      },
      issuedAt: new Date(issuedAt).toISOString(),
      expiresAt: new Date(issuedAt + call.request.sessionTtlMs).toISOString(),
      nodeUrls: ['https://node-1.test'],
      epoch: 1,
    };
  }

  callsFor(workflowId: string): MintCall[] {
    return this.calls.filter((c) => c.workflowId === workflowId);
  }

  /** Resolves once at least `count` calls have started. */
  waitForCalls(count: number): Promise<void> {
    if (this.calls.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  reset(): void {
    this.calls.length = 0;
    this.behaviour = (call) => this.sigsFor(call);
  }

  private notify(): void {
    for (const w of this.waiters.filter((w) => this.calls.length >= w.count)) w.resolve();
    this.waiters = this.waiters.filter((w) => this.calls.length < w.count);
  }
}

export const transientError = (type = 'NotEnoughNodes') =>
  ApplicationFailure.create({ type, message: `fake ${type}`, nonRetryable: false });
export const permanentError = (type = 'NodePKPNotAuthorized') =>
  ApplicationFailure.create({ type, message: `fake ${type}`, nonRetryable: true });

export interface Harness {
  env: TestWorkflowEnvironment;
  client: Client;
  fake: FakeMint;
  worker: Worker;
  taskQueue: string;
  /** Stops the worker and the server. */
  close(): Promise<void>;
}

/** One server and one running worker for a whole test file; tests swap the fake's behaviour. */
export async function startHarness(taskQueue: string): Promise<Harness> {
  const [env, workflowBundle] = await Promise.all([createTestEnv(), bundleWorkflows()]);
  const fake = new FakeMint();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle,
    activities: fake.activities,
  });
  const running = worker.run();
  return {
    env,
    client: env.client,
    fake,
    worker,
    taskQueue,
    async close() {
      try {
        worker.shutdown();
        await running;
      } finally {
        await env.teardown(); // never leak a server, even when the worker failed
      }
    },
  };
}

export async function startAgent(
  h: Harness,
  spec: AgentSpec,
  options?: SessionRefreshOptions,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof sessionRefreshWorkflow>> {
  return h.client.workflow.start(sessionRefreshWorkflow, {
    taskQueue: h.taskQueue,
    workflowId: workflowIdFor(spec.agentId),
    args: [{ spec, ...(options ? { options } : {}) }],
    // As the real client does; the workflow upserts them only if they are missing.
    typedSearchAttributes: [
      { key: LitAgentId, value: spec.agentId },
      { key: LitNetwork, value: spec.network },
    ],
  });
}

/** Skipped server time now. */
export function now(h: Harness): Promise<number> {
  return h.env.currentTimeMs();
}

/**
 * `rotateNow` with a request. The client's `executeUpdate` overloads accept no optional-only tuple
 * such as the shared definition's `[RotateRequest?]`, hence the narrowing cast.
 */
export function rotateNow(handle: WorkflowHandle, req: RotateRequest = {}): Promise<SessionStatus> {
  return handle.executeUpdate(rotateNowUpdate as UpdateDefinition<SessionStatus, [RotateRequest]>, {
    args: [req],
  });
}
