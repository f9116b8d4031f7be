/**
 * Types shared by the workflow, the activities, the client library, the CLI and agents.
 * Everything here crosses Temporal's data converter, so it is plain JSON: no Dates, no classes.
 * Times are ISO-8601 strings, durations are milliseconds.
 */

/** A Lit session signature for one node, exactly as the Lit SDK produces and accepts it. */
export interface NodeSessionSig {
  sig: string;
  derivedVia: string;
  signedMessage: string;
  address: string;
  algo?: string;
}

/** Node URL → sig: the `sessionSigs` argument of every Lit SDK call. */
export type SessionSigsMap = Record<string, NodeSessionSig>;

export type AgentMode = 'eoa' | 'pkp';

/** A resource/ability pair in serialisable form, e.g. `lit-accesscontrolcondition://*` + `access-control-condition-decryption`. */
export interface ResourceAbility {
  /** `<prefix>://<id>`, prefix one of lit-accesscontrolcondition, lit-pkp, lit-litaction, lit-ratelimitincrease. */
  resource: string;
  /** A Lit ability, e.g. `access-control-condition-decryption`, `pkp-signing`, `lit-action-execution`. */
  ability: string;
}

/** When to refresh: at a fraction of the lifetime, or a fixed time before expiry; both jittered. */
export interface RefreshPolicy {
  /** Fraction of the lifetime (0 < f < 1) after issue at which to refresh. Ignored when `renewBeforeMs` is set. */
  fraction: number;
  /** Refresh this long before expiry instead of at `fraction`. */
  renewBeforeMs?: number;
  /** Relative random jitter (0 ≤ j < 0.5) applied to the wait, ±j. */
  jitter: number;
}

export interface CapacityDelegationSpec {
  /** Reference to the key of the capacity credit owner (same forms as `signer`). */
  signer: string;
  /** Capacity credit NFT id; omitted means any of the owner's credits. */
  capacityTokenId?: string;
  /** Lifetime of each delegation auth sig. */
  ttlMs: number;
}

/**
 * Lit Action auth of a PKP's sessions (mode `pkp`): instead of a controller wallet, a Lit Action
 * that is a permitted action of the PKP decides, on every mint, whether the network signs the
 * session (it must call `Lit.Actions.setResponse({ response: "true" })`). Exactly one of `code` /
 * `ipfsId`. Nothing here is secret — it is stored in workflow history like the rest of the spec.
 */
export interface LitActionAuthSpec {
  /** The action's JavaScript source (plain text; the activity base64-encodes it for the SDK). */
  code?: string;
  /** The action's IPFS CID (v0, `Qm…`), for code the Lit nodes fetch from IPFS. */
  ipfsId?: string;
  /** Parameters the action sees as `jsParams`: a JSON object, NOT secret (workflow history). */
  jsParams?: Record<string, unknown>;
}

/**
 * An agent's spec after validation and defaults (the workflow input). It holds no secret:
 * `signer` is a *reference* (`env:NAME` or `file:/path`) resolved only inside the activity.
 */
export interface AgentSpec {
  agentId: string;
  network: string;
  mode: AgentMode;
  /**
   * Key reference of the agent's wallet (mode `eoa`) or of the PKP's controller (mode `pkp`).
   * Optional only with `litAction`; given there, its wallet signature is passed along as an
   * auth method the action sees in `Lit.Auth.authMethodContexts`.
   */
  signer?: string;
  /** Uncompressed secp256k1 public key of the PKP, `0x04…` (mode `pkp` only). */
  pkpPublicKey?: string;
  /** Lit Action auth of the PKP's sessions (mode `pkp` only). */
  litAction?: LitActionAuthSpec;
  resourceAbilityRequests: ResourceAbility[];
  sessionTtlMs: number;
  refresh: RefreshPolicy;
  capacityDelegation?: CapacityDelegationSpec;
  /**
   * Agent-held session key (recommended): the agent's ed25519 session public key, 64 hex digits.
   * With it the keeper keeps only a *capability* for this key fresh (the wallet's SIWE naming
   * `lit:session:<key>`, or the network's signature of it for a PKP) and never per-node sigs: the
   * agent makes those itself with its secret half (`AgentSessionSigner` in the client library).
   * Without it ("delivered" mode) the keeper mints complete session sigs as before.
   */
  sessionPublicKey?: string;
  /** Free-form labels (not secret), shown by `agent status`. */
  labels?: Record<string, string>;
}

/** An auth sig as Lit's SDK and nodes take it (same shape as a per-node session sig). */
export type AuthSigJson = NodeSessionSig;

/**
 * Agent-held mode: what the keeper keeps fresh instead of sigs. It cannot act by itself: the nodes
 * accept it only inside session sigs signed by the secret key of `sessionPublicKey`.
 */
export interface SessionCapability {
  /** The ed25519 session public key the capability names (`lit:session:<key>`), 64 hex digits. */
  sessionPublicKey: string;
  /** The SIWE capability: signed by the agent's wallet (eoa) or by the Lit network for the PKP. */
  authSig: AuthSigJson;
  /** Capacity delegation to pass along in the agent's session sigs, when configured. */
  capacityDelegationAuthSig?: AuthSigJson;
  /** ISO expiry of the capability (the SIWE's Expiration Time). */
  expiresAt: string;
}

