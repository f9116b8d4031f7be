/**
 * Errors of the client library. Each message is one line that names the agent (or the address)
 * and says what to do, so the CLI can print it as is.
 */
import { ServiceError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_TYPES } from '../shared/search-attributes';

/** gRPC status codes (the numbers are part of the gRPC protocol). */
export const GRPC = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** Base class: every error this library raises on purpose. */
export class SessionKeeperError extends Error {
  override name = 'SessionKeeperError';
}

export class AgentNotFoundError extends SessionKeeperError {
  override name = 'AgentNotFoundError';
  constructor(readonly agentId: string) {
    super(
      `unknown agent "${agentId}": no session refresh workflow lit-session/${agentId} in this namespace; ` +
        'check the id (`session-keeper agent list`) or start it with `session-keeper agent start`',
    );
  }
}

/** The agent's workflow exists but is closed (stopped, failed, terminated). */
export class AgentNotRunningError extends SessionKeeperError {
  override name = 'AgentNotRunningError';
  constructor(
    readonly agentId: string,
    readonly workflowStatus: string,
  ) {
    super(
      `agent "${agentId}" is not running (workflow ${workflowStatus.toLowerCase()}); ` +
        'start it again with `session-keeper agent start`',
    );
  }
}

/** `startAgent` found the agent running with another spec and was not asked to replace it. */
export class AgentSpecConflictError extends SessionKeeperError {
  override name = 'AgentSpecConflictError';
  constructor(
    readonly agentId: string,
    readonly differingFields: string[],
  ) {
    super(
      `agent "${agentId}" is already running with a different spec (${differingFields.join(', ') || 'spec'} differ); ` +
        'pass replace: true (CLI: --replace) to replace it, or stop it first',
    );
  }
}

export class TemporalUnreachableError extends SessionKeeperError {
  override name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    detail: string,
  ) {
    super(
      `cannot reach Temporal at ${address} (${detail}); start it (e.g. \`temporal server start-dev\`) ` +
        'or point --address / TEMPORAL_ADDRESS at your cluster (and --namespace, --tls, --api-key as needed)',
    );
  }
}

export class NamespaceNotFoundError extends SessionKeeperError {
  override name = 'NamespaceNotFoundError';
  constructor(
    readonly namespace: string,
    address: string,
  ) {
    super(
      `Temporal namespace "${namespace}" does not exist at ${address}; create it ` +
        `(\`temporal operator namespace create ${namespace}\`) or pass --namespace / TEMPORAL_NAMESPACE`,
    );
  }
}

export class InvalidQueryError extends SessionKeeperError {
  override name = 'InvalidQueryError';
  constructor(
    readonly query: string,
    detail: string,
  ) {
    super(
      `invalid visibility query ${JSON.stringify(query)}: ${detail}; ` +
        'e.g. LitNetwork = "datil" AND LitSessionState IN ("degraded", "expired")',
    );
  }
}

/** The namespace lacks the keeper's custom search attributes. */
export class SearchAttributesMissingError extends SessionKeeperError {
  override name = 'SearchAttributesMissingError';
  constructor(
    readonly namespace: string,
    detail: string,
  ) {
    super(
      `namespace "${namespace}" lacks the keeper's search attributes (${detail}); run \`session-keeper setup\` once`,
    );
  }
}

/** Valid sigs are not available (not minted yet, too close to expiry, or the agent failed). */
export class SessionSigsUnavailableError extends SessionKeeperError {
  override name = 'SessionSigsUnavailableError';
  constructor(
    readonly agentId: string,
    readonly reason: string,
  ) {
    super(`no usable session sigs for agent "${agentId}": ${reason}`);
  }
}

export class FleetRotationError extends SessionKeeperError {
  override name = 'FleetRotationError';
}

export class OperationTimeoutError extends SessionKeeperError {
  override name = 'OperationTimeoutError';
}

export function grpcCode(err: unknown): number | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function innermostMessage(err: unknown): string {
  let e: any = err;
  let message = e instanceof Error ? e.message : String(e);
  for (let i = 0; i < 4 && e?.cause; i++) {
    e = e.cause;
    if (e?.details) message = String(e.details);
    else if (e?.message) message = String(e.message);
  }
  return firstLine(message.replace(/^\d+ [A-Z_]+: /, ''));
}

export function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

export interface ErrorContext {
  address: string;
  namespace: string;
  agentId?: string;
  query?: string;
}

/**
 * Turns SDK and gRPC errors into this library's errors (unchanged when there is nothing better to
 * say). Never throws.
 */
export function translateTemporalError(err: unknown, ctx: ErrorContext): unknown {
  if (err instanceof SessionKeeperError) return err;
  if (err instanceof WorkflowNotFoundError && ctx.agentId) return new AgentNotFoundError(ctx.agentId);
  const code = grpcCode(err);
  const message = innermostMessage(err);
  if (
    code === GRPC.UNAVAILABLE ||
    (err instanceof ServiceError &&
      /Failed to connect|Failed to connect before the deadline/i.test(err.message)) ||
    /Failed to connect before the deadline|ECONNREFUSED|No connection established/i.test(message)
  ) {
    return new TemporalUnreachableError(ctx.address, message);
  }
  if (code === GRPC.DEADLINE_EXCEEDED && /connect/i.test(message)) {
    return new TemporalUnreachableError(ctx.address, message);
  }
  if (code === GRPC.UNAUTHENTICATED || code === GRPC.PERMISSION_DENIED) {
    return new SessionKeeperError(
      `Temporal at ${ctx.address} refused the request (${message}); check --api-key / TEMPORAL_API_KEY and the TLS client certificate`,
    );
  }
  if (code === GRPC.NOT_FOUND && /namespace/i.test(message)) {
    return new NamespaceNotFoundError(ctx.namespace, ctx.address);
  }
  if (code === GRPC.NOT_FOUND && ctx.agentId && /workflow|execution/i.test(message)) {
    return new AgentNotFoundError(ctx.agentId);
  }
  if (code === GRPC.INVALID_ARGUMENT) {
    // Ours missing: on start ("no mapping defined for search attribute LitAgentId") or in a query.
    const missing =
      /no mapping defined for search attribute (\w+)|search attribute (\w+) is not defined|invalid search attribute: (\w+)/.exec(
        message,
      );
    const name = missing?.[1] ?? missing?.[2] ?? missing?.[3];
    if (name && name in SEARCH_ATTRIBUTE_TYPES)
      return new SearchAttributesMissingError(ctx.namespace, message);
    if (ctx.query !== undefined) {
      // Positions refer to the server's rewritten SQL, not to what the user typed.
      return new InvalidQueryError(ctx.query, message.replace(/ at position \d+/, ''));
    }
  }
  return err;
}
