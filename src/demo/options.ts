/**
 * The demo's settings and where it keeps its state. Everything lives under one data folder
 * (default `.data/` in a checkout, the user's data folder for an installed package), so a second `npm start` resumes the same agents on the same
 * Temporal history and the same devnet:
 *
 *   <data>/temporal.db        Temporal dev server (SQLite)
 *   <data>/devnet.json        the devnet's identity: network key, ports, PKPs (mode 0600)
 *   <data>/demo/keys.json     the demo agents' private keys and PKPs (mode 0600)
 *   <data>/demo/agent-held.session-key.json   the agent-held agent's own session key pair (0600)
 *   <data>/demo/lit-networks.json   the devnet's network config, for other CLI commands
 *   <data>/demo.pid           the running demo's pid (one demo per data folder)
 *   <data>/logs/              temporal.log (dev server), demo.log (worker, devnet; JSON)
 *   <data>/bin/               the Temporal CLI, when the demo had to download it (kept by --reset)
 */
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../temporal/binaries';

/**
 * Pure: where the demo keeps its state by default. In a checkout, `.data/` in it (next to the code,
 * git-ignored). In an installed package (the code lives under `node_modules/`, which npm replaces on
 * every install), the user's data folder: `$XDG_DATA_HOME/lit-session-keeper`, else
 * `~/.local/share/lit-session-keeper`.
 */
export function defaultDemoDataDir(packageRoot: string, env: NodeJS.ProcessEnv, home: string): string {
  const installed = packageRoot.split(path.sep).includes('node_modules');
  if (!installed) return path.join(packageRoot, '.data');
  const base =
    env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME)
      ? env.XDG_DATA_HOME
      : path.join(home, '.local', 'share');
  return path.join(base, 'lit-session-keeper');
}

export interface DemoOptions {
  dataDir: string;
  headless: boolean;
  temporalPort: number;
  uiPort: number;
  /** Base port of the devnet: chain RPC, block indexer, admin, then one port per node. */
  devnetPort: number;
  agents: number;
  ttlMs: number;
  /** Wipe the data folder's demo state before starting. */
  reset: boolean;
  /** Redraw a table in place (a terminal) or print one line per status change. */
  output: 'table' | 'lines';
  /** How often the status view asks the agents (ms). */
  pollIntervalMs: number;
}

export const DEMO_DEFAULTS = {
  dataDir: defaultDemoDataDir(REPO_ROOT, process.env, os.homedir()),
  temporalPort: 7233,
  uiPort: 8233,
  devnetPort: 7470,
  agents: 4,
  ttlMs: 60_000,
  pollIntervalMs: 1_000,
} as const;

export const MAX_DEMO_AGENTS = 20;
export const DEMO_NETWORK = 'devnet';
export const DEMO_DEVNET_NODES = 3;
/** ethers polls the chain every 4 s and looks back 10 blocks: blocks must not come faster than 1 s. */
export const DEMO_BLOCK_TIME_MS = 2_000;

export interface DemoPaths {
  dataDir: string;
  temporalDb: string;
  devnetState: string;
  demoDir: string;
  keysFile: string;
  /** The agent-held agent's session key file. */
  agentHeldKeyFile: string;
  networksFile: string;
  pidFile: string;
  logDir: string;
  temporalLog: string;
  demoLog: string;
  binDir: string;
}

export function demoPaths(dataDir: string): DemoPaths {
  const root = path.resolve(dataDir);
  const demoDir = path.join(root, 'demo');
  const logDir = path.join(root, 'logs');
  return {
    dataDir: root,
    temporalDb: path.join(root, 'temporal.db'),
    devnetState: path.join(root, 'devnet.json'),
    demoDir,
    keysFile: path.join(demoDir, 'keys.json'),
    agentHeldKeyFile: path.join(demoDir, 'agent-held.session-key.json'),
    networksFile: path.join(demoDir, 'lit-networks.json'),
    pidFile: path.join(root, 'demo.pid'),
    logDir,
    temporalLog: path.join(logDir, 'temporal.log'),
    demoLog: path.join(logDir, 'demo.log'),
    binDir: path.join(root, 'bin'),
  };
}