export type SessionState = 'pending' | 'fresh' | 'refreshing' | 'degraded' | 'expired' | 'failed';

export interface LastError {
  /** Classified error type, e.g. `NodeSystemFault`, `NotEnoughNodes`, `NodePKPNotAuthorized`. */
  type: string;
  message: string;
  /** ISO time of the failure. */
  at: string;
  /** Consecutive failed attempts so far. */
  attempts: number;
}

/** Answer of the `currentSessionSigs` query and the `rotateNow` update. */
export interface SessionStatus {
  agentId: string;
  network: string;
  state: SessionState;
  /** Increases by one with every successful mint. 0 before the first. */
  generation: number;
  /** Delivered mode: the complete sigs. Always null for an agent-held key (see `capability`). */
  sessionSigs: SessionSigsMap | null;
  /** Agent-held mode: the current capability for the agent's session key (null before the first mint). */
  capability?: SessionCapability | null;
  /**
   * Agent-held mode, after `rotateSessionKey`: the capability of the previous key, served until it
   * expires so an agent in the middle of switching keys keeps working.
   */
  previousCapability?: SessionCapability | null;
  issuedAt: string | null;
  expiresAt: string | null;
  /** When the next refresh is planned (or the next retry, while degraded). */
  refreshAt: string | null;
  nodeUrls: string[];
  lastError?: LastError;
}

export interface RotateRequest {
  reason?: string;
  /** Wait a random delay in [0, spreadMs) before minting, so a fleet does not hit Lit at once. */
  spreadMs?: number;
  /**
   * Rotate only an agent that is in one of these states when the request arrives: a batch chosen
   * by a visibility query (e.g. agents in backoff) must not re-mint for one that recovered since.
   */
  onlyIfStates?: SessionState[];
  /**
   * Rotate only a delivered-mode agent: a node that joins needs per-node sigs from the keeper, but
   * an agent-held agent's capability names no node (the agent signs for the new node itself).
   */
  onlyIfDelivered?: boolean;
}

/** Update `rotateSessionKey` (agent-held mode): move the agent to a new session key pair. */
export interface RotateSessionKeyRequest {
  /** The new ed25519 session public key, 64 hex digits. */
  sessionPublicKey: string;
  reason?: string;
}

/** Input of the mint activity: the spec minus anything the activity does not need. No secrets. */
export type MintRequest = Omit<AgentSpec, 'refresh' | 'labels'> & {
  /** Which generation this mint will become; for logs and metrics. */
  generation: number;
};

/** Output of the mint activity. */
export interface MintResult {
  /** Delivered mode's sigs; `{}` for an agent-held key (then `capability` is set). */
  sessionSigs: SessionSigsMap;
  /** Agent-held mode: the capability for `spec.sessionPublicKey`. */
  capability?: SessionCapability;
  issuedAt: string;
  expiresAt: string;
  nodeUrls: string[];
  /** Lit epoch the nodes were in when the sigs were minted. */
  epoch: number;
  /** Expiry of the capacity delegation auth sig embedded in the sigs, if any. */
  capacityDelegationExpiresAt?: string;
}

/** A rotation asked for (signal `rotate` or update `rotateNow`) and not yet started. */
export interface PendingRotation {
  reason?: string;
  /** ISO time the first of the coalesced requests arrived. */
  requestedAt: string;
  /** ISO time the mint may start: arrival plus the random spread delay. */
  notBefore: string;
}

/**
 * What one run of the session refresh workflow hands to the next on continue-as-new: the current
 * sigs and everything needed to go on exactly where the previous run stopped (no extra mint while
 * the sigs are fresh, the backoff streak, a rotation that arrived but has not been done yet).
 */
export interface CarriedState {
  state: SessionState;
  generation: number;
  sessionSigs: SessionSigsMap | null;
  capability?: SessionCapability | null;
  previousCapability?: SessionCapability | null;
  issuedAt: string | null;
  expiresAt: string | null;
  nodeUrls: string[];
  capacityDelegationExpiresAt?: string;
  /** Next planned mint (refresh, or retry while degraded/expired); null while failed. */
  nextAttemptAt: string | null;
  /** Consecutive failed attempts of the current streak; drives the backoff. 0 when healthy. */
  failedAttempts: number;
  lastError?: LastError;
  pendingRotation?: PendingRotation;
}

/** Tuning of the session refresh workflow; every field has a default. */
export interface SessionRefreshOptions {
  /** Continue-as-new after this many mint attempts in one run (keeps histories short). Default 100. */
  maxMintsPerRun?: number;
}

/** Input of the `sessionRefreshWorkflow` workflow. */
export interface SessionRefreshInput {
  spec: AgentSpec;
  /** Set only by the workflow itself when it continues-as-new. */
  carried?: CarriedState;
  options?: SessionRefreshOptions;
}
