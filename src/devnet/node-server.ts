/**
 * One Lit node of the devnet: its own HTTP server on loopback answering the endpoints the SDK's
 * session flows and their uses take — `/web/handshake/`, `/web/sign_session_key/v1`,
 * `/web/encryption/sign/` (decrypt), `/web/pkp/sign/v1` (pkpSign) and `/web/execute/v1` (executeJs,
 * run in a worker thread by lit-action-runner.ts; its `signEcdsa`, `checkConditions`,
 * `decryptAndCombine` and `getRpcUrl` are answered here) — with real BLS threshold
 * signature shares, ECDSA shares the SDK combines, Lit's checks and Lit's error bodies. Faults
 * (down, hang, latency, 500, 429) are applied here, per node.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { blsCombine, blsDecrypt } from '@lit-protocol/wasm';
import { ethers } from 'ethers';
import { SiweMessage } from 'siwe';
import {
  type ConditionKind,
  canonicalizeConditions,
  evaluateConditions,
  hashConditions,
} from './access-control';
import type { BlockClock } from './block-clock';
import { type BlsKeyShare, litSessionSigningHash, signShare } from './bls-threshold';
import { ecdsaShare } from './ecdsa-shares';
import {
  type BlockhashAdvertiser,
  type FaultSpec,
  faultApplies,
  NO_FAULT,
  type NodeEndpoint,
} from './faults';
import { BodyError, closeServer, devnetHosts, listen, readJson, sendJson } from './http-util';
import {
  type ActionSignatureShare,
  type AuthMethodContext,
  type CheckConditionsRequest,
  type DecryptAndCombineRequest,
  ipfsCidOf,
  LitActionError,
  type LitActionPool,
  runLitAction,
} from './lit-action-runner';
import { LitNodeError, litError, litErrorBody } from './lit-errors';
import { type DevnetLogger, SILENT_LOGGER } from './logger';
import { checkPkpAuth, resolvedAuthContextOf } from './pkp-auth';
import type { PkpRegistry } from './pkp-registry';
import { type Attenuations, encodeRecap, extractRecaps, mergeAttenuations, recapStatement } from './recap';
import {
  type RequestedResource,
  type SessionSig,
  type VerifiedSession,
  verifySessionSig,
} from './session-sig-verifier';
import { checkNonceBlock, checkSessionSiweTimes, parseSiwe, verifyEthWalletAccessToken } from './siwe-checks';

export const AUTH_METHOD_TYPE_ETH_WALLET = 1;

/** Whether a condition list is unified (its atomic conditions name a `conditionType`). */
function isUnified(conditions: unknown): boolean {
  const atoms = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(atoms) : [v]);
  return atoms(conditions).some((c) => !!c && typeof c === 'object' && 'conditionType' in c);
}
/** Lit's node adds the resolved auth context to PKP session SIWEs under this resource. */
const RESOLVED_AUTH_CONTEXT_RESOURCE = 'lit-resolvedauthcontext://*';
const ACC_PREFIX = 'lit-accesscontrolcondition';
const DECRYPTION = 'access-control-condition-decryption';
const PKP_PREFIX = 'lit-pkp';
const PKP_SIGNING = 'pkp-signing';
const LIT_ACTION_PREFIX = 'lit-litaction';
const LIT_ACTION_EXECUTION = 'lit-action-execution';
/** Time limit of one Lit Action run unless the devnet sets another. */
export const DEFAULT_LIT_ACTION_TIMEOUT_MS = 2000;

export const NODE_ROUTES: Partial<Record<string, NodeEndpoint>> = {
  '/web/handshake': 'handshake',
  '/web/handshake/': 'handshake',
  '/web/sign_session_key/v1': 'sign_session_key',
  '/web/encryption/sign': 'encryption_sign',
  '/web/encryption/sign/': 'encryption_sign',
  '/web/pkp/sign/v1': 'pkp_sign',
  '/web/execute/v1': 'execute_js',
};

type Counts = Record<NodeEndpoint | 'other', number>;

/** A Lit Action named by a `sign_session_key` request. */
interface SessionAction {
  source: string;
  ipfsId: string;
  jsParams: Record<string, unknown>;
}

