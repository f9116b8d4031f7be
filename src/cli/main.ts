/**
 * `npx session-keeper <command>`. Built on commander (well kept, typed, generates --help, handles
 * sub-commands and option parsing) so each command file only declares itself.
 * Each file under ./commands exports `register(program)`.
 */
import { Command } from 'commander';
import { registerCommands } from './commands';

export function buildProgram(): Command {
  const program = new Command('session-keeper')
    .description('Keeps Lit Protocol session signatures fresh for fleets of agents, durably, with Temporal.')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) });
  registerCommands(program);
  return program;
}

if (require.main === module || process.argv[1]?.endsWith('session-keeper.js')) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`error: ${message.split('\n')[0]}\n`);
      process.exit(1);
    });
}
