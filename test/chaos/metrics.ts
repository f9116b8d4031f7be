/**
 * Measurements of the chaos suite, as pure functions of what the suite recorded: monitor samples
 * (one per agent per tick), the workers' JSON log lines and the devnet's successful
 * `sign_session_key` answers. Unit-tested in test/unit/chaos-metrics.test.ts.
 */
import type { RefreshPolicy, SessionState } from '../../src/shared/types';
import { refreshWindow } from '../../src/workflows/refresh-policy';

/** What the monitor saw of one agent at one tick. */
export interface Sample {
  /** ms since the epoch. */
  t: number;
  agentId: string;
  /** The status query answered this tick (otherwise the fields below are the last answer's). */
  queryOk: boolean;
  state: SessionState;
  generation: number;
  issuedAt: number | null;
  expiresAt: number | null;
  refreshAt: number | null;
  lastError?: { type: string; attempts: number; at: number };
  /** Node URLs the sigs cover (empty without sigs). */
  sigNodes: string[];
  /** ed25519 session public key of the sigs, if any. */
  sessionKey?: string;
  /** The last real decrypt with exactly these sigs succeeded on the devnet (and they have not expired). */
  valid: boolean;
  /** When that decrypt ran (at most a few seconds before `t`). */
  checkedAt?: number;
  /** The verdict is the previous sigs' (still unexpired); the new ones wait for a decrypt. */
  carried?: boolean;
  error?: string;
  /** The scenario made the network unable to serve anyone (e.g. 2 of 3 nodes down). */
  networkImpaired: boolean;
  /** Validator nodes the sigs do not cover (a node joined and the agent has not re-signed yet). */
  uncovered: string[];
}

/** States that say "no usable/current sigs, and why" (with `lastError`). */
const EXPLAINING_STATES: ReadonlySet<SessionState> = new Set(['degraded', 'expired']);

/** An invalid sample is explained when the status says why, or the scenario took the network away. */
export function explained(s: Sample): boolean {
  return s.networkImpaired || (EXPLAINING_STATES.has(s.state) && s.lastError !== undefined);
}

export interface InvalidInterval {
  agentId: string;
  start: number;
  end: number;
  explained: boolean;
  /** First error seen in the interval. */
  error?: string;
  states: SessionState[];
}

/**
 * Intervals during which an agent had no sigs the devnet accepted: from the first invalid sample
 * of a run to the next sample (valid, or of the other explained-ness), or `windowEnd`.
 */
