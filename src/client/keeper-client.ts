/**
 * The client library: start, inspect, rotate and stop agents' session refresh workflows.
 *
 *   const keeper = await createKeeperClient();           // TEMPORAL_ADDRESS etc., like the CLI
 *   await keeper.startAgent({ agentId: 'a1', network: 'datil', mode: 'eoa', signer: 'env:A1_KEY' });
 *   const sigs = await keeper.getSessionSigs('a1', { minValidity: '5m' });
 *   await keeper.close();
 *
 * The Temporal client uses the same data converter as the worker (`setupPayloadEncryption`), so
 * everything it sends and reads is encrypted the same way.
 *
 * `startAgent` semantics (idempotent):
 *   - not running            → starts it (search attributes LitAgentId, LitNetwork,
 *                              LitSessionState=pending, LitSessionGeneration=0) → `started`
 *   - running, same spec     → nothing happens → `already-running`
 *   - running, other spec    → `AgentSpecConflictError` naming the differing fields, unless
 *                              `replace: true`: the running workflow is terminated and a new run
 *                              with the new spec started in the same server call
 *                              (`workflowIdConflictPolicy: TERMINATE_EXISTING`) → `replaced`.
 *                              The new run mints at once; sigs already handed out stay valid
 *                              until they expire (Lit sigs cannot be revoked).
 *   The running spec is read from the first event of the current run's history (its input), one
 *   page of one event, decoded with the client's data converter.
 */
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure, type SearchAttributePair } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import { setupPayloadEncryption } from '../codec/data-converter';
import { type AgentSpecInput, sameSpec } from '../shared/agent-spec';
import { canonicalJson } from '../shared/canonical-json';
import { formatDuration, parseDuration } from '../shared/duration';
import {
  currentSessionSigsQuery,
  rotateNowUpdate,
  rotateSessionKeyUpdate,
  rotateSignal,
  stopSignal,
} from '../shared/messages';
import { agentIdFromWorkflowId, DEFAULT_TASK_QUEUE, WORKFLOW_TYPE, workflowIdFor } from '../shared/names';
import { loadNetworkConfig, type NetworkConfig } from '../shared/network-config';
import { LitAgentId, LitNetwork, LitSessionGeneration, LitSessionState } from '../shared/search-attributes';
import { normaliseSessionPublicKey, sessionPublicKeyProblem } from '../shared/spec-rules';
import type {
  AgentSpec,
  RotateRequest,
  RotateSessionKeyRequest,
  SessionRefreshInput,
  SessionSigsMap,
  SessionState,
  SessionStatus,
} from '../shared/types';
import {
  type ConnectionFlags,
  parseConnectionConfig,
  type TemporalConnectionConfig,
  toConnectionOptions,
} from '../temporal/connection-config';
import {
  AgentNotFoundError,
  AgentNotRunningError,
  AgentSpecConflictError,
  type ErrorContext,
  FleetRotationError,
  GRPC,
  grpcCode,
  OperationTimeoutError,
  SessionKeeperError,
  TemporalUnreachableError,
  translateTemporalError,
} from './errors';
import {
  describeFleetRotation,
  type FleetRotationProgress,
  type FleetRotationResult,
  startFleetRotation,
  type WaitForFleetRotationOptions,
  waitForFleetRotation,
} from './fleet-rotation';
import { registerSearchAttributes, type SearchAttributeSetupRow } from './search-attributes-setup';
import {
  DEFAULT_MIN_VALIDITY_MS,
  SessionSigsSource,
  type SessionSigsSourceOptions,
} from './session-sigs-source';
import { validateAgentSpec, validateAgentSpecs } from './validate';
import { agentsQuery, publishedSession, statusFromPublished } from './visibility';

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 15_000;