/** Pure: the request's `jsParams`, which must be a JSON object when given. */
function jsParamsOf(jsParams: unknown): Record<string, unknown> {
  if (jsParams === undefined) return {};
  if (jsParams === null || typeof jsParams !== 'object' || Array.isArray(jsParams)) {
    throw litError('NodeBadInput', 'jsParams must be an object');
  }
  return jsParams as Record<string, unknown>;
}

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

export interface LitNodeDeps {
  /** Stable 0-based id of the node within the devnet. */
  index: number;
  /** The node's on-chain identity (`nodeAddress` of its validator struct). */
  chainAddress: string;
  share: BlsKeyShare;
  clock: BlockClock;
  advertiser: BlockhashAdvertiser;
  pkps: PkpRegistry;
  hdRootPubkeys: string[];
  currentEpoch: () => number;
  /** Indices of the nodes that deal ECDSA shares (the validator set); defaults to this node alone. */
  signingParticipants?: () => number[];
  now?: () => number;
  logger?: DevnetLogger;
  /** The chain's JSON-RPC URL, what a Lit Action's `getRpcUrl` answers (any chain name). */
  rpcUrl?: () => string | undefined;
  /** The code stored under an IPFS id, for `executeJs` by `ipfsId` (the devnet's content store). */
  litActionCode?: (ipfsId: string) => string | undefined;
  /** Time limit of one Lit Action run, ms (default DEFAULT_LIT_ACTION_TIMEOUT_MS). */
  litActionTimeoutMs?: number;
  /** The worker pool Lit Actions run in (memory limit, workers; default: the process-wide pool). */
  litActionPool?: LitActionPool;
  /**
   * Threshold-many shares of the network key (the devnet's validator set), what a Lit Action's
   * `decryptAndCombine` collects from the network; without it only this node's share is used.
   */
  networkShares?: () => BlsKeyShare[];
}

const emptyCounts = (): Counts => ({
  handshake: 0,
  sign_session_key: 0,
  encryption_sign: 0,
  pkp_sign: 0,
  execute_js: 0,
  other: 0,
});

