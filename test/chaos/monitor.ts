/**
 * The chaos suite's continuous check: every second, for every agent, read its status (the
 * `currentSessionSigs` query, as an agent's SessionSigsSource does; when Temporal does not answer,
 * the last answer, as the source's cache would) and judge its current sigs by a real decrypt on the
 * devnet: new sigs at once (and all sigs again whenever a fault changes), unchanged ones again every
 * few seconds (a decrypt costs ~140 ms of CPU in this process, which also runs the devnet's nodes:
 * one per agent per second would starve them).
 * Each observation becomes a `Sample`; the metrics module turns them into numbers.
 *
 * The decrypt goes to the validators the sigs cover: sigs minted while a node was unreachable
 * (or before a node joined) cover fewer nodes, and the stock SDK refuses to send a request to a
 * node it has no sig for. Such samples also record the uncovered nodes, reported separately.
 */
import fs from 'node:fs';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import { installResilientHandshake } from '../../src/lit/resilient-handshake';
import type { SessionSigsMap, SessionStatus } from '../../src/shared/types';
import { decryptWith, encryptFor, newClient, type SessionSigs } from '../devnet/helpers';
import type { ChaosEnv } from './harness';
import type { Sample } from './metrics';

const DECRYPT_TIMEOUT_MS = 10_000;
const TIMED_OUT = `decrypt failed: no answer within ${DECRYPT_TIMEOUT_MS} ms`;

class DecryptTimeout extends Error {}

interface Observed {
  sample: Sample;
  /** Present when the agent has unexpired sigs to check. */
  sigs?: SessionSigsMap;
  /** Identifies what a decrypt verified: the sigs, the nodes they cover, the validators and the faults. */
  key?: string;
  queryError?: string;
}

type Checkable = Observed & { sigs: SessionSigsMap; key: string };

type Encrypted = Awaited<ReturnType<typeof encryptFor>>;

/** What the monitor needs of a suite's environment (the chaos suite's, or the cluster suite's). */
export type MonitoredFleet = Pick<ChaosEnv, 'dir' | 'agents' | 'keeper'> & {
  /** The devnet in this process (chaos suite) or in its own (cluster suite): what the monitor reads. */
  devnet: Pick<ChaosEnv['devnet'], 'nodeUrls' | 'threshold' | 'networkConfig' | 'stats'>;
};

export class Monitor {
  readonly samples: Sample[] = [];
  /** Set by a scenario while it keeps the network from serving anyone (e.g. 2 of 3 nodes down). */
  networkImpaired = false;
  private readonly last = new Map<string, SessionStatus>();
  /** The last decrypt per agent: which sigs (see `Observed.key`), when, and the outcome. */
  private readonly verified = new Map<
    string,
    { key: string; at: number; ok: boolean; error?: string; expiresAt: number | null }
  >();
  private readonly encrypted = new Map<string, Encrypted>();
  /** Decrypts that got no answer in time and were not taken as a verdict (see `timeoutIsInconclusive`). */
  inconclusiveChecks = 0;
  private readonly clients = new Map<string, Promise<LitNodeClientNodeJs>>();
  private running?: Promise<void>;
  private stopped = false;
  private readonly out: fs.WriteStream;
  private readonly consoleLog = console.log;

  constructor(
    private readonly env: MonitoredFleet,
    private readonly intervalMs = 1_000,
    /** Unchanged sigs are decrypted again at least this often. */
    private readonly recheckMs = 3_000,
    private readonly maxDecryptsPerTick = 2,
    /**
     * New sigs decrypted per tick (default: all at once). A large fleet rotating at once would
     * otherwise queue hundreds of decrypts in one tick; the rest wait for the next ticks, and until
     * then an agent is judged by its previous sigs, while those were valid and unexpired (they are
     * what its SessionSigsSource would still hold).
     */
    private readonly maxNewDecryptsPerTick = Number.POSITIVE_INFINITY,
    /**
     * A decrypt that got no answer within DECRYPT_TIMEOUT_MS says nothing about the sigs when the
     * suite injects no fault into the Lit network (the cluster suite): the devnet shares two cores
     * with this process, the workers, Temporal and PostgreSQL, and under a 200-agent burst it can
     * answer late. Such a check is then no verdict: the sigs stay unchecked, are tried again
     * first at the next tick, and meanwhile the agent is judged as for any unchecked sigs (by its
     * previous, verified and unexpired ones). The chaos suite hangs nodes on purpose, so there a
     * timeout stays a failed check.
     */
    private readonly timeoutIsInconclusive = false,
  ) {
    this.out = fs.createWriteStream(`${env.dir}/samples.jsonl`, { flags: 'a' });
  }