export interface KeeperClientOptions {
  /** Environment to read TEMPORAL_*, LIT_NETWORKS*, SESSION_KEEPER_CODEC_KEYS* from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Overrides of the environment, as the Temporal CLI's flags (`--address`, `--namespace`, …). */
  connection?: ConnectionFlags;
  /** How long to try reaching Temporal before failing. Default 5 s. */
  connectTimeoutMs?: number;
  /** How long a query may take (an agent whose worker is down does not answer). Default 15 s. */
  queryTimeoutMs?: number;
  /** Allow plaintext payloads to a non-local Temporal (see docs/security.md). */
  allowUnencrypted?: boolean;
  /**
   * `false` when the caller sends no payloads (only `setupSearchAttributes`, say): the encryption
   * policy then needs no codec keys for a non-local Temporal, and the client refuses to encode any
   * payload unless keys are configured. Default `true`.
   */
  sendsPayloads?: boolean;
  taskQueue?: string;
  identity?: string;
  /** Called once with the warning when payloads stay unencrypted (local Temporal without keys). */
  warn?: (message: string) => void;
  /** Networks agents may use; default from LIT_NETWORKS_FILE / LIT_NETWORKS (read on first start). */
  networks?: NetworkConfig;
  /**
   * Use this Temporal client instead of connecting (tests, embedding). It is not closed by
   * `close()`, and its data converter is used as is.
   */
  client?: Client;
}

export type StartOutcome = 'started' | 'already-running' | 'replaced';

export interface StartAgentResult {
  agentId: string;
  workflowId: string;
  runId: string;
  outcome: StartOutcome;
  spec: AgentSpec;
}

export interface StartAgentOptions {
  /** Replace a running agent whose spec differs (terminates the old run, starts a new one). */
  replace?: boolean;
}

export interface BulkStartItem {
  agentId: string;
  result?: StartAgentResult;
  error?: Error;
}

/** `SessionStatus` plus the workflow's own status. */
export interface AgentStatus extends SessionStatus {
  /** Temporal execution status: RUNNING, COMPLETED, FAILED, TERMINATED, … */
  workflowStatus: string;
  running: boolean;
}

export interface AgentSummary {
  agentId: string;
  workflowId: string;
  runId: string;
  network: string | null;
  state: SessionState | null;
  generation: number | null;
  expiresAt: string | null;
  /** Temporal execution status: RUNNING, COMPLETED, … */
  status: string;
  startTime: string;
}

export interface ListAgentsOptions {
  /** Visibility query over the search attributes, e.g. `LitNetwork = "datil" AND LitSessionState = "degraded"`. */
  query?: string;
  /** Include stopped/failed agents. Default: running only. */
  includeClosed?: boolean;
  /** At most this many (default 10,000). */
  limit?: number;
}

export interface RotateOptions {
  /** Wait for the new sigs (update `rotateNow`); otherwise only ask (signal `rotate`). */
  wait?: boolean;
  reason?: string;
  /** Wait a random delay up to this long before minting (ms or "30s"). */
  spread?: number | string;
  /** Give up waiting after this long (ms or "2m"); only with `wait`. Default 2 minutes. */
  timeout?: number | string;
}

export interface RotateResult {
  agentId: string;
  /** The status after the rotation when `wait` was set. */
  status?: SessionStatus;
}

export interface StopAgentOptions {
  reason?: string;
  /** Wait until the workflow has completed. */
  wait?: boolean;
  /** Give up waiting after this long (ms or "30s"). Default 1 minute. */
  timeout?: number | string;
}

export interface RotateFleetOptions {
  /** Visibility query selecting agents; all running agents when omitted. */
  query?: string;
  /** Signals per second the server sends. */
  rps?: number;
  /** Each workflow waits a random delay up to this long before minting (ms or "5m"). */
  spread?: number | string;
  reason?: string;
  jobId?: string;
}

export interface FleetRotationStart {
  jobId: string;
  /** Agents the query matched when the batch started (the batch counts again itself). */
  matched: number;
}

/** Pure: a duration option (ms or "90s") in ms; `undefined` stays undefined. */
export function durationMs(value: number | string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : parseDuration(value);
  if (n === undefined || !Number.isFinite(n) || n < 0) {
    throw new SessionKeeperError(`${what} ${JSON.stringify(value)} is not a duration; use e.g. 30s, 5m, 2h`);
  }
  return Math.round(n);
}

/** Pure: the top-level spec fields whose values differ. */
export function specDifferences(a: AgentSpec, b: AgentSpec): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => canonicalJson((a as any)[k]) !== canonicalJson((b as any)[k]));
}

