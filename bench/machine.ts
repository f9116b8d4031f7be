/**
 * What machine the figures come from, and whether it was shared: CPU time is read from /proc for
 * the whole machine and for the bench's own process tree (orchestrator, devnet, workers, Temporal
 * servers); the rest is other people's load (this box also runs tests and demos).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

export interface CodeInfo {
  head: string;
  /** Tracked files with uncommitted changes at the start of the run (the tree is shared). */
  modified: string[];
}

/** Which code was measured: the commit and the tracked files changed on top of it. */
export function codeInfo(repo: string): CodeInfo | undefined {
  try {
    const head = execFileSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
    const modified = execFileSync('git', ['-C', repo, 'diff', '--name-only', 'HEAD'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    return { head, modified };
  } catch {
    return undefined;
  }
}

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  temporalCli?: string;
}

export function machineInfo(temporalBinary?: string): MachineInfo {
  let nproc = os.availableParallelism();
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    // keep availableParallelism
  }
  const cpuinfo = safeRead('/proc/cpuinfo');
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const memKb = Number(/^MemTotal:\s+(\d+)\s+kB/m.exec(safeRead('/proc/meminfo'))?.[1] ?? 0);
  let temporalCli: string | undefined;
  if (temporalBinary) {
    try {
      temporalCli = execFileSync(temporalBinary, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      temporalCli = undefined;
    }
  }
  return {
    nproc,
    cpuModel,
    memoryGiB: memKb ? memKb / 1024 / 1024 : os.totalmem() / 1024 ** 3,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    temporalCli,
  };
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

let clockTicks: number | undefined;
export function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
  /** utime + stime only. */
  ownTicks: number;
}

function readProcStat(pid: number): ProcStat | undefined {
  const text = safeRead(`/proc/${pid}/stat`);
  if (!text) return undefined;
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const num = (i: number) => Number(f[i]) || 0;
  return { pid, ppid: num(1), ticks: num(11) + num(12) + num(13) + num(14), ownTicks: num(11) + num(12) };
}

function allProcStats(): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readProcStat(Number(name));
    if (s) out.set(s.pid, s);
  }
  return out;
}

function descendantsOf(root: number, stats: Map<number, ProcStat>): Set<number> {
  const children = new Map<number, number[]>();
  for (const s of stats.values()) {
    const list = children.get(s.ppid) ?? [];
    list.push(s.pid);
    children.set(s.ppid, list);
  }
  const out = new Set<number>([root]);
  const queue = [root];
  while (queue.length) {
    for (const c of children.get(queue.pop()!) ?? []) {
      if (!out.has(c)) {
        out.add(c);
        queue.push(c);
      }
    }
  }
  return out;
}

/** CPU seconds (user + system) a process has used so far; undefined once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  const s = readProcStat(pid);
  return s ? s.ownTicks / clkTck() : undefined;
}

/**
 * CPU seconds of a process and all its live descendants so far, including children they have
 * reaped (PostgreSQL: the postmaster and its backends); undefined once the process is gone.
 */
export function processTreeCpuSeconds(pid: number): number | undefined {
  const stats = allProcStats();
  if (!stats.has(pid)) return undefined;
  let ticks = 0;
  for (const p of descendantsOf(pid, stats)) ticks += stats.get(p)?.ticks ?? 0;
  return ticks / clkTck();
}

/** A descendant of this process whose command line contains every one of `parts`. */
export function findDescendant(parts: string[]): number | undefined {
  const stats = allProcStats();
  for (const pid of descendantsOf(process.pid, stats)) {
    const cmd = safeRead(`/proc/${pid}/cmdline`).split('\0').join(' ');
    if (parts.every((p) => cmd.includes(p))) return pid;
  }
  return undefined;
}

interface CpuSnapshot {
  at: number;
  /** /proc/stat: busy and total ticks summed over all CPUs. */
  busy: number;
  total: number;
  ours: number;
  perPid: Map<number, number>;
  ourPids: Set<number>;
}

