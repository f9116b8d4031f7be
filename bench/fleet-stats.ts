/**
 * Pure helpers of B2 with several worker processes and of its cluster section in BENCHMARKS.md:
 * summing the counters of the workers of one fleet, pairing real and canned fleets with the same
 * number of workers, and splicing a marked section into a report. No clock, no I/O.
 */
import { ratio } from './stats';

/** The counters of one worker process that B2 reads before and after a rotation. */
export interface WorkerCounters {
  cpu: NodeJS.CpuUsage;
  mints: number;
  failures: number;
  /** Failed mints by "type: message start". */
  failureTypes: Record<string, number>;
  rssBytes: number;
}

/** What the workers of one fleet did between two readings, summed, and each worker's share. */
export interface FleetWorkerDelta {
  cpuSec: number;
  mints: number;
  failures: number;
  failureTypes: Record<string, number>;
  /** RSS at the second reading, summed over the workers. */
  rssBytes: number;
  perWorker: { cpuSec: number; mints: number; failures: number; rssBytes: number }[];
}

function cpuSec(a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number {
  return (b.user - a.user + b.system - a.system) / 1e6;
}

/** `after - before` per failure type; types that did not grow are left out. */
export function diffFailureTypes(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v > 0),
  );
}

/**
 * Per worker `after[i] - before[i]` (the same worker at both readings), then summed over the
 * workers: CPU, mints, failures and failure types add up; RSS is the sum at the second reading.
 */
export function fleetWorkerDelta(before: WorkerCounters[], after: WorkerCounters[]): FleetWorkerDelta {
  if (before.length !== after.length || before.length === 0) {
    throw new RangeError(
      `need one reading per worker at both times, got ${before.length} and ${after.length}`,
    );
  }
  const perWorker = after.map((a, i) => ({
    cpuSec: cpuSec(before[i].cpu, a.cpu),
    mints: a.mints - before[i].mints,
    failures: a.failures - before[i].failures,
    rssBytes: a.rssBytes,
  }));
  const failureTypes: Record<string, number> = {};
  after.forEach((a, i) => {
    for (const [k, v] of Object.entries(diffFailureTypes(before[i].failureTypes, a.failureTypes))) {
      failureTypes[k] = (failureTypes[k] ?? 0) + v;
    }
  });
  const sum = (f: (w: (typeof perWorker)[number]) => number) => perWorker.reduce((s, w) => s + f(w), 0);
  return {
    cpuSec: sum((w) => w.cpuSec),
    mints: sum((w) => w.mints),
    failures: sum((w) => w.failures),
    failureTypes,
    rssBytes: sum((w) => w.rssBytes),
    perWorker,
  };
}

/** The fields of a B2 scenario the pairing needs. */
export interface FleetRun {
  server: string;
  size: number;
  mode: string;
  /** Worker processes on the fleet's task queue (absent: 1). */
  workers?: number;
  agentsPerSec: number;
}

export interface WorkerCountComparison<S extends FleetRun> {
  size: number;
  workers: number;
  real: S;
  canned: S;
  /** real agents/s ÷ canned agents/s, same server, size and number of workers. */
  ratio: number;
}

/**
 * Real against canned fleets of `server`, paired by size and number of workers (never across
 * worker counts: each ratio is to the ceiling with as many worker processes). Sorted by size, then
 * workers. Sizes or worker counts missing one of the two modes are left out.
 */
export function workerCountComparisons<S extends FleetRun>(
  scenarios: S[],
  server: string,
): WorkerCountComparison<S>[] {
  const on = scenarios.filter((s) => s.server === server);
  const keys = new Map<string, { size: number; workers: number }>();
  for (const s of on) keys.set(`${s.size}/${s.workers ?? 1}`, { size: s.size, workers: s.workers ?? 1 });
  const out: WorkerCountComparison<S>[] = [];
  for (const { size, workers } of keys.values()) {
    const find = (mode: string) =>
      on.find((s) => s.size === size && (s.workers ?? 1) === workers && s.mode === mode);
    const real = find('real');
    const canned = find('canned');
    if (!real || !canned) continue;
    out.push({ size, workers, real, canned, ratio: ratio(real.agentsPerSec, canned.agentsPerSec) });
  }
  return out.sort((a, b) => a.size - b.size || a.workers - b.workers);
}

/** `more` workers against `fewer` at the same size: agents/s of each mode, more ÷ fewer. */
export function workerScaling<S extends FleetRun>(
  comparisons: WorkerCountComparison<S>[],
  size: number,
  fewer: number,
  more: number,
): { real: number; canned: number } | undefined {
  const a = comparisons.find((c) => c.size === size && c.workers === fewer);
  const b = comparisons.find((c) => c.size === size && c.workers === more);
  if (!a || !b) return undefined;
  return {
    real: ratio(b.real.agentsPerSec, a.real.agentsPerSec),
    canned: ratio(b.canned.agentsPerSec, a.canned.agentsPerSec),
  };
}

// ---- marked sections of a report --------------------------------------------------------------

export interface SectionMarkers {
  start: string;
  end: string;
}

export const CLUSTER_SECTION: SectionMarkers = {
  start: '<!-- bench:b2-cluster:start -->',
  end: '<!-- bench:b2-cluster:end -->',
};

/** The marked section of `text`, markers included, or undefined. */
export function extractSection(text: string, m: SectionMarkers): string | undefined {
  const a = text.indexOf(m.start);
  if (a < 0) return undefined;
  const b = text.indexOf(m.end, a);
  if (b < 0) return undefined;
  return text.slice(a, b + m.end.length);
}

/**
 * `text` with its marked section replaced by `section` (which carries the markers). Without one, the
 * section goes before the first heading in `before` that `text` has (e.g. "## B3"), else at the end.
 * Everything outside the markers is kept as it was.
 */
export function spliceSection(
  text: string,
  section: string,
  m: SectionMarkers,
  before: string[] = [],
): string {
  if (!section.startsWith(m.start) || !section.endsWith(m.end)) {
    throw new Error('the section must start and end with its markers');
  }
  const old = extractSection(text, m);
  if (old !== undefined) return text.replace(old, () => section);
  for (const heading of before) {
    const at = text.search(new RegExp(`^${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    if (at >= 0) return `${text.slice(0, at)}${section}\n\n${text.slice(at)}`;
  }
  const body = text.trimEnd();
  return `${body ? `${body}\n\n` : ''}${section}\n`;
}
