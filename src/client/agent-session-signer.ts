/**
 * `AgentSessionSigner`: an agent's source of the SDK's `sessionSigs` in agent-held mode (issue 20).
 *
 * The agent keeps its session key pair; the keeper keeps only a *capability* for its public key
 * fresh (served by the agent's workflow query as `capability`, or `previousCapability` while the
 * agent moves to a new key). The signer:
 * - gets the capability bound to this key pair from the keeper, with `SessionSigsSource`'s decision
 *   (`decideSessionSigs`): use the cached one while it has `minValidityMs` left, else query, wait
 *   for a first mint or a refresh up to `waitTimeoutMs`, and fail saying why;
 * - checks a capability once (bound to this key, grants the requested resources), not per call;
 * - makes one session sig per node the agent's own connected `LitNodeClient` knows *now*, exactly
 *   as the stock SDK 7.4.0 would, signed with node:crypto's Ed25519 (one key object, built once),
 *   expiring `sigTtlMs` from now (default 5 minutes), never past the capability;
 * - caches them, and makes them again when the node set changes (an epoch that adds a node is
 *   covered by the next call, no re-mint), the capability changes, or they have less than
 *   `minSigValidityMs` left;
 * - never returns sigs whose capability has less than `minValidityMs` left: it throws
 *   `SessionSigsUnavailableError` with the reason (no capability yet, bound to another key,
 *   expired, delivered-mode agent, …).
 *
 * The session secret key never leaves this object (not in errors, not in logs).
 *
 *   // once: session-keeper agent keygen --out agent-1.key; agent start agent-1 … --session-key-file agent-1.key
 *   const signer = new AgentSessionSigner({
 *     agentId: 'agent-1',
 *     sessionKey: readSessionKeyFile('agent-1.key'),
 *     litNodeClient,                                  // the agent's own, connected
 *     fetchStatus: (id) => keeper.querySessionStatus(id),
 *   });
 *   await litNodeClient.decrypt({ ...params, sessionSigs: await signer.getSessionSigs() });
 */
import crypto from 'node:crypto';
import { ed25519PrivateKeyFromSeed } from '../shared/ed25519-der';
import type { ResourceAbility, SessionCapability, SessionSigsMap, SessionStatus } from '../shared/types';
import { SessionSigsUnavailableError } from './errors';
import {
  capabilityFor,
  type SdkResourceRequest,
  sdkResourceRequests,
  sessionSigExpiry,
  sessionSigMessage,
  type VerifiedCapability,
  verifyCapability,
} from './session-capability';
import { type SessionKeyPair, sessionKeyPairFromSeed } from './session-key-file';
import {
  DEFAULT_MIN_VALIDITY_MS,
  DEFAULT_SIGS_POLL_INTERVAL_MS,
  DEFAULT_SIGS_WAIT_TIMEOUT_MS,
  decideSessionSigs,
  type FetchedStatus,
  type SigsDecision,
  type StatusFetcher,
  validFor,
} from './session-sigs-source';

/** What the signer needs of the agent's Lit client (`LitNodeClientNodeJs` / `LitNodeClient`). */
export interface ConnectedLitClient {
  readonly ready: boolean;
  readonly connectedNodes: Iterable<string>;
}

/**
 * What the signer reads from the keeper: the agent's status (its `capability` /
 * `previousCapability`). `fetchStatus` of `SessionSigsSource` fits (`keeper.querySessionStatus`).
 */
export type CapabilityStatus = Pick<
  SessionStatus,
  'state' | 'generation' | 'refreshAt' | 'lastError' | 'capability' | 'previousCapability' | 'sessionSigs'
>;

