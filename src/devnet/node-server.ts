/**
 * One Lit node of the devnet: its own HTTP server on loopback, the transport of the endpoints the
 * SDK's session flows and their uses take. Here: routing, fault injection (down, hang, latency,
 * 500, 429, per node), counters and Lit's error bodies. Each endpoint's protocol is a file of
 * endpoints/: `/web/handshake/` (handshake.ts), `/web/sign_session_key/v1` (sign-session-key.ts),
 * `/web/encryption/sign/` (decrypt, encryption-sign.ts), `/web/pkp/sign/v1` (pkpSign, pkp-sign.ts)
 * and `/web/execute/v1` (executeJs, execute.ts; the action runs in a worker thread,
 * lit-action-runner.ts) — with real BLS threshold signature shares, ECDSA shares the SDK combines
 * and Lit's checks.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { BlsKeyShare } from './bls-threshold';
import { encryptionSign } from './endpoints/encryption-sign';
import { executeJs } from './endpoints/execute';
import { handshake } from './endpoints/handshake';
import type { LitNodeDeps, NodeContext } from './endpoints/node-context';
import { pkpSign } from './endpoints/pkp-sign';
import { signSessionKey } from './endpoints/sign-session-key';
import { type FaultSpec, faultApplies, NO_FAULT, type NodeEndpoint } from './faults';
import { BodyError, closeServer, devnetHosts, listen, readJson, sendJson } from './http-util';
import { LitActionError } from './lit-action-runner';
import { LitNodeError, litError, litErrorBody } from './lit-errors';
import { type DevnetLogger, SILENT_LOGGER } from './logger';

export { DEFAULT_LIT_ACTION_TIMEOUT_MS, type LitNodeDeps } from './endpoints/node-context';

export const NODE_ROUTES: Partial<Record<string, NodeEndpoint>> = {
  '/web/handshake': 'handshake',
  '/web/handshake/': 'handshake',
  '/web/sign_session_key/v1': 'sign_session_key',
  '/web/encryption/sign': 'encryption_sign',
  '/web/encryption/sign/': 'encryption_sign',
  '/web/pkp/sign/v1': 'pkp_sign',
  '/web/execute/v1': 'execute_js',
};

/** Each endpoint's protocol (endpoints/), given the node and the request's JSON object body. */
const ENDPOINTS: Record<
  NodeEndpoint,
  (node: NodeContext, body: Record<string, unknown>, requestId: string) => unknown
> = {
  handshake: (node) => handshake(node),
  sign_session_key: (node, body) => signSessionKey(node, body),
  encryption_sign: (node, body) => encryptionSign(node, body),
  pkp_sign: (node, body) => pkpSign(node, body),
  execute_js: (node, body, requestId) => executeJs(node, body, requestId),
};

type Counts = Record<NodeEndpoint | 'other', number>;

export interface NodeStats {
  index: number;
  url: string;
  shareIndex: number;
  active: boolean;
  listening: boolean;
  fault: FaultSpec;
  /** Requests that reached the node, by endpoint (whatever the outcome). */
  requests: Counts;
  /** Requests answered 200 with a result. */
  successes: Counts;
  /** Error answers by Lit error code. */
  errors: Record<string, number>;
}

/** Emitted as `request` when a request reaches the node, before any fault applies. */
export interface NodeRequestEvent {
  node: number;
  endpoint: NodeEndpoint | 'other';
}

/** Emitted as `response` when the node answers (hung requests never are). */
export interface NodeResponseEvent extends NodeRequestEvent {
  status: number;
  errorCode?: string;
}

const emptyCounts = (): Counts => ({
  handshake: 0,
  sign_session_key: 0,
  encryption_sign: 0,
  pkp_sign: 0,
  execute_js: 0,
  other: 0,
});

/** Emitted as `sessionSigned` when the node has answered a `sign_session_key` with its share. */
export interface SessionSignedEvent {
  node: number;
  pkpPublicKey: string;
  /** The session key the capability is for (`lit:session:<hex>`). */
  sessionKey: string;
}

