/**
 * What the demo shows. On a terminal: a short header (Temporal address and UI, devnet, data
 * folder) and a status table redrawn in place. Elsewhere (CI, tests, pipes): JSON lines on stdout,
 * the first naming Temporal's address, UI and dev server pid, then one line per event and per agent
 * status change. Warnings go to stderr in both.
 */
import { formatDuration } from '../shared/duration';
import { displayPath } from './data-dir';
import type { DemoStatus, Paint } from './status-format';
import { ansiPaint, NO_PAINT, statusKey, statusRecord, statusTable } from './status-format';

export interface TemporalInfo {
  address: string;
  uiUrl: string | undefined;
  pid: number | undefined;
  dataDir: string;
  dbFile: string;
  logDir: string;
}

export interface DevnetViewInfo {
  rpcUrl: string;
  nodeUrls: string[];
  adminUrl: string;
  restored: boolean;
  stateFile: string;
  networksFile: string;
}

export interface AgentStartInfo {
  agentId: string;
  mode: string;
  outcome: 'started' | 'already-running' | 'replaced' | 'stopped' | 'error';
  message?: string;
}

export interface DemoView {
  temporal(info: TemporalInfo): void;
  devnet(info: DevnetViewInfo): void;
  agent(info: AgentStartInfo): void;
  ready(info: { agents: number; ttlMs: number; taskQueue: string }): void;
  statuses(list: DemoStatus[], nowMs: number): void;
  notice(message: string): void;
  stopping(reason: string): void;
  stopped(info: { exitCode: number }): void;
}

interface Writable {
  write(text: string): unknown;
  columns?: number;
}

/** One JSON object per line; status lines only when an agent's state, generation or error changes. */
export class LineView implements DemoView {
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly out: Writable,
    private readonly err: Writable,
  ) {}

  private line(record: Record<string, unknown>): void {
    this.out.write(`${JSON.stringify(record)}\n`);
  }

  temporal(info: TemporalInfo): void {
    this.line({ event: 'temporal', ...info, uiUrl: info.uiUrl ?? null, pid: info.pid ?? null });
  }

  devnet(info: DevnetViewInfo): void {
    this.line({ event: 'devnet', ...info });
  }

  agent(info: AgentStartInfo): void {
    this.line({ event: 'agent', ...info });
  }

  ready(info: { agents: number; ttlMs: number; taskQueue: string }): void {
    this.line({ event: 'ready', ...info });
  }

  statuses(list: DemoStatus[]): void {
    for (const s of list) {
      const key = statusKey(s);
      if (this.seen.get(s.agentId) === key) continue;
      this.seen.set(s.agentId, key);
      this.line(statusRecord(s));
    }
  }

  notice(message: string): void {
    this.err.write(`warning: ${message}\n`);
  }

  stopping(reason: string): void {
    this.line({ event: 'stopping', reason });
  }

  stopped(info: { exitCode: number }): void {
    this.line({ event: 'stopped', ...info });
  }
}

const ESC = '\x1b[';
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI_SEQUENCE = /\x1b\[[0-9;]*[A-Za-z]/g;

/** How many terminal rows `text` takes at this width (lines longer than the width wrap). */
export function rowsOf(text: string, columns: number | undefined): number {
  const lines = text.replace(/\n$/, '').split('\n');
  if (!columns || columns < 1) return lines.length;
  return lines.reduce((n, l) => n + Math.max(1, Math.ceil(l.replace(ANSI_SEQUENCE, '').length / columns)), 0);
}

/** A header printed once, then the status table redrawn in place (ANSI cursor movement). */
export class TableView implements DemoView {
  private drawnRows = 0;
  private last: { list: DemoStatus[]; nowMs: number } | undefined;
  private readonly paint: Paint;
  private readonly started: AgentStartInfo[] = [];
  private footer = 'Ctrl-C to stop; the next `npm start` resumes the same agents.';
  private address = 'localhost:7233';

  constructor(
    private readonly out: Writable,
    private readonly err: Writable,
    opts: { color?: boolean } = {},
  ) {
    this.paint = opts.color === false ? NO_PAINT : ansiPaint;
  }

  private print(text: string): void {
    this.erase();
    this.out.write(`${text}\n`);
    this.redraw();
  }

  private erase(): void {
    if (this.drawnRows > 0) this.out.write(`${ESC}${this.drawnRows}F${ESC}J`);
    this.drawnRows = 0;
  }

  private redraw(): void {
    if (!this.last) return;
    const block = `${statusTable(this.last.list, this.last.nowMs, this.paint)}\n${this.footer}\n`;
    this.out.write(block);
    this.drawnRows = rowsOf(block, this.out.columns);
  }

  temporal(info: TemporalInfo): void {
    this.address = info.address;
    this.print(
      [
        'lit-session-keeper demo',
        `  Temporal      ${info.address}${info.pid ? `  (dev server pid ${info.pid})` : ''}`,
        `  Temporal UI   ${info.uiUrl ?? '(headless)'}`,
        `  data          ${displayPath(info.dataDir)}  (history ${displayPath(info.dbFile)}, logs ${displayPath(info.logDir)})`,
      ].join('\n'),
    );
  }

  devnet(info: DevnetViewInfo): void {
    const how = info.restored ? 'restored from' : 'new network, saved to';
    this.print(
      `  Lit devnet    ${info.rpcUrl}, ${info.nodeUrls.length} nodes (${how} ${displayPath(info.stateFile)})`,
    );
  }

  agent(info: AgentStartInfo): void {
    this.started.push(info);
    if (info.outcome === 'error') this.notice(`agent ${info.agentId}: ${info.message ?? 'failed to start'}`);
  }

  ready(info: { agents: number; ttlMs: number; taskQueue: string }): void {
    const count = (o: AgentStartInfo['outcome']) => this.started.filter((a) => a.outcome === o).length;
    const parts = [
      count('already-running') && `${count('already-running')} resumed`,
      count('started') && `${count('started')} started`,
      count('replaced') && `${count('replaced')} restarted with a new spec`,
      count('stopped') && `${count('stopped')} extra stopped`,
    ].filter(Boolean);
    this.print(
      [
        `  agents        ${info.agents} (${parts.join(', ')}); session TTL ${formatDuration(info.ttlMs)}, refreshed at about 2/3 of it`,
        `  try           npx session-keeper agent list --address ${this.address}`,
        '',
      ].join('\n'),
    );
  }

  statuses(list: DemoStatus[], nowMs: number): void {
    this.erase();
    this.last = { list, nowMs };
    this.redraw();
  }

  notice(message: string): void {
    if (!this.last) {
      this.err.write(`warning: ${message}\n`);
      return;
    }
    this.print(`warning: ${message}`);
  }

  stopping(reason: string): void {
    this.footer = `stopping (${reason}): draining the worker, closing the devnet, stopping Temporal…`;
    this.erase();
    this.redraw();
    if (!this.last) this.out.write(`${this.footer}\n`);
  }

  stopped(info: { exitCode: number }): void {
    this.footer = info.exitCode === 0 ? 'stopped.' : `stopped (exit code ${info.exitCode}).`;
    this.erase();
    this.redraw();
    if (!this.last) this.out.write(`${this.footer}\n`);
  }
}