function snapshot(): CpuSnapshot {
  const line = safeRead('/proc/stat').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest is already inside user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line;
  const busy = user + nice + system + irq + softirq + (steal ?? 0);
  const total = busy + idle + iowait;
  const stats = allProcStats();
  const ourPids = descendantsOf(process.pid, stats);
  let ours = 0;
  const perPid = new Map<number, number>();
  for (const s of stats.values()) {
    // Per process: its own time only; reaped children would count twice (theirs and the parent's).
    perPid.set(s.pid, s.ownTicks);
    if (ourPids.has(s.pid)) ours += s.ticks;
  }
  return { at: Date.now(), busy, total, ours, perPid, ourPids };
}

export interface LoadReport {
  seconds: number;
  /** Share of the machine's CPU capacity (all cores) used by this bench's processes. */
  oursShare: number;
  /** Share used by everything else: other people's tests, demos. */
  othersShare: number;
  /** 1-minute load average at the end. */
  loadavg1: number;
  /** Busiest other processes in the window (their own CPU time, children not included). */
  topOthers: { pid: number; cpuSeconds: number; command: string }[];
}

/** Measures own vs. others' CPU between `start()` and `report()`. */
export class LoadWindow {
  private begin?: CpuSnapshot;

  start(): this {
    this.begin = snapshot();
    return this;
  }

  report(): LoadReport {
    const a = this.begin ?? snapshot();
    const b = snapshot();
    const total = Math.max(1, b.total - a.total);
    const busy = Math.max(0, b.busy - a.busy);
    // Processes of ours that exited were reaped by their parent and show up in its cutime.
    const ours = Math.min(busy, Math.max(0, b.ours - a.ours));
    const others: { pid: number; cpuSeconds: number; command: string }[] = [];
    for (const [pid, ticks] of b.perPid) {
      if (b.ourPids.has(pid)) continue;
      const delta = ticks - (a.perPid.get(pid) ?? 0);
      if (delta > 0) others.push({ pid, cpuSeconds: delta / clkTck(), command: commandOf(pid) });
    }
    others.sort((x, y) => y.cpuSeconds - x.cpuSeconds);
    return {
      seconds: (b.at - a.at) / 1000,
      oursShare: ours / total,
      othersShare: Math.max(0, busy - ours) / total,
      loadavg1: os.loadavg()[0],
      topOthers: others.slice(0, 3),
    };
  }
}

function commandOf(pid: number): string {
  const cmd = safeRead(`/proc/${pid}/cmdline`).split('\0').filter(Boolean);
  // Kernel threads have no command line.
  if (cmd.length === 0) return `[${safeRead(`/proc/${pid}/comm`).trim() || pid}]`;
  // Enough to tell `node --test test/chaos/…` from `temporal server start-dev`.
  const text = cmd
    .map((c) => c.replace(/^.*\/(node_modules|\.venv)\//, '…/'))
    .join(' ')
    .replace(/\s+--(search-attribute|dynamic-config-value) \S+/g, '');
  return text.length > 90 ? `${text.slice(0, 87)}…` : text;
}

/**
 * Waits until others have used at most `maxOthersShare` of the machine for three 10 s windows in
 * a row (other people's test suites pause between scenarios), or until `maxWaitMs` has passed.
 */
export async function waitForQuietMachine(
  maxOthersShare: number,
  maxWaitMs: number,
  log: (m: string) => void,
): Promise<LoadReport> {
  const deadline = Date.now() + maxWaitMs;
  let quiet = 0;
  let begin: LoadWindow | undefined;
  for (;;) {
    const w = new LoadWindow().start();
    await new Promise((r) => setTimeout(r, 10_000));
    const r = w.report();
    if (r.othersShare <= maxOthersShare) {
      quiet++;
      begin ??= w;
    } else {
      quiet = 0;
      begin = undefined;
      log(
        `machine busy: others use ${(r.othersShare * 100).toFixed(0)}% of it (${r.topOthers
          .map((o) => o.command)
          .join('; ')}); waiting`,
      );
    }
    if (quiet >= 3 && begin) return begin.report();
    if (Date.now() >= deadline) return r;
  }
}
