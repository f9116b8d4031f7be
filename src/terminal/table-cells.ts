/**
 * Text for people at a terminal: tables (cli-table3) and relative times. Used by the operator
 * commands (src/cli) and the demo's status view (src/demo); pure apart from the table library.
 */
import Table from 'cli-table3';
import ms from 'ms';

/** A table with a header row; cells are strings (`-` for missing values). */
export function renderTable(head: string[], rows: (string | number | null | undefined)[][]): string {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows)
    table.push(row.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))));
  return table.toString();
}

/** Pure: "in 5m", "3m ago", or "-" for a missing/invalid time. */
export function relativeTime(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '-';
  const d = t - nowMs;
  if (Math.abs(d) < 1000) return 'now';
  return d > 0 ? `in ${ms(d)}` : `${ms(-d)} ago`;
}

/** Pure: how long until `iso`, "expired 3m ago" once past; for the "expires in" column. */
export function expiresIn(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '-';
  return t > nowMs ? ms(t - nowMs) : `expired ${ms(nowMs - t)} ago`;
}

/** Pure: first line of a message, shortened for a table cell. */
export function cell(text: string | undefined, max = 60): string {
  if (!text) return '-';
  const line = text.split('\n')[0];
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