export interface AgentSessionSignerOptions {
  agentId: string;
  /** The agent's own key pair (e.g. `readSessionKeyFile(path)`). */
  sessionKey: SessionKeyPair;
  /** The agent's connected Lit client: the sigs cover the nodes it is connected to at each call. */
  litNodeClient: ConnectedLitClient;
  /** The agent's status from the keeper, e.g. `(id) => keeper.querySessionStatus(id)`. */
  fetchStatus: StatusFetcher | ((agentId: string) => Promise<CapabilityStatus>);
  /** The resources/abilities the sigs carry; default: everything the capability grants. */
  resourceAbilityRequests?: ResourceAbility[];
  /** Lifetime of each call's per-node sigs. Default 5 minutes (never past the capability). */
  sigTtlMs?: number;
  /** Make the per-node sigs again when they have less than this left. Default 1 minute. */
  minSigValidityMs?: number;
  /** Never use a capability with less than this left. Default 2 minutes. */
  minValidityMs?: number;
  /** How long a call waits for a usable capability (a first mint, a refresh). Default 60 s. */
  waitTimeoutMs?: number;
  /** Query interval while waiting. Default 1 s. */
  pollIntervalMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_SESSION_SIG_TTL_MS = 5 * 60_000;
export const DEFAULT_MIN_SESSION_SIG_VALIDITY_MS = 60_000;

/** What one call returns besides the sigs. */
export interface AgentSessionSigsResult {
  sessionSigs: SessionSigsMap;
  /** The per-node sigs' expiry (ISO). */
  expiresAt: string;
  /** The capability's expiry (ISO). */
  capabilityExpiresAt: string;
  /** The keeper's generation when the capability was read. */
  generation: number;
  nodeUrls: string[];
  /** True when the per-node sigs were not made in this call. */
  fromCache: boolean;
}

/** The status as the sigs decision sees it: the capability bound to this key stands for "sigs". */
export interface CapabilityView {
  fetched: FetchedStatus;
  capability?: SessionCapability;
  /** A reason the keeper's answer cannot serve this key whatever happens next (a fail, not a wait). */
  fatal?: string;
  /** Why no capability bound to this key is there yet (said when waiting runs out). */
  why?: string;
}

const PLACEHOLDER: SessionSigsMap = {};

/** Pure: the keeper's status seen through this key pair. */
export function capabilityView(status: CapabilityStatus, publicKey: string): CapabilityView {
  const capability = capabilityFor(status, publicKey);
  const fetched: FetchedStatus = {
    state: status.state,
    generation: status.generation,
    refreshAt: status.refreshAt,
    lastError: status.lastError,
    sessionSigs: capability ? PLACEHOLDER : null,
    expiresAt: capability?.expiresAt ?? null,
  };
  if (capability) return { fetched, capability };
  if (status.sessionSigs) {
    return {
      fetched,
      fatal:
        'the agent runs in delivered mode (the keeper mints complete sigs, no capability): start it with this key’s public half (`agent start --session-key-file FILE` / spec sessionPublicKey), or use SessionSigsSource',
    };
  }
  const other = status.capability ?? status.previousCapability;
  return {
    fetched,
    why: other
      ? `the keeper's capability is bound to session key ${other.sessionPublicKey.slice(0, 8)}…, not this key ${publicKey.slice(0, 8)}… (rotate the agent's session key to this one, or use the key file the agent was started with)`
      : undefined,
  };
}

/** Pure: the sigs decision for a capability, with its reasons told in the capability's terms. */
export function decideCapability(
  view: CapabilityView | undefined,
  input: Omit<Parameters<typeof decideSessionSigs>[0], 'fetched'>,
): SigsDecision {
  if (view?.fatal) return { action: 'fail', reason: view.fatal };
  const decision = decideSessionSigs({ ...input, fetched: view?.fetched });
  if (decision.action !== 'fail' && decision.action !== 'wait') return decision;
  const explain = (reason: string) =>
    (view?.why && !view.capability ? `${view.why}; ${reason.replace(/^not minted yet /, '')}` : reason)
      .replace(/^not minted yet/, 'no capability minted for this key yet')
      .replace(/current sigs/g, 'capability');
  return decision.action === 'fail'
    ? { action: 'fail', reason: explain(decision.reason) }
    : { ...decision, why: explain(decision.why) };
}

/** Pure: whether cached per-node sigs can serve this call. */
export function sigsStillServe(
  cached: { capabilitySig: string; nodesKey: string; expiresAtMs: number } | undefined,
  now: { capabilitySig: string; nodesKey: string; nowMs: number; minSigValidityMs: number },
): boolean {
  return (
    !!cached &&
    cached.capabilitySig === now.capabilitySig &&
    cached.nodesKey === now.nodesKey &&
    validFor(cached.expiresAtMs, now.nowMs, now.minSigValidityMs)
  );
}

interface HeldCapability extends VerifiedCapability {
  generation: number;
  sdkRequests: SdkResourceRequest[];
}

export class AgentSessionSigner {
  readonly agentId: string;
  readonly sessionPublicKey: string;
  private readonly signingKey: crypto.KeyObject;
  private readonly client: ConnectedLitClient;
  private readonly fetchStatus: (agentId: string) => Promise<CapabilityStatus>;
  private readonly requests?: ResourceAbility[];
  private readonly sigTtlMs: number;
  private readonly minSigValidityMs: number;
  private readonly minValidityMs: number;
  private readonly waitTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private held: HeldCapability | undefined;
  /** Checked capabilities by their signature: a capability is checked once. */
  private readonly checked = new Map<string, VerifiedCapability | { problem: string }>();
  private sigs:
    | { capabilitySig: string; nodesKey: string; expiresAtMs: number; sessionSigs: SessionSigsMap }
    | undefined;
  private inflight: Promise<CapabilityStatus> | undefined;

