/**
 * Output helpers shared by the operator commands: `--output table|json`, tables (cli-table3),
 * relative times, and one-line errors.
 */
import { type Command, Option } from 'commander';

// Tables and relative times live with the terminal's presentation (the demo uses them too).
export { cell, expiresIn, relativeTime, renderTable } from '../terminal/table-cells';

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
