import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('worker')
    .description(
      'Run a worker: refresh workflows plus the Lit mint activity. Configured from the environment ' +
        '(TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_*, TEMPORAL_PROFILE, SESSION_KEEPER_*, LIT_NETWORKS_FILE; see README).',
    )
    .option(
      '--allow-unencrypted',
      'run against a non-local Temporal without payload encryption (not recommended)',
    )
    .action(async (opts: { allowUnencrypted?: boolean }) => {
      // Loaded lazily (require, not import(): the CommonJS hook of a checkout resolves it) because
      // the worker pulls in the Temporal runtime and the Lit SDK.
      const { runWorkerFromEnv } = require('../../worker') as typeof import('../../worker');
      await runWorkerFromEnv(process.env, { allowUnencrypted: opts.allowUnencrypted });
    });
}