  constructor(opts: AgentSessionSignerOptions) {
    this.agentId = opts.agentId;
    const pair = opts.sessionKey;
    if (!/^[0-9a-f]{128}$/.test(pair?.secretKey ?? '') || !/^[0-9a-f]{64}$/.test(pair?.publicKey ?? '')) {
      throw new RangeError('sessionKey must be {publicKey: 64 hex, secretKey: 128 hex} (a session key file)');
    }
    const seed = Buffer.from(pair.secretKey.slice(0, 64), 'hex');
    if (sessionKeyPairFromSeed(seed).publicKey !== pair.publicKey) {
      throw new RangeError('sessionKey.publicKey is not the public half of sessionKey.secretKey');
    }
    this.sessionPublicKey = pair.publicKey;
    this.signingKey = ed25519PrivateKeyFromSeed(seed);
    seed.fill(0);
    this.client = opts.litNodeClient;
    this.fetchStatus = opts.fetchStatus as (agentId: string) => Promise<CapabilityStatus>;
    this.requests = opts.resourceAbilityRequests;
    this.sigTtlMs = opts.sigTtlMs ?? DEFAULT_SESSION_SIG_TTL_MS;
    this.minSigValidityMs = opts.minSigValidityMs ?? DEFAULT_MIN_SESSION_SIG_VALIDITY_MS;
    this.minValidityMs = opts.minValidityMs ?? DEFAULT_MIN_VALIDITY_MS;
    this.waitTimeoutMs = opts.waitTimeoutMs ?? DEFAULT_SIGS_WAIT_TIMEOUT_MS;
    this.pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_SIGS_POLL_INTERVAL_MS;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((d) => new Promise((resolve) => setTimeout(resolve, d)));
    if (!(this.sigTtlMs > 0)) throw new RangeError('sigTtlMs must be > 0');
    if (!(this.minSigValidityMs >= 0 && this.minSigValidityMs < this.sigTtlMs)) {
      throw new RangeError('minSigValidityMs must be ≥ 0 and less than sigTtlMs');
    }
  }

  /** Session sigs for the nodes the client is connected to now; pass as `sessionSigs` to the SDK. */
  async getSessionSigs(
    opts: { minValidityMs?: number; waitTimeoutMs?: number } = {},
  ): Promise<SessionSigsMap> {
    return (await this.getWithInfo(opts)).sessionSigs;
  }

  async getWithInfo(
    opts: { minValidityMs?: number; waitTimeoutMs?: number } = {},
  ): Promise<AgentSessionSigsResult> {
    const held = await this.capability(opts);
    if (!this.client.ready) {
      throw new SessionSigsUnavailableError(
        this.agentId,
        'the Lit client is not connected (call `await litNodeClient.connect()` first): session sigs are made for the nodes it is connected to',
      );
    }
    const nodeUrls = [...this.client.connectedNodes].sort();
    if (nodeUrls.length === 0) {
      throw new SessionSigsUnavailableError(this.agentId, 'the Lit client is connected to no node');
    }
    const nowMs = this.now();
    const capabilitySig = held.capability.authSig.sig;
    const nodesKey = nodeUrls.join(' ');
    if (
      sigsStillServe(this.sigs, { capabilitySig, nodesKey, nowMs, minSigValidityMs: this.minSigValidityMs })
    ) {
      return this.result(held, nodeUrls, true);
    }
    const expiresAtMs = sessionSigExpiry(nowMs, held.expiresAtMs, this.sigTtlMs);
    this.sigs = {
      capabilitySig,
      nodesKey,
      expiresAtMs,
      sessionSigs: this.sign(
        held,
        nodeUrls,
        new Date(nowMs).toISOString(),
        new Date(expiresAtMs).toISOString(),
      ),
    };
    return this.result(held, nodeUrls, false);
  }

  /**
   * Per-node sigs made now with the held capability (no cache; for benchmarks and tools). The
   * capability must have been read (`getSessionSigs` once).
   */
  signNow(nodeUrls: readonly string[], expiresAtMs?: number): SessionSigsMap {
    const held = this.held;
    if (!held)
      throw new SessionSigsUnavailableError(
        this.agentId,
        'no capability read yet (call getSessionSigs first)',
      );
    const nowMs = this.now();
    const exp = expiresAtMs ?? sessionSigExpiry(nowMs, held.expiresAtMs, this.sigTtlMs);
    return this.sign(held, nodeUrls, new Date(nowMs).toISOString(), new Date(exp).toISOString());
  }

