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
  private readonly handshakeTimeoutMs: number;
  private readonly reprobeIntervalMs: number;
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
      entry.replacing = this.connect(fresh, 'reconnect')
        .then(() => {
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
        .catch(() => this.retire(fresh))
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

  /** Disconnects every client (worker shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      all.map(async (e) => {
        e.closing = true;
        await e.connecting?.catch(() => undefined);
        await disposeLitClient(e.client);
      }),
    );
  }

  networks(): string[] {
    return [...this.entries.keys()];
  }

  private createEntry(network: string): Entry {
    const target = this.opts.resolveNetwork(network);
    const client = trackStakingListeners(
      this.opts.createClient
        ? this.opts.createClient(target.clientConfig)
        : new LitNodeClientNodeJs(target.clientConfig),
    );
    if (!this.opts.recheckOwnAuthSigs) skipRecheckOfOwnAuthSigs(client);
    target.prepare?.(client);
    const entry: Entry = {
      target,
      client,
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
      entry.connecting = entry.client
        .connect()
        .then(() => {
          entry.healthy = true;
          // A client replaced while it was re-probing no longer speaks for the network.
          if (!entry.retired && !entry.closing) this.recordNodes(entry, reason);
        })
        .finally(() => {
          entry.connecting = undefined;
          entry.connectingFor = undefined;
        });
    }
    await entry.connecting;
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
    entry.closing = true;
    void disposeLitClient(entry.client);
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

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}
