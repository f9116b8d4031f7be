/**
 * `session-keeper demo` (what `npm start` runs): a Temporal dev server, the local Lit devnet, a
 * worker and a few demo agents, with a live status table; Ctrl-C stops everything and the next run
 * resumes the same agents. See src/demo.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { displayPath } from '../../demo/data-dir';
import { DEMO_DEFAULTS, MAX_DEMO_AGENTS } from '../../demo/options';
import {
  formatDuration,
  MAX_SESSION_TTL_MS,
  MIN_SESSION_TTL_MS,
  parseDuration,
} from '../../shared/agent-spec';
import { oneLineErrors } from '../output';

interface DemoFlags {
  dataDir: string;
  headless?: boolean;
  temporalPort: number;
  uiPort: number;
  devnetPort: number;
  agents: number;
  ttl: number;
  reset?: boolean;
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port, 1-65535');
  return n;
}

function devnetPort(value: string): number {
  const n = port(value);
  if (n + 8 > 65535) throw new InvalidArgumentError('must leave room for the devnet ports after it');
  return n;
}

function agentCount(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > max) throw new InvalidArgumentError(`must be 1-${max}`);
    return n;
  };
}

function ttl(value: string): number {
  const n = parseDuration(value);
  if (n === undefined || n < MIN_SESSION_TTL_MS || n > MAX_SESSION_TTL_MS) {
    throw new InvalidArgumentError('must be a duration from 1m to 30d, e.g. 1m, 90s, 2m');
  }
  return n;
}

export function register(program: Command): void {
  const cmd = program
    .command('demo')
    .description(
      'Run everything locally: Temporal dev server, Lit devnet, a worker and demo agents, with live status (Ctrl-C stops; the next run resumes)',
    )
    .addOption(
      new Option(
        '--data-dir <dir>',
        'where state is kept across runs (Temporal history, devnet, keys, logs)',
      ).default(DEMO_DEFAULTS.dataDir, displayPath(DEMO_DEFAULTS.dataDir)),
    )
    .option('--headless', 'no Temporal Web UI')
    .option('--temporal-port <port>', 'Temporal frontend port', port, DEMO_DEFAULTS.temporalPort)
    .option('--ui-port <port>', 'Temporal Web UI port', port, DEMO_DEFAULTS.uiPort)
    .option(
      '--devnet-port <port>',
      'first devnet port (chain RPC; then block indexer, admin API, 3 nodes)',
      devnetPort,
      DEMO_DEFAULTS.devnetPort,
    )
    .option(
      '--agents <n>',
      `number of demo agents, 1-${MAX_DEMO_AGENTS} (odd ones EOA, even ones PKP)`,
      agentCount(MAX_DEMO_AGENTS),
      DEMO_DEFAULTS.agents,
    )
    .addOption(
      new Option('--ttl <duration>', 'session TTL of the demo agents, at least 1m (refreshed at about 2/3)')
        .argParser(ttl)
        .default(DEMO_DEFAULTS.ttlMs, formatDuration(DEMO_DEFAULTS.ttlMs)),
    )
    .option('--reset', "wipe the demo's state in the data dir first (history, devnet, keys, logs)")
    .addHelpText(
      'after',
      `
On a terminal the status table is redrawn in place; otherwise one JSON line per event and per
agent status change is printed, the first naming the Temporal address, UI URL and dev server pid.

Examples:
  npm start
  npx session-keeper demo --agents 6 --ttl 2m
  npx session-keeper demo --headless --reset`,
    )
    .action(async (flags: DemoFlags) => {
      const output = process.stdout.isTTY ? 'table' : 'lines';
      // The Lit SDK's deprecation notices (written to stderr as its modules load and connect) would
      // tear the redrawn table apart; they say nothing to someone watching the demo.
      if (output === 'table') process.noDeprecation = true;
      // Loaded lazily: the demo pulls in the Temporal runtime and the Lit SDK.
      const { runDemo } = require('../../demo') as typeof import('../../demo');
      const path = require('node:path') as typeof import('node:path');
      const code = await runDemo(
        {
          dataDir: path.resolve(flags.dataDir),
          headless: flags.headless ?? false,
          temporalPort: flags.temporalPort,
          uiPort: flags.uiPort,
          devnetPort: flags.devnetPort,
          agents: flags.agents,
          ttlMs: flags.ttl,
          reset: flags.reset ?? false,
          output,
          pollIntervalMs: 1_000,
        },
        { stdout: process.stdout, stderr: process.stderr, env: process.env },
      );
      process.exit(code);
    });
  oneLineErrors(cmd, 'session-keeper demo');
}
