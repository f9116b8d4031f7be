/**
 * `npx session-keeper <command>`. Built on commander (well kept, typed, generates --help, handles
 * sub-commands and option parsing) so each command file only declares itself.
 * Each file under ./commands exports `register(program)`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { registerCommands } from './commands';
import { oneLineErrors } from './output';

/** The package's version, read at run time (package.json sits above both src/ and dist/). */
function packageVersion(): string {
  const file = path.join(__dirname, '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('session-keeper')
    .description('Keeps Lit Protocol session signatures fresh for fleets of agents, durably, with Temporal.')
    .version(packageVersion())
    .showHelpAfterError(false);
  oneLineErrors(program, 'session-keeper');
  registerCommands(program);
  return program;
}

/**
 * Runs the CLI on `argv` (process.argv shape). Called by bin/session-keeper.js, whatever path
 * reached it. No command at all prints the usage and fails: a command that does nothing must
 * never exit 0. Unknown commands and bad options fail through commander with a one-line error.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  if (argv.slice(2).length === 0) {
    process.stderr.write(program.helpInformation());
    process.stderr.write('error: no command given (see the commands above)\n');
    return 1;
  }
  await program.parseAsync([...argv]);
  return 0;
}
