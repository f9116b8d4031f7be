import type { Command } from 'commander';
import { register as registerAgent } from './agent';
import { register as registerCodecServer } from './codec-server';
import { register as registerDemo } from './demo';
import { register as registerDevnet } from './devnet';
import { register as registerRotate } from './rotate';
import { register as registerSetup } from './setup';
import { register as registerWorker } from './worker';

/** Every command file registers itself here; keep the list sorted. */
export function registerCommands(program: Command): void {
  // Commands are added by their own files (devnet, worker, agent, rotate, setup, codec-server, demo).
  registerAgent(program);
  registerCodecServer(program);
  registerDemo(program);
  registerDevnet(program);
  registerRotate(program);
  registerSetup(program);
  registerWorker(program);
  void program;
}
