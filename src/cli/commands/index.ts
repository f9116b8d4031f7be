import type { Command } from 'commander';

/** Every command file registers itself here; keep the list sorted. */
export function registerCommands(program: Command): void {
  // Commands are added by their own files (devnet, worker, agent, rotate, setup, codec-server, demo).
  void program;
}