function statusName(code: number | null | undefined): string {
  const name = temporal.api.enums.v1.WorkflowExecutionStatus[code ?? 0] ?? 'UNSPECIFIED';
  return name.replace(/^WORKFLOW_EXECUTION_STATUS_/, '');
}

/** A call cut off by our own deadline fails with DEADLINE_EXCEEDED or, in the SDK, CANCELLED. */
function deadlinePassed(err: unknown, deadline: number): boolean {
  const code = grpcCode(err);
  return code === GRPC.DEADLINE_EXCEEDED || (code === GRPC.CANCELLED && Date.now() >= deadline - 50);
}

async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * Connects to Temporal (fails within `connectTimeoutMs` with `TemporalUnreachableError` naming the
 * address) and returns the keeper client.
 */
export async function createKeeperClient(opts: KeeperClientOptions = {}): Promise<SessionKeeperClient> {
  const env = opts.env ?? process.env;
  if (opts.client) {
    const address = (opts.client.connection as { options?: { address?: string } }).options?.address ?? '?';
    return new SessionKeeperClient(
      opts.client,
      { address, namespace: opts.client.options.namespace },
      { ...opts, env },
      false,
    );
  }
  const config = parseConnectionConfig(env, opts.connection ?? {});
  // Warnings wait for a successful connection: when Temporal is unreachable, that is the only news.
  const warnings: string[] = [];
  const encryption = setupPayloadEncryption({
    temporalAddress: config.address,
    allowUnencrypted: opts.allowUnencrypted,
    sendsPayloads: opts.sendsPayloads ?? true,
    env,
    warn: (m) => warnings.push(m),
  });
  const connectionOptions = toConnectionOptions(config);
  let connection: Connection;
  try {
    connection = await Connection.connect({
      ...connectionOptions,
      connectTimeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
  } catch (err) {
    const translated = translateTemporalError(err, { address: config.address, namespace: config.namespace });
    if (translated instanceof SessionKeeperError) throw translated;
    throw new TemporalUnreachableError(config.address, (err as Error).message.split('\n')[0]);
  }
  for (const w of warnings) opts.warn?.(w);
  const client = new Client({
    connection,
    namespace: config.namespace,
    ...(encryption.dataConverter ? { dataConverter: encryption.dataConverter } : {}),
    ...(opts.identity ? { identity: opts.identity } : {}),
  });
  return new SessionKeeperClient(client, config, { ...opts, env }, true);
}

export class SessionKeeperClient {
  /** The underlying Temporal client (its data converter encrypts like the worker's). */
  readonly temporal: Client;
  readonly address: string;
  readonly namespace: string;
  readonly taskQueue: string;
  private readonly ownsConnection: boolean;
  private readonly env: NodeJS.ProcessEnv;
  private networks: NetworkConfig | undefined;
  private readonly queryTimeoutMs: number;

  constructor(
    client: Client,
    config: Pick<TemporalConnectionConfig, 'address' | 'namespace'>,
    opts: KeeperClientOptions,
    ownsConnection: boolean,
  ) {
    this.temporal = client;
    this.address = config.address;
    this.namespace = config.namespace;
    this.taskQueue = opts.taskQueue ?? DEFAULT_TASK_QUEUE;
    this.ownsConnection = ownsConnection;
    this.env = opts.env ?? process.env;
    this.networks = opts.networks;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  }

  async close(): Promise<void> {
    if (this.ownsConnection) await this.temporal.connection.close();
  }

  /** Validates a spec as `startAgent` does (known networks included). Throws `AgentSpecError`. */
  validateSpec(input: AgentSpecInput | AgentSpec | unknown): AgentSpec {
    this.networks ??= loadNetworkConfig(this.env);
    return validateAgentSpec(input, { networks: this.networks });
  }

  /** Starts (or confirms, or replaces) one agent. See the module comment for the semantics. */
  async startAgent(
    input: AgentSpecInput | AgentSpec,
    opts: StartAgentOptions = {},
  ): Promise<StartAgentResult> {
    const spec = this.validateSpec(input);
    return this.guard({ agentId: spec.agentId }, () => this.startValidated(spec, opts));
  }

  /**
   * Starts many agents: validates every spec first (one `AgentSpecError` listing every bad field of
   * every agent; nothing is started then), then starts them `concurrency` at a time. Per-agent
   * failures (e.g. a spec conflict) are reported in the result, not thrown.
   */
  async startAgents(
    inputs: (AgentSpecInput | AgentSpec)[],
    opts: StartAgentOptions & { concurrency?: number } = {},
  ): Promise<BulkStartItem[]> {
    this.networks ??= loadNetworkConfig(this.env);
    const specs = validateAgentSpecs(inputs, { networks: this.networks });
    return mapLimit(specs, opts.concurrency ?? 16, async (spec) => {
      try {
        const result = await this.guard({ agentId: spec.agentId }, () => this.startValidated(spec, opts));
        return { agentId: spec.agentId, result };
      } catch (err) {
        if (err instanceof TemporalUnreachableError) throw err;
        return { agentId: spec.agentId, error: err as Error };
      }
    });
  }

  private async startValidated(spec: AgentSpec, opts: StartAgentOptions): Promise<StartAgentResult> {
    const workflowId = workflowIdFor(spec.agentId);
    const result = (runId: string, outcome: StartOutcome): StartAgentResult => ({
      agentId: spec.agentId,
      workflowId,
      runId,
      outcome,
      spec,
    });
    try {
      const handle = await this.startWorkflow(spec, 'FAIL');
      return result(handle.firstExecutionRunId, 'started');
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    const running = await this.runningSpec(spec.agentId);
    if (running) running.spec = await this.withCurrentSessionKey(running.spec, spec);
    if (running && sameSpec(running.spec, spec)) return result(running.runId, 'already-running');
    if (!running) {
      // It closed between our start and the look-up: start again.
      const handle = await this.startWorkflow(spec, 'FAIL');
      return result(handle.firstExecutionRunId, 'started');
    }
    if (!opts.replace) {
      throw new AgentSpecConflictError(spec.agentId, specDifferences(running.spec, spec));
    }
    const handle = await this.startWorkflow(spec, 'TERMINATE_EXISTING');
    return result(handle.firstExecutionRunId, 'replaced');
  }

  private startWorkflow(
    spec: AgentSpec,
    conflictPolicy: 'FAIL' | 'TERMINATE_EXISTING',
  ): Promise<WorkflowHandleWithFirstExecutionRunId> {
    const input: SessionRefreshInput = { spec };
    const typedSearchAttributes: SearchAttributePair[] = [
      { key: LitAgentId, value: spec.agentId },
      { key: LitNetwork, value: spec.network },
      { key: LitSessionState, value: 'pending' },
      { key: LitSessionGeneration, value: 0 },
    ];
    return this.temporal.workflow.start(WORKFLOW_TYPE, {
      workflowId: workflowIdFor(spec.agentId),
      taskQueue: this.taskQueue,
      args: [input],
      typedSearchAttributes,
      workflowIdConflictPolicy: conflictPolicy,
      staticSummary: `Lit session sigs for ${spec.agentId} on ${spec.network} (${spec.mode})`,
    });
  }

  /**
   * The running spec with the session key the agent is bound to now: `rotateSessionKey` moves an
   * agent-held agent to a new key without a new run, so the run's input still names the old one.
   * Asked (one query) only when the key is all that differs from `wanted`.
   */
  private async withCurrentSessionKey(running: AgentSpec, wanted: AgentSpec): Promise<AgentSpec> {
    const differs = specDifferences(running, wanted);
    if (running.sessionPublicKey === undefined || differs.length !== 1 || differs[0] !== 'sessionPublicKey')
      return running;
    const current = (await this.querySessionStatus(running.agentId)).capability?.sessionPublicKey;
    return current ? { ...running, sessionPublicKey: current } : running;
  }

  /** The spec the agent's current run was started with, or undefined when it is not running. */
  async runningSpec(agentId: string): Promise<{ spec: AgentSpec; runId: string } | undefined> {
    return this.guard({ agentId }, async () => {
      const workflowId = workflowIdFor(agentId);
      let description: Awaited<ReturnType<WorkflowHandle['describe']>>;
      try {
        description = await this.temporal.workflow.getHandle(workflowId).describe();
      } catch (err) {
        if (grpcCode(err) === GRPC.NOT_FOUND || (err as Error).name === 'WorkflowNotFoundError')
          return undefined;
        throw err;
      }
      if (description.status.name !== 'RUNNING') return undefined;
      const res = await this.temporal.workflowService.getWorkflowExecutionHistory({
        namespace: this.namespace,
        execution: { workflowId, runId: description.runId },
        maximumPageSize: 1,
      });
      const first = res.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
      const input = await decodeFromPayloadsAtIndex<SessionRefreshInput>(
        this.temporal.options.loadedDataConverter,
        0,
        first?.input?.payloads,
      );
      if (!input?.spec) {
        throw new SessionKeeperError(
          `agent "${agentId}" runs a workflow whose input has no spec; stop it and start it again`,
        );
      }
      return { spec: input.spec, runId: description.runId };
    });
  }

  /**
   * The workflow's current status (the `currentSessionSigs` query). Throws `AgentNotFoundError` or
   * `AgentNotRunningError`. This is what `SessionSigsSource` calls.
   */
  async querySessionStatus(agentId: string): Promise<SessionStatus> {
    return this.guard({ agentId }, async () => {
      const workflowId = workflowIdFor(agentId);
      // The raw call, so that a closed workflow is rejected by the server (NOT_OPEN) whatever the
      // options of a Temporal client passed in, instead of being replayed on a worker.
      let res: temporal.api.workflowservice.v1.IQueryWorkflowResponse;
      const deadline = Date.now() + this.queryTimeoutMs;
      try {
        res = await this.temporal.connection.withDeadline(deadline, () =>
          this.temporal.workflowService.queryWorkflow({
            namespace: this.namespace,
            execution: { workflowId },
            query: { queryType: currentSessionSigsQuery.name },
            queryRejectCondition: temporal.api.enums.v1.QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN,
          }),
        );
      } catch (err) {
        if (deadlinePassed(err, deadline)) {
          throw new OperationTimeoutError(
            `agent "${agentId}" did not answer within ${formatDuration(this.queryTimeoutMs)}; ` +
              `is a worker running on task queue ${this.taskQueue}? (\`session-keeper worker\`)`,
          );
        }
        throw err;
      }
      if (res.queryRejected) throw new AgentNotRunningError(agentId, statusName(res.queryRejected.status));
      return decodeFromPayloadsAtIndex<SessionStatus>(
        this.temporal.options.loadedDataConverter,
        0,
        res.queryResult?.payloads,
        { type: 'workflow', namespace: this.namespace, workflowId },
      );
    });
  }

  /** Status of one agent; for a stopped agent, the last values of its search attributes. */
  async getStatus(agentId: string): Promise<AgentStatus> {
    try {
      const status = await this.querySessionStatus(agentId);
      return { ...status, workflowStatus: 'RUNNING', running: true };
    } catch (err) {
      if (!(err instanceof AgentNotRunningError)) throw err;
    }
    return this.guard({ agentId }, async () => {
      const d = await this.temporal.workflow.getHandle(workflowIdFor(agentId)).describe();
      return {
        ...statusFromPublished(agentId, publishedSession(d.typedSearchAttributes)),
        workflowStatus: d.status.name,
        running: false,
      };
    });
  }

  /**
   * The agent's current sigs if they stay valid for at least `minValidity` (default 2 minutes);
   * otherwise `SessionSigsUnavailableError` saying why. One query, no waiting: use
   * `sessionSigsSource()` in agents (cache, waits for the first mint).
   */
  async getSessionSigs(
    agentId: string,
    opts: { minValidity?: number | string } = {},
  ): Promise<SessionSigsMap> {
    const minValidityMs = durationMs(opts.minValidity, 'minValidity') ?? DEFAULT_MIN_VALIDITY_MS;
    const source = this.sessionSigsSource(agentId, { minValidityMs, waitTimeoutMs: 0 });
    return source.get();
  }

  /** A caching source of this agent's sigs for an agent process. */
  sessionSigsSource(
    agentId: string,
    opts: Omit<SessionSigsSourceOptions, 'agentId' | 'fetchStatus'> = {},
  ): SessionSigsSource {
    return new SessionSigsSource({ ...opts, agentId, fetchStatus: (id) => this.querySessionStatus(id) });
  }

  /** Rotates one agent now: `wait` → update `rotateNow` (returns the new status), else signal `rotate`. */
  async rotate(agentId: string, opts: RotateOptions = {}): Promise<RotateResult> {
    const request: RotateRequest = { reason: opts.reason ?? 'manual rotation' };
    const spreadMs = durationMs(opts.spread, 'spread');
    if (spreadMs) request.spreadMs = spreadMs;
    const timeoutMs = durationMs(opts.timeout, 'timeout') ?? 120_000;
    return this.guard({ agentId }, async () => {
      const handle = this.temporal.workflow.getHandle(workflowIdFor(agentId));
      const deadline = Date.now() + timeoutMs;
      try {
        if (!opts.wait) {
          await handle.signal(rotateSignal, request);
          return { agentId };
        }
        const status = await this.temporal.connection.withDeadline(deadline, () =>
          // The definition's only argument is optional, which the SDK's overloads do not accept.
          handle.executeUpdate<SessionStatus, [RotateRequest]>(rotateNowUpdate.name, { args: [request] }),
        );
        return { agentId, status };
      } catch (err) {
        throw await this.explainMissing(agentId, err, timeoutMs, deadline);
      }
    });
  }

  /**
   * Agent-held mode: moves the agent to a new session key pair (update `rotateSessionKey`). Give
   * only the new PUBLIC key (64 hex digits); the answer is the status once the capability for it
   * is minted, with the old key's capability still served as `previousCapability` until it
   * expires. Refused (SessionKeeperError) for a delivered-mode agent or a key that is not public.
   */
  async rotateSessionKey(
    agentId: string,
    newPublicKey: string,
    reason?: string,
    opts: { timeout?: number | string } = {},
  ): Promise<SessionStatus> {
    const problem = sessionPublicKeyProblem(newPublicKey);
    if (problem) throw new SessionKeeperError(`the new session public key ${problem}`);
    const request: RotateSessionKeyRequest = {
      sessionPublicKey: normaliseSessionPublicKey(newPublicKey),
      ...(reason !== undefined ? { reason } : {}),
    };
    const timeoutMs = durationMs(opts.timeout, 'timeout') ?? 120_000;
    return this.guard({ agentId }, async () => {
      const handle = this.temporal.workflow.getHandle(workflowIdFor(agentId));
      const deadline = Date.now() + timeoutMs;
      try {
        return await this.temporal.connection.withDeadline(deadline, () =>
          handle.executeUpdate(rotateSessionKeyUpdate, { args: [request] }),
        );
      } catch (err) {
        // The workflow's refusal (delivered mode, a bad key, a permanent mint failure) as it said it.
        if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
          throw new SessionKeeperError(`agent "${agentId}": ${err.cause.message}`);
        throw await this.explainMissing(agentId, err, timeoutMs, deadline);
      }
    });
  }

  /** Asks the agent's workflow to stop (signal `stop`); with `wait`, until it has completed. */
  async stopAgent(agentId: string, opts: StopAgentOptions = {}): Promise<void> {
    const timeoutMs = durationMs(opts.timeout, 'timeout') ?? 60_000;
    return this.guard({ agentId }, async () => {
      const handle = this.temporal.workflow.getHandle(workflowIdFor(agentId));
      const deadline = Date.now() + timeoutMs;
      try {
        await handle.signal(stopSignal, { reason: opts.reason ?? 'stopped by operator' });
        if (opts.wait) await this.temporal.connection.withDeadline(deadline, () => handle.result());
      } catch (err) {
        throw await this.explainMissing(agentId, err, timeoutMs, deadline);
      }
    });
  }

  /** Agents by visibility query, from their search attributes (no query to the workflows). */
  async listAgents(opts: ListAgentsOptions = {}): Promise<AgentSummary[]> {
    const query = agentsQuery(opts);
    const limit = opts.limit ?? 10_000;
    return this.guard({ query: opts.query ?? '' }, async () => {
      const out: AgentSummary[] = [];
      for await (const wf of this.temporal.workflow.list({ query })) {
        const sa = wf.typedSearchAttributes;
        out.push({
          agentId: sa.get(LitAgentId) ?? agentIdFromWorkflowId(wf.workflowId) ?? wf.workflowId,
          workflowId: wf.workflowId,
          runId: wf.runId,
          ...publishedSession(sa),
          status: wf.status.name,
          startTime: wf.startTime.toISOString(),
        });
        if (out.length >= limit) break;
      }
      return out.sort((a, b) => a.agentId.localeCompare(b.agentId));
    });
  }

  /** How many running agents match (approximate, from visibility). */
  async countAgents(query?: string): Promise<number> {
    return this.guard({ query: query ?? '' }, async () => {
      return (await this.temporal.workflow.count(agentsQuery({ query }))).count;
    });
  }

  /**
   * Rotates every matching agent with a server-side batch operation (signal `rotate`), rate-limited
   * to `rps`. Checks the query first (a malformed one fails here, with the server's reason).
   */
  async rotateFleet(opts: RotateFleetOptions = {}): Promise<FleetRotationStart> {
    const spreadMs = durationMs(opts.spread, 'spread');
    if (opts.rps !== undefined && !(opts.rps > 0)) {
      throw new SessionKeeperError(`rps ${opts.rps} must be a positive number of signals per second`);
    }
    return this.guard({ query: opts.query ?? '' }, async () => {
      const matched = (await this.temporal.workflow.count(agentsQuery({ query: opts.query }))).count;
      try {
        const jobId = await startFleetRotation(this.temporal, {
          query: opts.query,
          rps: opts.rps,
          spreadMs,
          reason: opts.reason,
          jobId: opts.jobId,
        });
        return { jobId, matched };
      } catch (err) {
        const code = grpcCode(err);
        if (
          code === GRPC.RESOURCE_EXHAUSTED ||
          /max concurrent batch/i.test(String((err as Error).message))
        ) {
          throw new FleetRotationError(
            `another batch operation is still running in namespace ${this.namespace} (the server runs a limited number at once); ` +
              'wait for it (`temporal batch list`) and retry',
          );
        }
        if (code === GRPC.ALREADY_EXISTS) {
          throw new FleetRotationError(
            `a fleet rotation with job id ${opts.jobId} already exists; choose another id`,
          );
        }
        throw err;
      }
    });
  }

  async describeFleetRotation(jobId: string): Promise<FleetRotationProgress> {
    return this.guard({}, () => describeFleetRotation(this.temporal, jobId));
  }

  /** Polls the batch until it completes; `onProgress` sees every poll (for a progress bar). */
  async waitForFleetRotation(
    jobId: string,
    onProgress?: (p: FleetRotationProgress) => void,
    opts?: WaitForFleetRotationOptions,
  ): Promise<FleetRotationResult> {
    return this.guard({}, () => waitForFleetRotation(this.temporal, jobId, onProgress, opts));
  }

  /** Registers the keeper's search attributes on this namespace (idempotent). */
  async setupSearchAttributes(): Promise<SearchAttributeSetupRow[]> {
    return this.guard({}, () => registerSearchAttributes(this.temporal, this.namespace));
  }

  /** After a signal/update failed with NOT_FOUND: unknown agent, or one that is not running? */
  private async explainMissing(
    agentId: string,
    err: unknown,
    timeoutMs: number,
    deadline: number,
  ): Promise<unknown> {
    if (deadlinePassed(err, deadline)) {
      return new OperationTimeoutError(
        `agent "${agentId}" did not finish within ${formatDuration(timeoutMs)}; ` +
          `is a worker running on task queue ${this.taskQueue}? (\`session-keeper agent status ${agentId}\`)`,
      );
    }
    const notFound = (err as Error).name === 'WorkflowNotFoundError' || grpcCode(err) === GRPC.NOT_FOUND;
    if (!notFound) return err;
    try {
      const d = await this.temporal.workflow.getHandle(workflowIdFor(agentId)).describe();
      if (d.status.name !== 'RUNNING') return new AgentNotRunningError(agentId, d.status.name);
    } catch {
      return new AgentNotFoundError(agentId);
    }
    return err;
  }

  private async guard<T>(ctx: Partial<ErrorContext>, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateTemporalError(err, { address: this.address, namespace: this.namespace, ...ctx });
    }
  }
}