export function invalidIntervals(samples: Sample[], windowEnd: number): InvalidInterval[] {
  const out: InvalidInterval[] = [];
  for (const [agentId, list] of groupBy(samples, (s) => s.agentId)) {
    const sorted = [...list].sort((a, b) => a.t - b.t);
    let open: InvalidInterval | undefined;
    for (const s of sorted) {
      const exp = explained(s);
      if (open && (s.valid || open.explained !== exp)) {
        open.end = s.t;
        out.push(open);
        open = undefined;
      }
      if (!s.valid) {
        if (!open) open = { agentId, start: s.t, end: s.t, explained: exp, error: s.error, states: [] };
        if (!open.states.includes(s.state)) open.states.push(s.state);
      }
    }
    if (open) {
      open.end = Math.max(open.start, windowEnd);
      out.push(open);
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

export interface GapSummary {
  /** Longest total time any single agent was without valid sigs (ms). */
  maxInvalidMs: number;
  /** The same, counting only intervals nothing explains. */
  maxUnexplainedMs: number;
  /** Per agent: total invalid and unexplained ms. */
  perAgent: Record<string, { invalidMs: number; unexplainedMs: number }>;
}

export function summarizeGaps(intervals: InvalidInterval[], agentIds: string[]): GapSummary {
  const perAgent: GapSummary['perAgent'] = {};
  for (const id of agentIds) perAgent[id] = { invalidMs: 0, unexplainedMs: 0 };
  for (const i of intervals) {
    perAgent[i.agentId] ??= { invalidMs: 0, unexplainedMs: 0 };
    const a = perAgent[i.agentId];
    a.invalidMs += i.end - i.start;
    if (!i.explained) a.unexplainedMs += i.end - i.start;
  }
  const values = Object.values(perAgent);
  return {
    maxInvalidMs: Math.max(0, ...values.map((v) => v.invalidMs)),
    maxUnexplainedMs: Math.max(0, ...values.map((v) => v.unexplainedMs)),
    perAgent,
  };
}

/** Total time per agent during which its sigs missed a validator node (summed intervals, max over agents). */
export function maxUncoveredMs(samples: Sample[], windowEnd: number): number {
  let max = 0;
  for (const [, list] of groupBy(samples, (s) => s.agentId)) {
    const sorted = [...list].sort((a, b) => a.t - b.t);
    let total = 0;
    for (let i = 0; i < sorted.length; i++) {
      if (sorted[i].uncovered.length === 0) continue;
      total += (i + 1 < sorted.length ? sorted[i + 1].t : windowEnd) - sorted[i].t;
    }
    max = Math.max(max, total);
  }
  return max;
}

export interface GenerationSeen {
  generation: number;
  issuedAt: number;
  expiresAt: number;
  firstSeen: number;
}

export interface RefreshAudit {
  /** Refreshes that were due (planned refresh time plus slack before the window ended). */
  due: number;
  /** Due refreshes whose successor generation never appeared. */
  lost: number;
  lostDetail: { agentId: string; generation: number; dueAt: number }[];
  /** Generations gained in the window (last seen minus first seen, summed over agents). */
  gained: number;
  /** Refreshes the policy alone calls for in the window (nominal wait, summed over agents). */
  expectedByPolicy: number;
  /** Times an agent's generation went down between two answered queries. */
  backwards: number;
  /** Largest delay of a successor's issue time past the latest planned refresh time (ms; ≤ 0 is on time). */
  maxLatenessMs: number;
}

/**
 * Were all refreshes that fell due done? For every generation the monitor saw, the policy says by
 * when its successor must have been issued (the latest point of its jittered refresh window); if
 * that lies more than `slackMs` before `windowEnd`, a higher generation must have been seen.
 */
export function auditRefreshes(
  samples: Sample[],
  policy: RefreshPolicy,
  window: { start: number; end: number },
  slackMs: number,
): RefreshAudit {
  const audit: RefreshAudit = {
    due: 0,
    lost: 0,
    lostDetail: [],
    gained: 0,
    expectedByPolicy: 0,
    backwards: 0,
    maxLatenessMs: Number.NEGATIVE_INFINITY,
  };
  for (const [agentId, list] of groupBy(samples, (s) => s.agentId)) {
    const answered = list.filter((s) => s.queryOk).sort((a, b) => a.t - b.t);
    if (answered.length === 0) continue;
    const gens = new Map<number, GenerationSeen>();
    let prev: number | undefined;
    for (const s of answered) {
      if (prev !== undefined && s.generation < prev) audit.backwards++;
      prev = s.generation;
      if (s.generation > 0 && s.issuedAt !== null && s.expiresAt !== null && !gens.has(s.generation)) {
        gens.set(s.generation, {
          generation: s.generation,
          issuedAt: s.issuedAt,
          expiresAt: s.expiresAt,
          firstSeen: s.t,
        });
      }
    }
    const ordered = [...gens.values()].sort((a, b) => a.generation - b.generation);
    if (ordered.length === 0) continue;
    audit.gained += ordered[ordered.length - 1].generation - ordered[0].generation;
    const first = ordered[0];
    const nominalWait = refreshWindow(first.issuedAt, first.expiresAt, policy).nominal - first.issuedAt;
    if (nominalWait > 0) audit.expectedByPolicy += (window.end - window.start) / nominalWait;
    for (const g of ordered) {
      const dueAt = refreshWindow(g.issuedAt, g.expiresAt, policy).latest;
      if (dueAt + slackMs > window.end) continue;
      audit.due++;
      const successor = ordered.find((o) => o.generation > g.generation);
      if (!successor) {
        audit.lost++;
        audit.lostDetail.push({ agentId, generation: g.generation, dueAt });
      } else {
        audit.maxLatenessMs = Math.max(audit.maxLatenessMs, successor.issuedAt - dueAt);
      }
    }
  }
  if (!Number.isFinite(audit.maxLatenessMs)) audit.maxLatenessMs = 0;
  audit.expectedByPolicy = Math.round(audit.expectedByPolicy * 10) / 10;
  return audit;
}

/** One JSON line of a worker's log. */
export interface LogRecord {
  t: number;
  worker: string;
  msg: string;
  fields: Record<string, unknown>;
}

/** Parses a worker's JSON log lines; other lines (the SDK's plain-text warnings, a line cut off by SIGKILL) are skipped. */
export function parseLog(text: string, worker: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    const t = Date.parse(String(rec.time));
    if (typeof rec.msg !== 'string' || !Number.isFinite(t)) continue;
    out.push({ t, worker, msg: rec.msg, fields: rec });
  }
  return out;
}

/** One `minted session sigs` line of the worker's activity (not the workflow's own log line). */
export interface MintLogRecord {
  agentId: string;
  generation: number;
  t: number;
  worker: string;
}

export function mintRecords(records: LogRecord[]): MintLogRecord[] {
  const out: MintLogRecord[] = [];
  for (const r of records) {
    const { agentId, generation, component } = r.fields;
    if (r.msg !== 'minted session sigs' || component === 'temporal') continue;
    if (typeof agentId !== 'string' || typeof generation !== 'number') continue;
    out.push({ agentId, generation, t: r.t, worker: r.worker });
  }
  return out;
}

/** The worker's activity mints in one log text. */
export function parseMintLog(text: string, worker: string): MintLogRecord[] {
  return mintRecords(parseLog(text, worker));
}

export interface DuplicateReport {
  mints: number;
  generations: number;
  duplicates: number;
  detail: { agentId: string; generation: number; count: number; workers: string[] }[];
}

/** Successful mints per agent and generation: more than one means a mint was done twice. */
export function countDuplicateMints(records: MintLogRecord[]): DuplicateReport {
  const byKey = groupBy(records, (r) => `${r.agentId}#${r.generation}`);
  const detail: DuplicateReport['detail'] = [];
  for (const list of byKey.values()) {
    if (list.length > 1) {
      detail.push({
        agentId: list[0].agentId,
        generation: list[0].generation,
        count: list.length,
        workers: list.map((r) => r.worker),
      });
    }
  }
  return {
    mints: records.length,
    generations: byKey.size,
    duplicates: detail.reduce((n, d) => n + d.count - 1, 0),
    detail,
  };
}

/**
 * Splits duplicate mints into those a SIGKILLed worker explains (it minted and died before Temporal
 * had the result, so the retry on another worker minted that generation again: activities run at
 * least once) and the rest, which nothing excuses.
 */
export function separateRedoneAfterKill(
  report: DuplicateReport,
  killedWorkers: string[],
): { duplicates: number; redone: number; detail: DuplicateReport['detail'] } {
  let redone = 0;
  const detail: DuplicateReport['detail'] = [];
  for (const d of report.detail) {
    const byKilled = d.workers.filter((w) => killedWorkers.includes(w)).length;
    if (d.count === 2 && byKilled === 1) redone += 1;
    else detail.push(d);
  }
  return { duplicates: detail.reduce((n, d) => n + d.count - 1, 0), redone, detail };
}

/** A node's successful answer to `sign_session_key` (one share of one PKP mint). */
export interface SigningRecord {
  t: number;
  node: number;
  pkpPublicKey: string;
  /** `lit:session:<hex>` as the SDK sends it. */
  sessionKey: string;
}

export interface NetworkMintReport {
  /** Mints the network completed (at least `threshold` nodes signed the same session key). */
  mints: number;
  /** Of those, session keys that never showed up in any agent's served sigs. */
  wasted: number;
  /** Attempts that got some shares but fewer than the threshold. */
  partial: number;
}

/**
 * PKP mints as the devnet saw them. Every attempt uses a fresh session key, so shares group by
 * key; a key that got enough shares but was never served to an agent was minted for nothing
 * (a duplicate, or a mint whose result was lost).
 */
export function auditNetworkMints(
  signings: SigningRecord[],
  threshold: number,
  servedSessionKeys: ReadonlySet<string>,
): NetworkMintReport {
  const report: NetworkMintReport = { mints: 0, wasted: 0, partial: 0 };
  for (const [key, list] of groupBy(signings, (s) => s.sessionKey)) {
    const nodes = new Set(list.map((s) => s.node));
    if (nodes.size < threshold) {
      report.partial++;
      continue;
    }
    report.mints++;
    if (!servedSessionKeys.has(key.replace(/^lit:session:/, ''))) report.wasted++;
  }
  return report;
}

export interface RecoveryCheck {
  agentId: string;
  /** Retry interval in effect when the nodes came back: planned retry minus the last failure. */
  intervalMs: number;
  retryAt: number;
  /** First valid, fresh sample after the nodes came back (null: never). */
  recoveredAt: number | null;
  recoveryMs: number | null;
  withinBound: boolean;
}

/**
 * After an outage ends at `backAt`, each agent should be fresh again within the backoff interval
 * that was in effect then (read from its status: `refreshAt - lastError.at`) plus `marginMs`.
 * Agents that were not failing at `backAt` are bounded by the margin alone.
 */
export function checkRecovery(
  statusAtBack: { agentId: string; refreshAt: number | null; lastErrorAt: number | null }[],
  samples: Sample[],
  backAt: number,
  marginMs: number,
): RecoveryCheck[] {
  return statusAtBack.map((st) => {
    const intervalMs =
      st.refreshAt !== null && st.lastErrorAt !== null ? Math.max(0, st.refreshAt - st.lastErrorAt) : 0;
    const recovered = samples
      .filter((s) => s.agentId === st.agentId && s.t >= backAt && s.valid && s.state === 'fresh')
      .sort((a, b) => a.t - b.t)[0];
    const recoveredAt = recovered?.t ?? null;
    const recoveryMs = recoveredAt === null ? null : recoveredAt - backAt;
    return {
      agentId: st.agentId,
      intervalMs,
      retryAt: st.refreshAt ?? backAt,
      recoveredAt,
      recoveryMs,
      withinBound: recoveryMs !== null && recoveryMs <= intervalMs + marginMs,
    };
  });
}

/** A history event, reduced to what the checks need. */
export interface HistoryEventSummary {
  agentId: string;
  /** `EVENT_TYPE_…` name. */
  type: string;
  t: number;
}

/**
 * Workflow tasks that failed (a workflow code error or a nondeterminism: the agent is stuck until
 * someone fixes the code or resets it) or timed out (a worker died holding one: harmless, the
 * server hands the task to another worker) in [start, end].
 */
export function workflowTaskTrouble(
  events: HistoryEventSummary[],
  window: { start: number; end: number },
): { failed: HistoryEventSummary[]; timedOut: HistoryEventSummary[] } {
  const inWindow = events.filter((e) => e.t >= window.start && e.t <= window.end);
  return {
    failed: inWindow.filter((e) => e.type === 'EVENT_TYPE_WORKFLOW_TASK_FAILED'),
    timedOut: inWindow.filter((e) => e.type === 'EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT'),
  };
}

/** Distinct states each agent went through, in order of first appearance. */
export function statesSeen(samples: Sample[]): Record<string, SessionState[]> {
  const out: Record<string, SessionState[]> = {};
  for (const s of [...samples].sort((a, b) => a.t - b.t)) {
    out[s.agentId] ??= [];
    const list = out[s.agentId];
    if (list[list.length - 1] !== s.state) list.push(s.state);
  }
  return out;
}

/** A markdown table; cells are escaped for `|`. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => String(v).replace(/\|/g, '\\|');
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** Milliseconds as seconds with one decimal ("0 s" for zero). */
export function seconds(msValue: number): string {
  return msValue === 0 ? '0 s' : `${(msValue / 1000).toFixed(1)} s`;
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}
