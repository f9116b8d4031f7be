/**
 * One connected `LitNodeClient` per Lit network per worker process, shared by every mint.
 * Connecting costs a contract read plus a handshake with every node; minting with a connected
 * client costs one SIWE signature (EOA) or one round trip to the nodes (PKP). So the pool connects
 * once, reuses the client, reconnects when the SDK reports a disconnection or a mint hits a
 * network-level error, re-probes missing nodes now and then (sigs only cover nodes that answered),
 * and announces node-set changes so the worker can have every agent re-sign.
 */
import { EventEmitter } from 'node:events';
import { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import type { LitNodeClientConfig } from '@lit-protocol/types';
import { TypedActivityError } from './error-classification';
import { disposeLitClient, trackStakingListeners } from './lit-client-lifecycle';
import {
  BoundedJsonRpcProvider,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_RPC_TIMEOUT_MS,
  DISPOSE_TIMEOUT_MS,
  installBoundedNodeRequests,
  NODE_MAX_RESPONSE_BYTES,
  RPC_MAX_RESPONSE_BYTES,
  withDeadline,
} from './network-bounds';
import { DEFAULT_NONCE_OPTIONS, fetchLatestBlock } from './nonce-source';
import { skipRecheckOfOwnAuthSigs } from './own-auth-sig';
import { type HandshakeReport, installResilientHandshake } from './resilient-handshake';
import { silenceExpectedSdkNoise } from './sdk-console-noise';

/** How to reach one Lit network. */
export interface LitNetworkTarget {
  name: string;
  clientConfig: LitNodeClientConfig;
  /** Where the latest blockhash comes from (`{blockhash, timestamp}`). */
  blockIndexerUrl: string;
  /** Applied to a new client before it connects (custom networks point it at their indexer). */
  prepare?: (client: LitNodeClientNodeJs) => void;
}

export interface PooledClient {
  network: string;
  client: LitNodeClientNodeJs;
  /** Nodes that answered the last handshake: the sigs minted now cover exactly these. */
  nodeUrls: string[];
  /** All nodes of the current validator set. */
  allNodeUrls: string[];
  minNodeCount: number;
  epoch: number;
  blockIndexerUrl: string;
  /**
   * Hands the client back when the mint is done. A client that was replaced meanwhile (see
   * `invalidate`) is disconnected only once the last mint using it has released it.
   */
  release(): void;
}

export interface LitClientPoolOptions {
  resolveNetwork: (name: string) => LitNetworkTarget;
  /** Per-node handshake timeout. */
  handshakeTimeoutMs?: number;
  /**
   * How often to retry the handshake with nodes that did not answer (default 10 s). Only a client
   * missing nodes is probed, so a healthy network costs nothing; mints never wait for a probe.
   */
  reprobeIntervalMs?: number;
  /** How often to try replacing a client after network-level failures (default 5 s). */
  replaceRetryMs?: number;
  /**
   * Deadline of a whole `connect()` (RPC reads and handshake; default 30 s). A client that misses
   * it is disposed (its requests aborted) and the next mint connects a new one.
   */
  connectTimeoutMs?: number;
  /** Deadline of one JSON-RPC request of a custom network's Staking contract (default 10 s). */
  rpcTimeoutMs?: number;
  /** Deadline of one request to a Lit node other than the handshake (default 30 s, the mint's). */
  nodeRequestTimeoutMs?: number;
  /** How long `close()` waits for clients to disconnect (default 5 s); their requests are aborted first. */
  closeTimeoutMs?: number;
  /**
   * Keep the SDK's re-check of the wallet signature our own callback has just made (the stock
   * behaviour, which benchmarks compare against); by default it is skipped (own-auth-sig.ts).
   */
  recheckOwnAuthSigs?: boolean;
  /** Makes the client; tests inject counting factories. */
  createClient?: (config: LitNodeClientConfig) => LitNodeClientNodeJs;
  now?: () => number;
}

export interface NodeSetChange {
  network: string;
  before: string[];
  after: string[];
  reason: 'reconnect' | 'epoch' | 'reprobe';
}

interface Entry {
  target: LitNetworkTarget;
  client: LitNodeClientNodeJs;
  /** Aborts every network request of this client (disposal). */
  abort: AbortController;
  connecting?: Promise<void>;
  /** Why `connecting` runs: a re-probe runs beside mints on a client that keeps serving. */
  connectingFor?: NodeSetChange['reason'];
  healthy: boolean;
  closing: boolean;
  lastProbeAt: number;
  lastReport?: HandshakeReport;
  nodeUrls: string[];
  /** Mints holding this client now. */
  inUse: number;
  /** Replaced by a new client: disconnect as soon as `inUse` drops to 0. */
  retired: boolean;
  /** A mint failed at the network level on this client: replace it when a new one can connect. */
  suspect: boolean;
  /** A new client connecting to take this one's place. */
  replacing?: Promise<void>;
  lastReplaceAttemptAt: number;
}

/** How often a suspect client's replacement is attempted while the network refuses a new connection. */
const DEFAULT_REPLACE_RETRY_MS = 5_000;
/** A node that comes back is in the sigs within about this long plus the rotation spread. */
const DEFAULT_REPROBE_INTERVAL_MS = 10_000;

/** A retired client still in use is disconnected after this anyway (mints time out long before). */
const RETIRED_CLIENT_GRACE_MS = 120_000;

interface PoolEvents {
  nodeSetChanged: [NodeSetChange];
  /** A suspect client was replaced by one that connected: the network answers again. */
  recovered: [{ network: string; nodeUrls: string[] }];
  connected: [{ network: string; nodeUrls: string[]; failed: number }];
}

export class LitClientPool extends EventEmitter<PoolEvents> {
  private readonly entries = new Map<string, Entry>();
  /** Clients connecting to replace a suspect one (not in `entries` yet): closed with the pool. */
  private readonly replacements = new Set<Entry>();
  private readonly handshakeTimeoutMs: number;
  private readonly reprobeIntervalMs: number;
  private readonly connectTimeoutMs: number;
  private readonly now: () => number;
  private closed = false;
  private probeTimer?: NodeJS.Timeout;
  /** Number of `connect()` calls made; the benchmarks and tests read it. */
  connects = 0;

  constructor(private readonly opts: LitClientPoolOptions) {
    super();
    silenceExpectedSdkNoise();
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 5_000;
    this.reprobeIntervalMs = opts.reprobeIntervalMs ?? DEFAULT_REPROBE_INTERVAL_MS;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.now = opts.now ?? Date.now;
  }

  /** A connected client for `network`, connecting (once, shared by concurrent callers) if needed. */
  async acquire(network: string): Promise<PooledClient> {
    if (this.closed) throw new TypedActivityError('NetworkError', 'the Lit client pool is shut down');
    let entry = this.entries.get(network);
    if (!entry) {
      entry = this.createEntry(network);
      this.entries.set(network, entry);
    }
    if (!entry.healthy) {
      await this.connect(entry, 'reconnect');
    } else if (entry.suspect) {
      entry = await this.replace(entry);
    } else if (this.shouldReprobe(entry)) {
      // Missing nodes may be back. The mint does not wait for the probe: a node that still hangs
      // would hold it up to the handshake timeout, and the SDK keeps serving the nodes it has until
      // a handshake completes (it swaps the node set in at the end). A failed probe changes nothing.
      void this.connect(entry, 'reprobe').catch(() => undefined);
    }
    return this.snapshot(entry);
  }

  /**
   * After a network-level failure: the next `acquire` connects a new client to take this one's
   * place (make before break). While the network refuses a new connection (too few nodes answer
   * the handshake) the old client keeps serving: an EOA mint needs no node once connected, and its
   * sigs work as soon as the nodes are back. Mints still running on a replaced client finish on it
   * (disconnecting it under them would fail every one of them for one bad round trip); it is
   * disconnected when the last of them releases it.
   */
  invalidate(network: string): void {
    const entry = this.entries.get(network);
    // A failure while the client (re)connects says nothing new, except during a re-probe: that runs
    // beside the mints on the serving client, and their failures count as any others.
    if (!entry?.healthy) return;
    if (entry.connecting && entry.connectingFor !== 'reprobe') return;
    entry.suspect = true;
  }

  /** Connects a new client for a suspect one; returns the entry to use now (old one if that failed). */
  private async replace(entry: Entry): Promise<Entry> {
    const network = entry.target.name;
    const retryMs = this.opts.replaceRetryMs ?? DEFAULT_REPLACE_RETRY_MS;
    if (!entry.replacing && this.now() - entry.lastReplaceAttemptAt >= retryMs) {
      entry.lastReplaceAttemptAt = this.now();
      const fresh = { ...this.createEntry(network), nodeUrls: entry.nodeUrls };
      this.replacements.add(fresh);
      entry.replacing = this.connect(fresh, 'reconnect')
        .then(() => {
          this.replacements.delete(fresh);
          if (this.closed || this.entries.get(network) !== entry) {
            this.retire(fresh);
            return;
          }
          this.entries.set(network, fresh);
          this.emit('recovered', { network, nodeUrls: [...fresh.nodeUrls] });
          entry.retired = true;
          if (entry.inUse === 0) this.retire(entry);
          else setTimeout(() => this.retire(entry), RETIRED_CLIENT_GRACE_MS).unref();
        })
        .catch(() => {
          this.replacements.delete(fresh);
          this.retire(fresh);
        })
        .finally(() => {
          entry.replacing = undefined;
        });
    }
    await entry.replacing;
    return this.entries.get(network) ?? entry;
  }

  /**
   * Idle agents do not mint for hours, so missing nodes are also re-probed on a timer; a node that
   * comes back then shows up as a node-set change and the worker has the agents re-sign.
   */
  startBackgroundProbe(): void {
    if (this.probeTimer) return;
    this.probeTimer = setInterval(
      () => {
        for (const entry of this.entries.values()) {
          // A suspect client is replaced here too, so the network's recovery is noticed without a mint.
          if (entry.healthy && entry.suspect) void this.replace(entry).catch(() => undefined);
          else if (entry.healthy && !entry.connecting && this.shouldReprobe(entry)) {
            void this.connect(entry, 'reprobe').catch(() => undefined);
          }
        }
      },
      Math.max(1_000, Math.floor(this.reprobeIntervalMs / 2)),
    );
    this.probeTimer.unref();
  }

  /**
   * Disconnects every client (worker shutdown). Their requests in flight are aborted first, so a
   * network that never answers cannot hold the shutdown; the whole close is bounded as well.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    const all = [...this.entries.values(), ...this.replacements];
    this.entries.clear();
    this.replacements.clear();
    const closeTimeoutMs = this.opts.closeTimeoutMs ?? DISPOSE_TIMEOUT_MS;
    await withDeadline(
      Promise.all(all.map((e) => this.dispose(e, closeTimeoutMs))).then(() => undefined),
      closeTimeoutMs,
      () => new Error(`Lit clients did not disconnect within ${closeTimeoutMs} ms`),
    ).catch(() => undefined);
  }

  /** Ends a client for good: aborts its requests, then disconnects it (bounded). */
  private async dispose(entry: Entry, waitMs = DISPOSE_TIMEOUT_MS): Promise<void> {
    entry.closing = true;
    entry.abort.abort();
    await disposeLitClient(entry.client, waitMs);
  }

  networks(): string[] {
    return [...this.entries.keys()];
  }

  private createEntry(network: string): Entry {
    const target = this.opts.resolveNetwork(network);
    const abort = new AbortController();
    const clientConfig = withBoundedRpc(target.clientConfig, {
      timeoutMs: this.opts.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS,
      maxBytes: RPC_MAX_RESPONSE_BYTES,
      signal: abort.signal,
    });
    const client = trackStakingListeners(
      this.opts.createClient ? this.opts.createClient(clientConfig) : new LitNodeClientNodeJs(clientConfig),
    );
    if (!this.opts.recheckOwnAuthSigs) skipRecheckOfOwnAuthSigs(client);
    target.prepare?.(client);
    installBoundedNodeRequests(client, {
      handshakeTimeoutMs: this.handshakeTimeoutMs,
      timeoutMs: this.opts.nodeRequestTimeoutMs ?? DEFAULT_NODE_REQUEST_TIMEOUT_MS,
      maxBytes: NODE_MAX_RESPONSE_BYTES,
      signal: abort.signal,
    });
    boundSdkBlockhashSync(client, abort.signal);
    const entry: Entry = {
      target,
      client,
      abort,
      healthy: false,
      closing: false,
      lastProbeAt: 0,
      nodeUrls: [],
      inUse: 0,
      retired: false,
      suspect: false,
      lastReplaceAttemptAt: 0,
    };
    installResilientHandshake(client, this.handshakeTimeoutMs, (report) => {
      entry.lastReport = report;
      entry.lastProbeAt = this.now();
    });
    client.on('disconnected', () => {
      if (!entry.closing) entry.healthy = false;
    });
    // The SDK reconnects by itself when the staking contract announces a new validator set.
    client.on('connected', () => {
      if (!entry.connecting && !entry.closing) this.recordNodes(entry, 'epoch');
    });
    return entry;
  }

  private async connect(entry: Entry, reason: NodeSetChange['reason']): Promise<void> {
    if (!entry.connecting) {
      this.connects++;
      entry.connectingFor = reason;
      const ms = this.connectTimeoutMs;
      let missedDeadline = false;
      entry.connecting = withDeadline(entry.client.connect(), ms, () => {
        missedDeadline = true;
        return connectDeadlineError(entry, ms);
      })
        .then(() => {
          entry.healthy = true;
          // A client replaced while it was re-probing no longer speaks for the network.
          if (!entry.retired && !entry.closing) this.recordNodes(entry, reason);
        })
        .catch((err) => {
          // A client that never connected is given up: its requests are aborted and the next mint
          // connects a new one. A serving client whose re-probe hangs keeps serving (its own
          // request deadlines end that connect).
          if (missedDeadline && !entry.healthy) this.abandon(entry);
          throw err;
        })
        .finally(() => {
          entry.connecting = undefined;
          entry.connectingFor = undefined;
        });
    }
    await entry.connecting;
  }

  /** A client that missed its connect deadline: dispose it and forget it. */
  private abandon(entry: Entry): void {
    const network = entry.target.name;
    if (this.entries.get(network) === entry) this.entries.delete(network);
    if (!entry.closing) void this.dispose(entry);
  }

  private recordNodes(entry: Entry, reason: NodeSetChange['reason']): void {
    const after = [...entry.client.connectedNodes];
    const before = entry.nodeUrls;
    entry.nodeUrls = after;
    this.emit('connected', {
      network: entry.target.name,
      nodeUrls: after,
      failed: entry.lastReport?.failed.length ?? 0,
    });
    if (before.length > 0 && !sameSet(before, after)) {
      this.emit('nodeSetChanged', {
        network: entry.target.name,
        before,
        after,
        reason,
      } satisfies NodeSetChange);
    }
  }

  private shouldReprobe(entry: Entry): boolean {
    const all = entry.client.config.bootstrapUrls ?? [];
    return entry.nodeUrls.length < all.length && this.now() - entry.lastProbeAt >= this.reprobeIntervalMs;
  }

  private retire(entry: Entry): void {
    if (entry.closing) return;
    void this.dispose(entry);
  }

  private snapshot(entry: Entry): PooledClient {
    // epoch number is only exposed through a getter.
    const core = entry.client as any;
    entry.inUse++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        entry.inUse--;
        if (entry.retired && entry.inUse === 0) this.retire(entry);
      },
      network: entry.target.name,
      client: entry.client,
      nodeUrls: [...entry.client.connectedNodes],
      allNodeUrls: [...(entry.client.config.bootstrapUrls ?? [])],
      minNodeCount: entry.client.config.minNodeCount ?? 0,
      epoch: Number(core.currentEpochNumber ?? 0),
      blockIndexerUrl: entry.target.blockIndexerUrl,
    };
  }
}