  /** Encrypts one secret per agent (locally, with the network key) and starts ticking. */
  async start(): Promise<void> {
    // The SDK prints every decryption's signature with console.log; keep the test output readable.
    const log = this.consoleLog;
    console.log = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('signature from encrypt op')) return;
      log(...args);
    };
    const base = await this.clientFor(this.env.devnet.nodeUrls);
    for (const a of this.env.agents) {
      this.encrypted.set(a.agentId, await encryptFor(base, a.address, `secret of ${a.agentId}`));
    }
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    console.log = this.consoleLog;
    this.out.end();
    for (const c of this.clients.values()) {
      await c.then((client) => disposeLitClient(client)).catch(() => undefined);
    }
  }

  /** Samples of one agent, or all, in [from, to]. */
  window(from: number, to: number = Number.POSITIVE_INFINITY): Sample[] {
    return this.samples.filter((s) => s.t >= from && s.t <= to);
  }

  /** The latest sample of each agent. */
  latest(): Map<string, Sample> {
    const m = new Map<string, Sample>();
    for (const s of this.samples) m.set(s.agentId, s);
    return m;
  }

  /** Resolves once every agent has a sample taken after `since` that satisfies `ok`. */
  async waitForAll(
    what: string,
    ok: (s: Sample) => boolean,
    opts: { since?: number; timeoutMs: number; signal?: AbortSignal },
  ): Promise<void> {
    const since = opts.since ?? Date.now();
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      opts.signal?.throwIfAborted();
      const latest = this.latest();
      const pending = this.env.agents.filter((a) => {
        const s = latest.get(a.agentId);
        return !s || s.t < since || !ok(s);
      });
      if (pending.length === 0) return;
      if (Date.now() > deadline) {
        const detail = pending
          .map((a) => {
            const s = latest.get(a.agentId);
            return `${a.agentId}: ${s ? `${s.state} gen ${s.generation} valid=${s.valid}${s.error ? ` (${s.error})` : ''}${s.lastError ? ` lastError ${s.lastError.type}` : ''}` : 'no sample'}`;
          })
          .join('; ');
        throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}: ${detail}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const started = Date.now();
      await this.tick();
      // The monitor's cadence, not a synchronisation: the next tick starts one interval after this one.
      const wait = this.intervalMs - (Date.now() - started);
      if (wait > 0 && !this.stopped) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /**
   * One sample per agent. Statuses are read for every agent; decrypts (about 140 ms of CPU each,
   * mostly the devnet's BLS shares) go first to sigs never decrypted yet, then to the ones
   * decrypted longest ago, at most `maxDecryptsPerTick`. Until an agent's sigs are decrypted again
   * their last result stands, and only for exactly those sigs while they have not expired.
   */
  private async tick(): Promise<void> {
    const t = Date.now();
    const networkImpaired = this.networkImpaired;
    const validators = this.env.devnet.nodeUrls;
    // A verdict stands only while nothing changed on the network: faults, validators, epoch.
    const stats = this.env.devnet.stats();
    const conditions = JSON.stringify([
      networkImpaired,
      stats.epoch,
      stats.chainFaults,
      stats.nodes.map((n) => [n.fault.mode, n.listening]),
    ]);
    const observed = await Promise.all(
      this.env.agents.map((a) => this.observe(a.agentId, t, networkImpaired, validators, conditions)),
    );
    // New sigs (or new network conditions) are always decrypted at once; rechecks of unchanged sigs
    // share what is left of the budget.
    const checkedAt = (o: Observed) => {
      const last = this.verified.get(o.sample.agentId);
      return last && last.key === o.key ? last.at : undefined;
    };
    const withSigs = observed.filter((o): o is Checkable => o.sigs !== undefined && o.key !== undefined);
    // Oldest sigs first: those a previous tick could not check (budget, or no answer in time).
    const unchecked = withSigs
      .filter((o) => checkedAt(o) === undefined)
      .sort((a, b) => (a.sample.issuedAt ?? 0) - (b.sample.issuedAt ?? 0));
    const fresh = unchecked.slice(0, this.maxNewDecryptsPerTick);
    const rechecks = withSigs
      .filter((o) => checkedAt(o) !== undefined && t - checkedAt(o)! >= this.recheckMs)
      .sort((a, b) => checkedAt(a)! - checkedAt(b)!)
      .slice(0, Math.max(0, this.maxDecryptsPerTick - fresh.length));
    await Promise.all(
      [...fresh, ...rechecks].map(async (o) => {
        const nodes = validators.filter((u) => o.sample.sigNodes.includes(u));
        let error = await this.tryDecrypt(o.sample.agentId, o.sigs, nodes);
        if (error === TIMED_OUT && this.timeoutIsInconclusive) {
          this.inconclusiveChecks++;
          return; // no verdict: still unchecked, so among the first checked at the next tick
        }
        if (error) error = await this.tryDecrypt(o.sample.agentId, o.sigs, nodes); // one retry: a slow tick is not a gap
        if (error === TIMED_OUT && this.timeoutIsInconclusive) {
          this.inconclusiveChecks++;
          return;
        }
        this.verified.set(o.sample.agentId, {
          key: o.key,
          at: t,
          ok: error === undefined,
          error,
          expiresAt: o.sample.expiresAt,
        });
      }),
    );
    for (const o of observed) {
      if (o.sigs) {
        const last = this.verified.get(o.sample.agentId);
        if (last && last.key === o.key) {
          o.sample.valid = last.ok;
          o.sample.checkedAt = last.at;
          if (last.error) o.sample.error = last.error;
        } else if (last?.ok && last.expiresAt !== null && t < last.expiresAt) {
          // New sigs waiting for their decrypt: the previous, verified ones still serve.
          o.sample.valid = true;
          o.sample.checkedAt = last.at;
          o.sample.carried = true;
        }
      }
      if (o.queryError && o.sample.error) o.sample.error = `${o.sample.error}; ${o.queryError}`;
      this.record(o.sample);
    }
  }

  /** The agent's status now (or the last one, if Temporal does not answer) as a sample without a verdict. */
  private async observe(
    agentId: string,
    t: number,
    networkImpaired: boolean,
    validators: string[],
    conditions: string,
  ): Promise<Observed> {
    let queryError: string | undefined;
    try {
      this.last.set(agentId, await this.env.keeper.querySessionStatus(agentId));
    } catch (err) {
      queryError = `status query failed: ${(err as Error).message.split('\n')[0]}`;
    }
    const st = this.last.get(agentId);
    if (!st)
      return {
        sample: { ...emptySample(t, agentId, networkImpaired), error: queryError ?? 'no status yet' },
      };
    const expiresAt = st.expiresAt ? Date.parse(st.expiresAt) : null;
    const sigs = st.sessionSigs;
    const sigNodes = sigs ? Object.keys(sigs) : [];
    const sample: Sample = {
      t,
      agentId,
      queryOk: queryError === undefined,
      state: st.state,
      generation: st.generation,
      issuedAt: st.issuedAt ? Date.parse(st.issuedAt) : null,
      expiresAt,
      refreshAt: st.refreshAt ? Date.parse(st.refreshAt) : null,
      ...(st.lastError
        ? {
            lastError: {
              type: st.lastError.type,
              attempts: st.lastError.attempts,
              at: Date.parse(st.lastError.at),
            },
          }
        : {}),
      sigNodes,
      ...(sigs ? { sessionKey: Object.values(sigs)[0]?.address } : {}),
      valid: false,
      networkImpaired,
      uncovered: sigs ? validators.filter((u) => !sigNodes.includes(u)) : [],
    };
    // Like SessionSigsSource: sigs past their expiry are never used, cached or not.
    if (!sigs || expiresAt === null || Date.now() >= expiresAt) {
      sample.error = sigs ? 'sigs expired' : `no sigs (state ${st.state})`;
      return { sample, queryError };
    }
    const key = `${sample.sessionKey}|${[...sigNodes].sort().join(',')}|${validators.join(',')}|${conditions}`;
    return { sample, sigs, key, queryError };
  }

  private async tryDecrypt(
    agentId: string,
    sigs: SessionSigsMap,
    nodes: string[],
  ): Promise<string | undefined> {
    if (nodes.length < this.env.devnet.threshold) {
      return `sigs cover ${nodes.length} validator(s), fewer than the threshold ${this.env.devnet.threshold}`;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const client = await this.clientFor(nodes);
      const text = await Promise.race([
        decryptWith(client, sigs as SessionSigs, this.encrypted.get(agentId)!),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new DecryptTimeout()), DECRYPT_TIMEOUT_MS);
        }),
      ]);
      return text === `secret of ${agentId}` ? undefined : 'decrypted to the wrong text';
    } catch (err) {
      if (err instanceof DecryptTimeout) return TIMED_OUT;
      return `decrypt failed: ${String((err as Error).message ?? err)
        .split('\n')[0]
        .slice(0, 300)}`;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A stock SDK client that sends requests to exactly `nodes`. It does not follow epoch changes
   * by itself (each node set gets its own client), so it never switches under a running decrypt.
   */
  private clientFor(nodes: string[]): Promise<LitNodeClientNodeJs> {
    const key = [...nodes].sort().join(',');
    let p = this.clients.get(key);
    if (!p) {
      p = (async () => {
        const client = newClient(this.env.devnet.networkConfig());
        // A down node must not fail the monitor's own connect (the stock handshake needs all nodes).
        installResilientHandshake(client, 2_000, () => undefined);
        await client.connect();
        (client as any)._stopListeningForNewEpoch();
        (client as any).connectedNodes = new Set(nodes);
        return client;
      })();
      p.catch(() => this.clients.delete(key));
      this.clients.set(key, p);
    }
    return p;
  }

  private record(s: Sample): void {
    this.samples.push(s);
    this.out.write(`${JSON.stringify(s)}\n`);
  }
}

function emptySample(t: number, agentId: string, networkImpaired: boolean): Sample {
  return {
    t,
    agentId,
    queryOk: false,
    state: 'pending',
    generation: 0,
    issuedAt: null,
    expiresAt: null,
    refreshAt: null,
    sigNodes: [],
    valid: false,
    networkImpaired,
    uncovered: [],
  };
}
