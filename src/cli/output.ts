/**
 * Output helpers shared by the operator commands: `--output table|json`, tables (cli-table3),
 * relative times, and one-line errors.
 */
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import ms from 'ms';

export type OutputFormat = 'table' | 'json';

export function outputOption(defaultFormat: OutputFormat = 'table'): Option {
  return new Option('-o, --output <format>', 'output format: table for people, json for scripts')
    .choices(['table', 'json'])
    .default(defaultFormat);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

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

/**
 * Makes commander's own errors (bad flag, missing argument, invalid choice) a single line on
 * stderr: "error: … (see `session-keeper agent start --help`)". Commands created with
 * `new Command()` have their own output configuration, so this does not affect other commands.
 */
export function oneLineErrors(cmd: Command, path: string): Command {
  // commander 12 shares one output-configuration object between a command and the sub-commands
  // created from it, and configureOutput() assigns into it: without a copy of its own, the hint of
  // the last command registered would show on every command's errors.
  const own = cmd as unknown as { _outputConfiguration: object };
  own._outputConfiguration = { ...own._outputConfiguration };
  return cmd.showHelpAfterError(false).configureOutput({
    outputError: (str, write) => write(`${str.trim().replace(/\s*\n\s*/g, ' ')} (see \`${path} --help\`)\n`),
  });
}