export class LitNodeServer extends EventEmitter<{
  request: [NodeRequestEvent];
  response: [NodeResponseEvent];
  sessionSigned: [SessionSignedEvent];
}> {
  readonly index: number;
  readonly chainAddress: string;
  readonly share: BlsKeyShare;
  /** Whether the node is in the current validator set (dropped nodes keep serving). */
  active = true;
  /** What the endpoints see of this node. */
  private readonly context: NodeContext;
  private readonly log: DevnetLogger;
  private readonly server: Server;
  private port = 0;
  private faultSpec: FaultSpec = NO_FAULT;
  private readonly hung = new Set<Socket>();
  private readonly answeredCodes = new WeakMap<ServerResponse, string>();
  private readonly delays = new Set<NodeJS.Timeout>();
  private readonly counts = {
    requests: emptyCounts(),
    successes: emptyCounts(),
    errors: {} as Record<string, number>,
  };

  constructor(deps: LitNodeDeps) {
    super();
    this.index = deps.index;
    this.chainAddress = deps.chainAddress;
    this.share = deps.share;
    this.log = deps.logger ?? SILENT_LOGGER;
    const node = this;
    this.context = {
      index: deps.index,
      chainAddress: deps.chainAddress,
      share: deps.share,
      get hostPort() {
        return node.hostPort;
      },
      serverPublicKey: randomBytes(32).toString('hex'),
      deps,
      now: deps.now ?? Date.now,
    };
    this.server = createServer((req, res) => void this.onRequest(req, res));
  }

  get url(): string {
    return `http://${devnetHosts.advertise}:${this.port}`;
  }

  /** `host:port`, what session sigs must name as `nodeAddress`. */
  get hostPort(): string {
    return `${devnetHosts.advertise}:${this.port}`;
  }

  get fault(): FaultSpec {
    return this.faultSpec;
  }

  async start(port: number): Promise<string> {
    this.port = await listen(this.server, port, devnetHosts.bind);
    return this.url;
  }

  async close(): Promise<void> {
    this.releaseHung();
    for (const t of this.delays) clearTimeout(t);
    this.delays.clear();
    await closeServer(this.server);
  }

  /** Applies a fault; `down` really stops listening, leaving `down` listens on the same port again. */
  async setFault(spec: FaultSpec): Promise<void> {
    const wasDown = this.faultSpec.mode === 'down';
    this.faultSpec = spec;
    if (spec.mode !== 'hang') this.releaseHung();
    if (spec.mode === 'down' && !wasDown) {
      await closeServer(this.server);
    } else if (spec.mode !== 'down' && wasDown) {
      await listen(this.server, this.port, devnetHosts.bind);
    }
    this.log.info({ node: this.index, fault: spec }, 'node fault set');
  }

  stats(): NodeStats {
    return {
      index: this.index,
      url: this.url,
      shareIndex: this.share.index,
      active: this.active,
      listening: this.server.listening,
      fault: this.faultSpec,
      requests: { ...this.counts.requests },
      successes: { ...this.counts.successes },
      errors: { ...this.counts.errors },
    };
  }

  /** Connections held by `hang` are cut when the fault ends, so clients see them fail. */
  private releaseHung(): void {
    for (const socket of this.hung) socket.destroy();
    this.hung.clear();
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const endpoint: NodeEndpoint | 'other' = NODE_ROUTES[path] ?? 'other';
    const correlationId = String(
      req.headers['x-request-id'] ?? `lit_devnet_${randomBytes(6).toString('hex')}`,
    );
    this.counts.requests[endpoint]++;
    this.emit('request', { node: this.index, endpoint });
    res.once('finish', () => {
      const errorCode = this.answeredCodes.get(res);
      this.emit('response', {
        node: this.index,
        endpoint,
        status: res.statusCode,
        ...(errorCode ? { errorCode } : {}),
      });
    });
    const fault = this.faultSpec;
    if (faultApplies(fault, endpoint)) {
      if (fault.mode === 'hang') {
        this.hung.add(req.socket);
        req.socket.once('close', () => this.hung.delete(req.socket));
        return;
      }
      if (fault.mode === 'latency') {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            this.delays.delete(t);
            resolve();
          }, fault.latencyMs ?? 0);
          this.delays.add(t);
        });
        if (res.destroyed) return;
      }
      if (fault.mode === 'error500') {
        this.fail(res, litError('NodeSystemFault', 'injected fault: node system fault'), correlationId);
        return;
      }
      if (fault.mode === 'error429') {
        this.fail(
          res,
          litError('NodeConcurrencyOverload', 'injected fault: concurrency limit reached, retry later'),
          correlationId,
        );
        return;
      }
    }
    if (endpoint === 'other') {
      sendJson(res, 404, { error: `no such endpoint ${req.method} ${path}` });
      return;
    }
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: `use POST for ${path}` });
      return;
    }
    try {
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (e) {
        throw litError('NodeBadInput', e instanceof BodyError ? e.message : 'unreadable request body');
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        throw litError('NodeBadInput', 'request body must be a JSON object');
      }
      const request = body as Record<string, unknown>;
      const result = await ENDPOINTS[endpoint](this.context, request, correlationId);
      this.counts.successes[endpoint]++;
      if (endpoint === 'sign_session_key') {
        this.emit('sessionSigned', {
          node: this.index,
          pkpPublicKey: String(request.pkpPublicKey),
          sessionKey: String(request.sessionKey),
        });
      }
      sendJson(res, 200, result);
    } catch (e) {
      if (e instanceof LitActionError) {
        this.failAction(res, e, correlationId);
        return;
      }
      const err =
        e instanceof LitNodeError
          ? e
          : litError('NodeSystemFault', 'unexpected node error', [String((e as Error)?.message ?? e)]);
      if (!(e instanceof LitNodeError)) this.log.error({ node: this.index, err: e }, 'node handler failed');
      this.fail(res, err, correlationId);
    }
  }

  private fail(res: ServerResponse, err: LitNodeError, correlationId: string): void {
    this.counts.errors[err.code] = (this.counts.errors[err.code] ?? 0) + 1;
    this.answeredCodes.set(res, err.code);
    this.log.debug({ node: this.index, code: err.code, message: err.message }, 'node answered an error');
    sendJson(res, err.status, litErrorBody(err, correlationId));
  }

  /** A failed Lit Action: Lit's error body with the action's logs beside it. */
  private failAction(res: ServerResponse, err: LitActionError, correlationId: string): void {
    this.counts.errors[err.code] = (this.counts.errors[err.code] ?? 0) + 1;
    this.answeredCodes.set(res, err.code);
    this.log.debug({ node: this.index, code: err.code, message: err.message }, 'lit action failed');
    sendJson(res, err.status, {
      errorKind: err.kind,
      errorCode: err.code,
      status: err.status,
      message: err.message,
      correlationId,
      details: [err.message],
      success: false,
      logs: err.logs,
    });
  }
}
