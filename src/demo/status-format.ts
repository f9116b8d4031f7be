/**
 * Pure formatting of the demo's agent statuses: the rows of the live table (with the CLI's own
 * cell helpers from src/cli/output.ts) and the one-line JSON records printed when not on a terminal.
 * Session sigs are bearer credentials: nothing here ever prints them.
 */

import type { AgentMode, LastError, SessionState, SessionStatus } from '../shared/types';
import { cell, expiresIn, relativeTime, renderTable } from '../terminal/table-cells';
import type { SigsUse } from './pkp-sign-use';

/** How the demo shows an agent's mode: the spec's, or `agent-held` (issue 20: the agent signs). */
export type DemoMode = AgentMode | 'agent-held';

/** One agent as the demo shows it: its status, or why it could not be read. */
export interface DemoStatus {
  agentId: string;
  mode: DemoMode;
  state: SessionState | 'unknown';
  generation: number | null;
  issuedAt: string | null;
  expiresAt: string | null;
  refreshAt: string | null;
  nodes: number;
  lastError?: Pick<LastError, 'type' | 'message' | 'attempts'>;
  /** The status query failed (e.g. the worker is busy starting); the message says why. */
  unavailable?: string;
  /**
   * The last time the demo used this agent's sigs (PKP agents: pkpSign per generation; the
   * agent-held agent: a decrypt with the sigs it made itself).
   */
  lastUse?: SigsUse;
}

export function demoStatusOf(mode: DemoMode, s: SessionStatus): DemoStatus {
  return {
    agentId: s.agentId,
    mode,
    state: s.state,
    generation: s.generation,
    issuedAt: s.issuedAt,
    expiresAt: s.expiresAt,
    refreshAt: s.refreshAt,
    nodes: s.sessionSigs ? Object.keys(s.sessionSigs).length : 0,
    ...(s.lastError
      ? {
          lastError: { type: s.lastError.type, message: s.lastError.message, attempts: s.lastError.attempts },
        }
      : {}),
  };
}

export function unavailableStatus(agentId: string, mode: DemoMode, reason: string): DemoStatus {
  return {
    agentId,
    mode,
    state: 'unknown',
    generation: null,
    issuedAt: null,
    expiresAt: null,
    refreshAt: null,
    nodes: 0,
    unavailable: reason.split('\n')[0],
  };
}

export const STATUS_TABLE_HEAD = [
  'agent',
  'mode',
  'state',
  'generation',
  'expires in',
  'refresh in',
  'last use',
  'last error',
];

/** Pure: the "last use" cell, e.g. `pkpSign ok (gen 3, 41 ms)` or `decrypt ok (gen 2, 90 ms)`. */
export function lastUseCell(use: SigsUse | undefined): string {
  if (!use) return '-';
  return `${use.op} ${use.ok ? 'ok' : `FAILED ${cell(use.detail, 30)}`} (gen ${use.generation}, ${use.ms} ms)`;
}

export type Paint = (state: DemoStatus['state'], text: string) => string;
export const NO_PAINT: Paint = (_state, text) => text;

const ANSI: Partial<Record<DemoStatus['state'], string>> = {
  fresh: '32',
  refreshing: '36',
  pending: '90',
  degraded: '33',
  expired: '31',
  failed: '1;31',
  unknown: '90',
};

/** Colours the state cell on a terminal. */
export const ansiPaint: Paint = (state, text) => (ANSI[state] ? `\x1b[${ANSI[state]}m${text}\x1b[0m` : text);

export function statusRow(s: DemoStatus, nowMs: number, paint: Paint = NO_PAINT): string[] {
  const problem = s.unavailable
    ? s.unavailable
    : s.lastError
      ? `${s.lastError.type}: ${s.lastError.message}`
      : undefined;
  return [
    s.agentId,
    s.mode.toUpperCase(),
    paint(s.state, s.state),
    s.generation === null ? '-' : String(s.generation),
    expiresIn(s.expiresAt, nowMs),
    s.state === 'failed' ? '-' : relativeTime(s.refreshAt, nowMs),
    lastUseCell(s.lastUse),
    problem ? cell(problem, 50) : '-',
  ];
}

export function statusTable(list: DemoStatus[], nowMs: number, paint: Paint = NO_PAINT): string {
  return renderTable(
    STATUS_TABLE_HEAD,
    list.map((s) => statusRow(s, nowMs, paint)),
  );
}

/** What makes a status worth a line of its own: state, generation, error, a new use. */
export function statusKey(s: DemoStatus): string {
  return JSON.stringify([
    s.state,
    s.generation,
    s.lastError?.type ?? null,
    s.unavailable ?? null,
    s.lastUse ? [s.lastUse.generation, s.lastUse.ok] : null,
  ]);
}

/** The JSON record of one status change (no sigs, no keys). */
export function statusRecord(s: DemoStatus): Record<string, unknown> {
  return {
    event: 'status',
    agentId: s.agentId,
    mode: s.mode,
    state: s.state,
    generation: s.generation,
    issuedAt: s.issuedAt,
    expiresAt: s.expiresAt,
    refreshAt: s.refreshAt,
    nodes: s.nodes,
    ...(s.lastError ? { lastError: s.lastError } : {}),
    ...(s.unavailable ? { unavailable: s.unavailable } : {}),
    ...(s.lastUse ? { lastUse: s.lastUse } : {}),
  };
}