  /** Forget the capability and sigs (e.g. a node refused them); the next call asks the keeper. */
  invalidate(): void {
    this.held = undefined;
    this.sigs = undefined;
  }

  private result(held: HeldCapability, nodeUrls: string[], fromCache: boolean): AgentSessionSigsResult {
    const sigs = this.sigs!;
    return {
      sessionSigs: sigs.sessionSigs,
      expiresAt: new Date(sigs.expiresAtMs).toISOString(),
      capabilityExpiresAt: new Date(held.expiresAtMs).toISOString(),
      generation: held.generation,
      nodeUrls,
      fromCache,
    };
  }

  private sign(
    held: HeldCapability,
    nodeUrls: readonly string[],
    issuedAt: string,
    expiration: string,
  ): SessionSigsMap {
    const out: SessionSigsMap = {};
    for (const nodeAddress of nodeUrls) {
      const signedMessage = sessionSigMessage({
        sessionPublicKey: this.sessionPublicKey,
        requests: held.sdkRequests,
        capability: held.capability,
        issuedAt,
        expiration,
        nodeAddress,
      });
      out[nodeAddress] = {
        sig: crypto.sign(null, Buffer.from(signedMessage, 'utf8'), this.signingKey).toString('hex'),
        derivedVia: 'litSessionSignViaNacl',
        signedMessage,
        address: this.sessionPublicKey,
        algo: 'ed25519',
      };
    }
    return out;
  }

  /** The capability bound to this key, valid for at least the minimum validity, checked once. */
  private async capability(opts: {
    minValidityMs?: number;
    waitTimeoutMs?: number;
  }): Promise<HeldCapability> {
    const minValidityMs = opts.minValidityMs ?? this.minValidityMs;
    const startedMs = this.now();
    const deadlineMs = startedMs + (opts.waitTimeoutMs ?? this.waitTimeoutMs);
    let view: CapabilityView | undefined;
    let fetchedHeld: HeldCapability | undefined;
    for (;;) {
      const decision = decideCapability(view, {
        nowMs: this.now(),
        minValidityMs,
        cached: this.held
          ? { sessionSigs: PLACEHOLDER, expiresAtMs: this.held.expiresAtMs, generation: 0 }
          : undefined,
        startedMs,
        deadlineMs,
        pollIntervalMs: this.pollIntervalMs,
      });
      switch (decision.action) {
        case 'use-cached':
          return this.held!;
        case 'use-fetched':
          return fetchedHeld!;
        case 'fetch': {
          const status = await this.fetchShared();
          view = capabilityView(status, this.sessionPublicKey);
          fetchedHeld = undefined;
          if (view.capability) {
            const checked = this.check(view.capability);
            if ('problem' in checked) {
              view = { ...view, capability: undefined, fatal: checked.problem };
            } else {
              fetchedHeld = {
                ...checked,
                generation: status.generation,
                sdkRequests: sdkResourceRequests(checked.requests),
              };
              // The stated expiry the decision reads is the checked one (the SIWE's may be earlier).
              view.fetched.expiresAt = new Date(checked.expiresAtMs).toISOString();
              // The keeper's current capability replaces the held one (after a rotation it is the one to use).
              this.held = fetchedHeld;
            }
          }
          break;
        }
        case 'wait':
          await this.sleep(decision.delayMs);
          view = undefined;
          // Ask the keeper again rather than reuse a cached capability that is too short.
          if (this.held && !validFor(this.held.expiresAtMs, this.now(), minValidityMs)) this.held = undefined;
          break;
        case 'fail':
          throw new SessionSigsUnavailableError(this.agentId, decision.reason);
      }
      // Nothing fetched yet but a cached capability that is too short: fetch (decideSessionSigs asks).
    }
  }

  private check(capability: SessionCapability): VerifiedCapability | { problem: string } {
    const key = capability.authSig.sig;
    let checked = this.checked.get(key);
    if (!checked) {
      checked = verifyCapability(capability, this.sessionPublicKey, this.requests);
      if (this.checked.size >= 8) this.checked.clear();
      this.checked.set(key, checked);
    }
    return checked;
  }

  private fetchShared(): Promise<CapabilityStatus> {
    if (!this.inflight) {
      this.inflight = this.fetchStatus(this.agentId).finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }
}