export class LitNodeServer extends EventEmitter<{
  request: [NodeRequestEvent];
  response: [NodeResponseEvent];
}> {
  readonly index: number;
  readonly chainAddress: string;
  readonly share: BlsKeyShare;
  /** Whether the node is in the current validator set (dropped nodes keep serving). */
  active = true;
  private readonly deps: LitNodeDeps;
  private readonly now: () => number;
  private readonly log: DevnetLogger;
  /** The node's communication key, reported in handshakes. */
  private readonly serverPublicKey = randomBytes(32).toString('hex');
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
    this.deps = deps;
    this.index = deps.index;
    this.chainAddress = deps.chainAddress;
    this.share = deps.share;
    this.now = deps.now ?? Date.now;
    this.log = deps.logger ?? SILENT_LOGGER;
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
      const result =
        endpoint === 'handshake'
          ? this.handshake()
          : endpoint === 'sign_session_key'
            ? await this.signSessionKey(request)
            : endpoint === 'pkp_sign'
              ? this.pkpSign(request)
              : endpoint === 'execute_js'
                ? await this.executeJs(request, correlationId)
                : this.encryptionSign(request);
      this.counts.successes[endpoint]++;
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

  private handshake(): Record<string, unknown> {
    const { blockhash } = this.deps.advertiser.current();
    return {
      serverPublicKey: this.serverPublicKey,
      subnetPublicKey: this.share.publicKeyHex,
      networkPublicKey: this.share.publicKeyHex,
      networkPublicKeySet: this.share.publicKeyHex,
      hdRootPubkeys: this.deps.hdRootPubkeys,
      latestBlockhash: blockhash,
      nodeVersion: '0.0.0-devnet',
      epoch: this.deps.currentEpoch(),
    };
  }

  /**
   * `sign_session_key` (SDK 7.4.0: POST `/web/sign_session_key/v1` with `{sessionKey, authMethods,
   * pkpPublicKey, siweMessage, curveType, epoch}`, and for Lit Action auth — `getLitActionSessionSigs`
   * or `getPkpSessionSigs` with `litActionCode` / `litActionIpfsId` — also `code` (base64) or
   * `litActionIpfsId`, and `jsParams`). A Lit Action, if given, runs and must answer "true"
   * (`authoriseByAction`); then the session is signed when a presented auth method or the action
   * is permitted on the PKP (decision table in pkp-auth.ts).
   */
  private async signSessionKey(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const now = this.now();
    const { sessionKey, authMethods, pkpPublicKey, siweMessage, curveType } = body;
    if (typeof sessionKey !== 'string' || typeof siweMessage !== 'string' || !Array.isArray(authMethods)) {
      throw litError('NodeBadInput', 'sign_session_key needs sessionKey, siweMessage and authMethods');
    }
    if (typeof pkpPublicKey !== 'string') {
      throw litError(
        'NodeBadInput',
        'the devnet needs pkpPublicKey (it does not look PKPs up by auth method)',
      );
    }
    if (curveType !== 'BLS')
      throw litError('NodeInvalidCurveType', `curveType must be BLS, got ${String(curveType)}`);
    const action = this.sessionAction(body);
    const siwe = parseSiwe(siweMessage);
    if (siwe.statement?.includes('lit-resolvedauthcontext')) {
      throw litError('NodeInvalidAuthContextResource', "Can't define Auth Context resources in capability");
    }

    const controllers = authMethods.map((m) => this.resolveAuthMethod(m, now));

    let pkpEthAddress: string;
    try {
      pkpEthAddress = ethers.utils.computeAddress(
        pkpPublicKey.startsWith('0x') ? pkpPublicKey : `0x${pkpPublicKey}`,
      );
    } catch {
      throw litError('NodeBadInput', 'pkpPublicKey is not a secp256k1 public key');
    }
    if (siwe.address.toLowerCase() !== pkpEthAddress.toLowerCase()) {
      throw litError(
        'NodeSIWEMessageError',
        `Address in SIWE message ${siwe.address} does not match PKP ETH address ${pkpEthAddress}`,
      );
    }
    if (siwe.uri !== sessionKey) {
      throw litError(
        'NodeSIWEMessageError',
        `URI in SIWE message ${siwe.uri} does not match URI in request ${sessionKey}`,
      );
    }
    checkSessionSiweTimes(siwe, now);
    const block = this.deps.clock.byHash(siwe.nonce);
    checkNonceBlock(siwe.nonce, block, now);

    const authMethodContexts = controllers.map((userId) => ({
      appId: 'lit',
      authMethodType: AUTH_METHOD_TYPE_ETH_WALLET,
      usedForSignSessionKeyRequest: true,
      userId,
    }));
    const notAuthorized = () =>
      litError('NodePKPNotAuthorized', `You are not authorized to sign using this PKP: ${pkpPublicKey}`);
    // Without an action nothing can change the decision: refuse before the capability checks.
    // Also the answer to a request with neither an auth method nor a Lit Action.
    if (
      !action &&
      !checkPkpAuth(this.deps.pkps, pkpPublicKey, { context: { authMethodContexts, actionIpfsIdStack: [] } })
    ) {
      throw notAuthorized();
    }

    let userAtt: Attenuations;
    try {
      const recaps = extractRecaps(siwe);
      userAtt = recaps[recaps.length - 1].att;
    } catch (e) {
      throw litError(
        'NodeSIWECapabilityInvalid',
        `Unable to extract and verify user's capability object: ${(e as Error).message}`,
      );
    }
    if (Object.keys(userAtt).some((r) => r.startsWith('lit-resolvedauthcontext'))) {
      throw litError('NodeInvalidAuthContextResource', "Can't define Auth Context resources in capability");
    }
    // Last, after every cheap check: running the action is the expensive part. As on Lit's nodes
    // (pkp-auth.ts) the action runs first, permitted or not, then check_pkp_auth decides.
    const customAuthResource = action
      ? await this.authoriseByAction(action, pkpPublicKey, authMethodContexts)
      : '';
    const context = { authMethodContexts, actionIpfsIdStack: action ? [action.ipfsId] : [] };
    if (!checkPkpAuth(this.deps.pkps, pkpPublicKey, { context, actionIpfsId: action?.ipfsId })) {
      throw action
        ? litError(
            'NodePKPNotAuthorized',
            `You are not authorized to sign using this PKP: ${pkpPublicKey} (Lit Action ${action.ipfsId} is not a permitted action of it and no auth method presented is permitted)`,
          )
        : notAuthorized();
    }
    // Every node must build the identical message, or the shares would not combine: the auth
    // context therefore holds nothing node-specific and no clock reading.
    const authContext = {
      actionIpfsIdStack: context.actionIpfsIdStack,
      authMethodContexts,
      authSigAddress: null,
      customAuthResource,
    };
    const att = mergeAttenuations(
      { [RESOLVED_AUTH_CONTEXT_RESOURCE]: { 'Auth/Auth': [authContext] } },
      userAtt,
    );
    const statement = `${siwe.statement ? `${siwe.statement} ` : ''}${recapStatement(att)}`;
    const toSign = new SiweMessage({
      domain: siwe.domain,
      address: ethers.utils.getAddress(pkpEthAddress),
      statement,
      uri: siwe.uri,
      version: siwe.version,
      chainId: siwe.chainId,
      nonce: block.hash,
      issuedAt: new Date(block.timestamp * 1000).toISOString(),
      expirationTime: siwe.expirationTime,
      notBefore: siwe.notBefore,
      requestId: siwe.requestId,
      resources: [encodeRecap({ att, prf: [] })],
    }).prepareMessage();
    const dataSigned = litSessionSigningHash(toSign);
    return {
      result: 'success',
      signatureShare: { ProofOfPossession: signShare(this.share, dataSigned) },
      shareIndex: this.share.index,
      curveType: 'BLS',
      siweMessage: toSign,
      dataSigned: Buffer.from(dataSigned).toString('hex'),
      blsRootPubkey: this.share.publicKeyHex,
    };
  }

  /** Returns the wallet address an auth method proves control of. */
  private resolveAuthMethod(method: unknown, now: number): string {
    const m = (method ?? {}) as { authMethodType?: unknown; accessToken?: unknown };
    if (m.authMethodType !== AUTH_METHOD_TYPE_ETH_WALLET) {
      throw litError(
        'NodeAuthFailed',
        `the devnet supports only EthWallet auth methods (authMethodType 1), got ${JSON.stringify(m.authMethodType)}`,
      );
    }
    return verifyEthWalletAccessToken(m.accessToken, now);
  }

  /** The Lit Action a `sign_session_key` request names (`code` or `litActionIpfsId`), if any. */
  private sessionAction(body: Record<string, unknown>): SessionAction | undefined {
    const { code, litActionIpfsId, jsParams } = body;
    const given = (v: unknown) => typeof v === 'string' && v !== '';
    if (!given(code) && !given(litActionIpfsId)) return undefined;
    const { source, actionId } = this.actionSource(code, litActionIpfsId);
    return { source, ipfsId: actionId, jsParams: jsParamsOf(jsParams) };
  }

  /**
   * Runs the Lit Action of a `sign_session_key` request and answers its response, which the
   * session's auth context keeps as `customAuthResource`, as Lit's node does. It must contain
   * "true" (Lit's node: `execution_state.response.contains("true")`, web_client.rs) — an action
   * that answers otherwise ("false", nothing) is refused with NodeAuthFailed (Lit's node:
   * NodeLitActionsSessionSigAuthenticationFailed; see pkp-auth.ts); one that throws or runs out
   * of time or memory with NodeJsExecutionError / NodeJsTimeoutError / NodeJsMemoryLimitError.
   * It runs whether or not it is a permitted action of the PKP: whether the session may be
   * signed is decided afterwards (`checkPkpAuth`). The action sees `Lit.Auth` with its own IPFS
   * id and the auth methods the request proved, which need not be permitted controllers.
   */
  private async authoriseByAction(
    action: SessionAction,
    pkpPublicKey: string,
    authMethodContexts: AuthMethodContext[],
  ): Promise<string> {
    if (!this.deps.pkps.get(pkpPublicKey)) {
      throw litError('NodeInvalidPKPAddress', `No PKP with public key ${pkpPublicKey} on this network`);
    }
    const result = await runLitAction(action.source, {
      pool: this.deps.litActionPool,
      jsParams: action.jsParams,
      auth: {
        actionIpfsIds: [action.ipfsId],
        authMethodContexts,
        authSigAddress: null,
        resources: [],
        customAuthResource: '',
      },
      timeoutMs: this.deps.litActionTimeoutMs ?? DEFAULT_LIT_ACTION_TIMEOUT_MS,
      rpcUrl: () => this.deps.rpcUrl?.(),
      // There is no session yet whose owner could be checked against the PKP's permissions.
      signEcdsa: () => {
        throw litError(
          'NodeNotAuthorized',
          'signEcdsa is not available to a Lit Action that authorises a session',
        );
      },
      // Conditions on a wallet the action names (an auth sig in jsParams); there is no session owner.
      checkConditions: (req) => this.actionCheckConditions(req, undefined),
    });
    if (!result.response.includes('true')) {
      throw litError(
        'NodeAuthFailed',
        `Authentication failed for session_sig signing via Lit Action ${action.ipfsId}: its response must contain "true" (Lit.Actions.setResponse({ response: "true" })), it was ${JSON.stringify(result.response)}`,
        result.logs ? [`logs: ${result.logs}`] : [],
      );
    }
    return result.response;
  }

  /**
   * The code of a Lit Action named by inline `code` (base64) and/or an IPFS id, and its IPFS id —
   * derived from the code (the CID v0 the SDK's `getIpfsId` computes), as Lit's node does, so a
   * request cannot claim another action's id; by id alone, the code comes from the content store.
   */
  private actionSource(code: unknown, ipfsId: unknown): { source: string; actionId: string } {
    if (typeof code === 'string' && code) {
      const source = Buffer.from(code, 'base64').toString('utf8');
      let actionId: string;
      try {
        actionId = ipfsCidOf(source);
      } catch (e) {
        throw litError('NodeBadInput', (e as Error).message);
      }
      if (typeof ipfsId === 'string' && ipfsId && ipfsId !== actionId) {
        throw litError('NodeBadInput', `ipfsId ${ipfsId} is not the IPFS id of the code (${actionId})`);
      }
      return { source, actionId };
    }
    if (typeof ipfsId === 'string' && ipfsId) {
      const stored = this.deps.litActionCode?.(ipfsId);
      if (stored === undefined) {
        throw litError('NodeBadInput', `the devnet's content store holds no Lit Action ${ipfsId}`);
      }
      return { source: stored, actionId: ipfsId };
    }
    throw litError('NodeBadInput', 'a Lit Action needs code (base64) or an IPFS id');
  }

  private encryptionSign(body: Record<string, unknown>): Record<string, unknown> {
    const now = this.now();
    if (body.evmContractConditions || body.solRpcConditions) {
      throw litError(
        'NodeBadInput',
        'the devnet evaluates only accessControlConditions and unifiedAccessControlConditions',
      );
    }
    const kind: ConditionKind | undefined = body.accessControlConditions
      ? 'accessControlConditions'
      : body.unifiedAccessControlConditions
        ? 'unifiedAccessControlConditions'
        : undefined;
    if (!kind)
      throw litError('NodeMissingAccessControlConditions', 'no access control conditions in the request');
    const dataToEncryptHash = body.dataToEncryptHash;
    if (typeof dataToEncryptHash !== 'string' || !/^[0-9a-f]{64}$/i.test(dataToEncryptHash)) {
      throw litError('NodeBadInput', 'dataToEncryptHash must be 64 hex digits');
    }
    const conditions = canonicalizeConditions(kind, body[kind]);
    const resourceId = `${hashConditions(conditions)}/${dataToEncryptHash}`;

    const session = this.verifySession(body.authSig, now, {
      resourcePrefix: ACC_PREFIX,
      resourceId,
      ability: DECRYPTION,
    });
    if (!evaluateConditions(conditions, { userAddress: session.userAddress })) {
      throw litError(
        'NodeAccessControlConditionsReturnedNotAuthorized',
        `The access control condition check returned that ${session.userAddress} is not permitted to access this content`,
      );
    }
    const identity = new TextEncoder().encode(`${ACC_PREFIX}://${resourceId}`);
    return {
      result: 'success',
      signatureShare: { ProofOfPossession: signShare(this.share, identity) },
      shareIndex: this.share.index,
      curveType: 'BLS',
      siweMessage: '',
      dataSigned: Buffer.from(identity).toString('hex'),
      blsRootPubkey: this.share.publicKeyHex,
    };
  }

  /** Session-sig verification shared by every endpoint that takes one (decrypt, pkpSign). */
  private verifySession(authSig: unknown, now: number, requested: RequestedResource): VerifiedSession {
    if (!authSig || typeof authSig !== 'object') throw litError('NodeBadInput', 'authSig is required');
    if ((authSig as SessionSig).derivedVia !== 'litSessionSignViaNacl') {
      throw litError(
        'NodeInvalidAuthSig',
        'the devnet accepts session sigs only (derivedVia litSessionSignViaNacl)',
      );
    }
    return verifySessionSig(authSig as SessionSig, {
      nodeAddress: this.hostPort,
      networkPublicKey: this.share.publicKeyHex,
      nowMs: now,
      requested,
      blockByHash: (hash) => this.deps.clock.byHash(hash),
    });
  }

  /**
   * `pkpSign` (SDK 7.4.0: POST `/web/pkp/sign/v1` with `{toSign: number[], pubkey: '0x04…',
   * authSig}`): checks the session sig grants `pkp-signing` on the PKP (`lit-pkp://<token id,
   * 64 hex digits>` or `lit-pkp://*`) and that its owner may use the PKP (a permitted address,
   * or the PKP itself for PKP sessions), then answers this node's ECDSA share in the shape the
   * SDK's `parsePkpSignResponse` reads (snake_case keys, JSON-quoted hex values).
   */
  private pkpSign(body: Record<string, unknown>): Record<string, unknown> {
    const now = this.now();
    const { toSign, pubkey } = body;
    if (
      !Array.isArray(toSign) ||
      !toSign.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255)
    ) {
      throw litError('NodeBadInput', 'toSign must be an array of bytes');
    }
    if (toSign.length !== 32) {
      throw litError('NodeBadInput', `Message length to be signed is not 32 bytes (got ${toSign.length})`);
    }
    if (typeof pubkey !== 'string') throw litError('NodeBadInput', 'pubkey is required');
    const pkp = this.deps.pkps.get(pubkey);
    if (!pkp) throw litError('NodeInvalidPKPAddress', `No PKP with public key ${pubkey} on this network`);
    const session = this.verifySession(body.authSig, now, {
      resourcePrefix: PKP_PREFIX,
      resourceId: pkp.tokenId.replace(/^0x/, '').toLowerCase(),
      ability: PKP_SIGNING,
    });
    const digest = Uint8Array.from(toSign as number[]);
    const share = this.pkpShare(pkp.publicKey, session, digest);
    const quoted = (v: string) => JSON.stringify(v);
    const digestHex = Buffer.from(digest).toString('hex');
    return {
      success: true,
      signedData: toSign,
      signatureShare: {
        digest: quoted(digestHex),
        result: 'success',
        share_index: this.share.index,
        peer_id: this.chainAddress,
        big_r: quoted(share.bigR),
        public_key: quoted(share.publicKey),
        sig_type: 'K256',
        signature_share: quoted(share.share),
      },
    };
  }

  /**
   * The address whose conditions a Lit Action checks: the wallet of an `authSig` it passes (a
   * wallet-signed SIWE auth sig, checked as an EthWallet auth method is), else the owner of the
   * session that runs it (`authSig` absent or null, as Lit's docs have `decryptAndCombine` pass it).
   */
  private conditionUser(authSig: unknown, sessionOwner: string | undefined): string {
    if (authSig !== undefined && authSig !== null) return verifyEthWalletAccessToken(authSig, this.now());
    if (!sessionOwner) {
      throw litError(
        'NodeInvalidAuthSig',
        'checkConditions needs an authSig here: no session runs this Lit Action',
      );
    }
    return sessionOwner;
  }

  /**
   * `Lit.Actions.checkConditions({ conditions, authSig?, chain })`: evaluates the access control
   * conditions (the forms decrypt evaluates: `:userAddress` with `=` / `!=`, `and` / `or`, either
   * kind — unified ones carry `conditionType`) for the caller, and answers true or false.
   */
  private actionCheckConditions(req: CheckConditionsRequest, sessionOwner: string | undefined): boolean {
    const kind: ConditionKind = isUnified(req.conditions)
      ? 'unifiedAccessControlConditions'
      : 'accessControlConditions';
    const conditions = canonicalizeConditions(kind, req.conditions);
    return evaluateConditions(conditions, { userAddress: this.conditionUser(req.authSig, sessionOwner) });
  }

  /**
   * `Lit.Actions.decryptAndCombine({ accessControlConditions, ciphertext, dataToEncryptHash,
   * chain, authSig })`: what decrypt does, inside the action — the conditions must hold for the
   * caller (the session owner for `authSig: null`), then the network's shares of the identity
   * `lit-accesscontrolcondition://<hash of conditions>/<dataToEncryptHash>` are combined (the
   * SDK's own wasm `blsCombine`) and decrypt the ciphertext (`blsDecrypt`), answering the
   * plaintext as UTF-8 text. Refusals carry decrypt's codes.
   */
  private async actionDecryptAndCombine(
    req: DecryptAndCombineRequest,
    sessionOwner: string,
  ): Promise<string> {
    const kind: ConditionKind = isUnified(req.accessControlConditions)
      ? 'unifiedAccessControlConditions'
      : 'accessControlConditions';
    const conditions = canonicalizeConditions(kind, req.accessControlConditions);
    const { dataToEncryptHash, ciphertext } = req;
    if (typeof dataToEncryptHash !== 'string' || !/^[0-9a-f]{64}$/i.test(dataToEncryptHash)) {
      throw litError('NodeBadInput', 'dataToEncryptHash must be 64 hex digits');
    }
    if (typeof ciphertext !== 'string' || !ciphertext) {
      throw litError('NodeBadInput', 'ciphertext must be the base64 ciphertext encrypt returned');
    }
    const userAddress = this.conditionUser(req.authSig, sessionOwner);
    if (!evaluateConditions(conditions, { userAddress })) {
      throw litError(
        'NodeAccessControlConditionsReturnedNotAuthorized',
        `The access control condition check returned that ${userAddress} is not permitted to access this content`,
      );
    }
    const identity = new TextEncoder().encode(
      `${ACC_PREFIX}://${hashConditions(conditions)}/${dataToEncryptHash}`,
    );
    const shares = this.deps.networkShares?.() ?? [this.share];
    try {
      const signature = await blsCombine(
        'Bls12381G2',
        shares.map((share) => Buffer.from(signShare(share, identity), 'hex')),
      );
      const plaintext = await blsDecrypt('Bls12381G2', Buffer.from(ciphertext, 'base64'), signature);
      return new TextDecoder().decode(plaintext);
    } catch (e) {
      throw litError(
        'NodeBadInput',
        'decryptAndCombine: the ciphertext does not decrypt under these conditions',
        [String((e as Error)?.message ?? e)],
      );
    }
  }

  /**
   * This node's ECDSA share of `digest` signed by a PKP, after Lit's `check_pkp_auth` (pkp-auth.ts):
   * the session's address is a permitted address, or the auth context the nodes signed into a PKP
   * session names an auth method or action that is permitted now, or the running action
   * (`signEcdsa` inside executeJs) is permitted — pkpSign's rule, also a Lit Action's `signEcdsa`.
   */
  private pkpShare(publicKey: string, session: VerifiedSession, digest: Uint8Array, runningAction?: string) {
    const pkp = this.deps.pkps.get(publicKey);
    if (!pkp) throw litError('NodeInvalidPKPAddress', `No PKP with public key ${publicKey} on this network`);
    const authorised = checkPkpAuth(this.deps.pkps, pkp.publicKey, {
      context: resolvedAuthContextOf(session.capability.signedMessage),
      actionIpfsId: runningAction,
      sessionAddress: session.userAddress,
    });
    if (!authorised) {
      throw litError(
        'NodePKPNotAuthorized',
        `Neither you nor this Lit Action are authorized to sign using this PKP: ${pkp.publicKey}`,
      );
    }
    const secretKey = this.deps.pkps.secretKey(pkp.publicKey);
    if (!secretKey) {
      throw litError('NodeSystemFault', `the devnet holds no key share for PKP ${pkp.publicKey}`);
    }
    const participants = this.deps.signingParticipants?.() ?? [this.index];
    if (!participants.includes(this.index)) {
      throw litError('NodeNotAuthorized', 'this node is not in the current validator set');
    }
    return ecdsaShare(secretKey, digest, this.index, participants);
  }

  /**
   * `executeJs` (SDK 7.4.0: POST `/web/execute/v1` with `{code: <base64>, ipfsId?, jsParams,
   * authSig, sessionSigs, …}`). Like Lit's node, it derives the action's IPFS id (the CID v0 of
   * the decoded code, what the SDK's `getIpfsId` computes) and requires the session sig to grant
   * `lit-action-execution` on `lit-litaction://<that id>` or `lit-litaction://*`; then runs the
   * action (lit-action-runner.ts) and answers Lit's execute shape `{success, signedData,
   * decryptedData, claimData, response, logs}`, where `signedData[sigName]` is this node's share
   * of each `signEcdsa` in the form the SDK's `getSignatures` combines. `requestId` (the SDK's
   * `X-Request-Id`, the same at every node) lets the nodes' runs share `Lit.Actions.runOnce`.
   */
  private async executeJs(
    body: Record<string, unknown>,
    requestId: string,
  ): Promise<Record<string, unknown>> {
    const now = this.now();
    const { code, ipfsId, jsParams } = body;
    const given = (v: unknown) => typeof v === 'string' && v !== '';
    if (!given(code) && !given(ipfsId))
      throw litError('NodeBadInput', 'executeJs needs code (base64) or ipfsId');
    const { source, actionId } = this.actionSource(code, ipfsId);
    const params = jsParamsOf(jsParams);
    const session = this.verifySession(body.authSig, now, {
      resourcePrefix: LIT_ACTION_PREFIX,
      resourceId: actionId,
      ability: LIT_ACTION_EXECUTION,
    });
    const quoted = (v: string) => JSON.stringify(v);
    const result = await runLitAction(source, {
      pool: this.deps.litActionPool,
      requestId,
      jsParams: params,
      auth: {
        actionIpfsIds: [actionId],
        authMethodContexts: [],
        authSigAddress: session.userAddress,
        resources: [],
        customAuthResource: '',
      },
      timeoutMs: this.deps.litActionTimeoutMs ?? DEFAULT_LIT_ACTION_TIMEOUT_MS,
      rpcUrl: () => this.deps.rpcUrl?.(),
      signEcdsa: ({ toSign, publicKey, sigName }): ActionSignatureShare => {
        if (toSign.length !== 32) {
          throw litError(
            'NodeBadInput',
            `Message length to be signed is not 32 bytes (got ${toSign.length})`,
          );
        }
        const share = this.pkpShare(publicKey, session, toSign, actionId);
        return {
          sigType: 'K256',
          signatureShare: quoted(share.share),
          shareIndex: this.share.index,
          bigR: quoted(share.bigR),
          publicKey: quoted(share.publicKey),
          dataSigned: quoted(Buffer.from(toSign).toString('hex')),
          sigName,
        };
      },
      checkConditions: (req) => this.actionCheckConditions(req, session.userAddress),
      decryptAndCombine: (req) => this.actionDecryptAndCombine(req, session.userAddress),
    });
    return {
      success: true,
      signedData: result.signedData,
      decryptedData: {},
      claimData: {},
      response: result.response,
      logs: result.logs,
    };
  }
}