/** How long the SDK keeps a blockhash before it fetches a new one (its BLOCKHASH_SYNC_INTERVAL). */
const SDK_BLOCKHASH_VALIDITY_MS = 30_000;

/**
 * The mint hands the SDK a checked blockhash before every signing (mint-session-sigs.ts), so the
 * SDK's own refresh should never run; should it, it goes through the bounded block-indexer request
 * instead of the SDK's unbounded fetch and its fallback to public RPCs (60 s each).
 */
function boundSdkBlockhashSync(client: LitNodeClientNodeJs, signal: AbortSignal): void {
  // the SDK's blockhash cache is private.
  const core = client as any;
  core._syncBlockhash = async () => {
    const at: number | null = core.lastBlockHashRetrieved;
    if (core.latestBlockhash && at && Date.now() - at < SDK_BLOCKHASH_VALIDITY_MS) return;
    const block = await fetchLatestBlock(core._blockHashUrl, { ...DEFAULT_NONCE_OPTIONS, signal });
    core.latestBlockhash = block.blockhash;
    core.lastBlockHashRetrieved = Date.now();
  };
}

/** A node request (signing) never outlives the mint that sent it (the mint timeout's default). */
const DEFAULT_NODE_REQUEST_TIMEOUT_MS = 30_000;

/** Pure: the error of a connect that missed its deadline, naming the network, its RPC and the bound. */
export function connectDeadlineError(entry: { target: LitNetworkTarget }, ms: number): TypedActivityError {
  const { name, clientConfig } = entry.target;
  const rpc = (clientConfig as { rpcUrl?: string }).rpcUrl;
  return new TypedActivityError(
    'NodeTimeout',
    `connecting to Lit network "${name}"${rpc ? ` (RPC ${rpc})` : ''} did not finish within ${ms} ms`,
  );
}

/**
 * Pure: a custom network's client config with the Staking contract read through a bounded
 * provider (the SDK uses `contractContext.provider` when there is one). Built-in networks, whose
 * contracts the SDK looks up itself, keep the SDK's providers: the connect deadline bounds them.
 */
export function withBoundedRpc(
  config: LitNodeClientConfig,
  bounds: { timeoutMs: number; maxBytes: number; signal: AbortSignal },
): LitNodeClientConfig {
  const c = config as LitNodeClientConfig & { rpcUrl?: string; contractContext?: Record<string, unknown> };
  if (!c.rpcUrl || !c.contractContext?.Staking || 'provider' in c.contractContext) return config;
  return {
    ...c,
    contractContext: { ...c.contractContext, provider: new BoundedJsonRpcProvider(c.rpcUrl, bounds) },
  } as LitNodeClientConfig;
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}
