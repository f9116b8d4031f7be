/**
 * The project's own Prometheus metrics (prom-client: the standard Node client). Refresh outcomes
 * and latency come from the worker's mints; fleet-wide state (agents by state, time until expiry)
 * comes from Temporal visibility, so every worker reports the whole fleet whichever worker minted.
 */
import client from 'prom-client';
import type { MintOutcome } from '../activities';

export interface FleetSnapshot {
  /** state → network → count */
  byState: { state: string; network: string; count: number }[];
  /** Seconds until expiry per agent (running agents with sigs). */
  expiries: { agentId: string; network: string; secondsUntilExpiry: number }[];
}

/** Above this many agents the per-agent gauge is dropped; buckets and minimum stay. */
export const PER_AGENT_SERIES_LIMIT = 500;
export const EXPIRY_BUCKETS_SECONDS = [300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 7 * 24 * 3600];

export class SessionKeeperMetrics {
  readonly registry = new client.Registry();
  private readonly refreshes: client.Counter<'network' | 'mode' | 'result' | 'error_type'>;
  private readonly latency: client.Histogram<'network' | 'mode'>;
  private readonly agents: client.Gauge<'network' | 'state'>;
  private readonly expiry: client.Gauge<'agent_id' | 'network'>;
  private readonly minExpiry: client.Gauge<'network'>;
  private readonly expiringWithin: client.Gauge<'network' | 'le'>;

  constructor() {
    this.registry.setDefaultLabels({ service: 'lit-session-keeper' });
    client.collectDefaultMetrics({ register: this.registry, prefix: 'lit_session_keeper_process_' });
    this.refreshes = new client.Counter({
      name: 'lit_session_refreshes_total',
      help: 'Session sig mints by network, mode, result (success|failure) and error type.',
      labelNames: ['network', 'mode', 'result', 'error_type'],
      registers: [this.registry],
    });
    this.latency = new client.Histogram({
      name: 'lit_session_refresh_duration_seconds',
      help: 'Time to mint session sigs (nonce fetch, signing, node round trips).',
      labelNames: ['network', 'mode'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.agents = new client.Gauge({
      name: 'lit_session_agents',
      help: 'Running agents by network and session state (from Temporal visibility).',
      labelNames: ['network', 'state'],
      registers: [this.registry],
    });
    this.expiry = new client.Gauge({
      name: 'lit_session_seconds_until_expiry',
      help: `Seconds until an agent's current sigs expire (per agent while the fleet has at most ${PER_AGENT_SERIES_LIMIT} agents).`,
      labelNames: ['agent_id', 'network'],
      registers: [this.registry],
    });
    this.minExpiry = new client.Gauge({
      name: 'lit_session_min_seconds_until_expiry',
      help: 'Smallest time until expiry across the running agents of a network.',
      labelNames: ['network'],
      registers: [this.registry],
    });
    this.expiringWithin = new client.Gauge({
      name: 'lit_session_agents_expiring_within_seconds',
      help: 'Agents whose sigs expire within `le` seconds (cumulative), by network.',
      labelNames: ['network', 'le'],
      registers: [this.registry],
    });
  }

  recordMint(outcome: MintOutcome): void {
    const { network, mode } = outcome.request;
    this.refreshes.inc({
      network,
      mode,
      result: outcome.error ? 'failure' : 'success',
      error_type: outcome.error?.type ?? '',
    });
    if (!outcome.error) this.latency.observe({ network, mode }, outcome.durationMs / 1000);
  }

  recordFleet(snapshot: FleetSnapshot): void {
    this.agents.reset();
    for (const s of snapshot.byState) this.agents.set({ network: s.network, state: s.state }, s.count);
    this.expiry.reset();
    if (snapshot.expiries.length <= PER_AGENT_SERIES_LIMIT) {
      for (const e of snapshot.expiries) {
        this.expiry.set({ agent_id: e.agentId, network: e.network }, e.secondsUntilExpiry);
      }
    }
    this.minExpiry.reset();
    this.expiringWithin.reset();
    for (const [network, list] of groupBy(snapshot.expiries, (e) => e.network)) {
      this.minExpiry.set({ network }, Math.min(...list.map((e) => e.secondsUntilExpiry)));
      for (const le of EXPIRY_BUCKETS_SECONDS) {
        this.expiringWithin.set(
          { network, le: String(le) },
          list.filter((e) => e.secondsUntilExpiry <= le).length,
        );
      }
    }
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = m.get(k);
    if (list) list.push(item);
    else m.set(k, [item]);
  }
  return m;
}
