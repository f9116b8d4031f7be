/**
 * The devnet's options: what `startDevnet` takes, its defaults, and `resolveDevnetOptions`, the
 * pure step that turns options (and a saved network, if any) into the settings a devnet starts
 * with — or refuses them with a `DevnetUsageError` naming the option and the fix.
 */
import { MAX_SHARE_INDEX } from './bls-threshold';
import { LOOPBACK } from './http-util';
import { type LitActionPoolOptions, litActionPoolLimits } from './lit-action-runner';
import type { DevnetLogger } from './logger';
import type { DevnetState } from './state-file';
import { DevnetUsageError } from './types';

export interface StartDevnetOptions {
  /** Number of nodes (default 3). */
  nodes?: number;
  /** Shares needed to sign; the Staking contract's minNodeCount (default ⌈2N/3⌉, 2 of 3). */
  threshold?: number;
  /** Interval between blocks (default 2000 ms). */
  blockTimeMs?: number;
  /** First of the consecutive ports to listen on; 0 or absent = ephemeral ports. */
  basePort?: number;
  chainId?: number;
  /** Epoch length reported by the Staking contract (default 3600 s). */
  epochLengthSec?: number;
  /** Age of the genesis block (default 45 days, older than any acceptable nonce). */
  genesisAgeMs?: number;
  logger?: DevnetLogger;
  /**
   * Where the devnet keeps its identity across restarts (written with mode 0600: it holds the
   * network secret). When the file exists the devnet comes back as the network saved there and
   * `nodes`, `threshold`, `basePort` and `chainId`, if given, must match it; otherwise a new
   * network is created and saved.
   */
  stateFile?: string;
  /** Interface the chain, indexer and nodes listen on (default 127.0.0.1; the admin API stays on loopback). */
  bindHost?: string;
  /** IPv4 address published for them (default: bindHost, or 127.0.0.1 when binding 0.0.0.0). */
  advertiseHost?: string;
  /** Time limit of one Lit Action run, ms (default 2000). */
  litActionTimeoutMs?: number;
  /** Heap limit (V8 old generation) of the worker a Lit Action runs in, MB (default 64). */
  litActionMemoryMb?: number;
  /** Lit Actions running at once across all nodes, one worker thread each (default 4). */
  litActionWorkers?: number;
}

export const DEFAULT_NODES = 3;
export const DEFAULT_BLOCK_TIME_MS = 2000;
export const DEFAULT_CHAIN_ID = 31337;
export const DEFAULT_NETWORK_NAME = 'devnet';

export function defaultThreshold(nodes: number): number {
  return Math.max(1, Math.ceil((2 * nodes) / 3));
}

/** What a devnet starts with: every option resolved, checked against the saved network. */
export interface ResolvedDevnetOptions {
  nodes: number;
  threshold: number;
  basePort: number;
  chainId: number;
  blockTimeMs: number;
  epochLengthSec: number;
  genesisAgeMs: number | undefined;
  litActionTimeoutMs: number | undefined;
  litActionPool: Required<LitActionPoolOptions>;
  /** Where the chain, indexer and nodes listen, and the address published for them. */
  hosts: { bind: string; advertise: string };
  /** The port each server asks for: the saved one, else basePort + its offset, else 0 (ephemeral). */
  ports: { rpc: number; blockIndexer: number; admin: number };
  /** Node `index`'s port, the same way (nodes added later included). */
  nodePort(index: number): number;
}

/**
 * Pure: the settings of a devnet started with `opts`, restoring `saved` (the state file's
 * network) when given. Throws `DevnetUsageError` for the first option out of range, or for one
 * that would change a saved network's shape.
 */
export function resolveDevnetOptions(
  opts: StartDevnetOptions,
  saved?: DevnetState,
  stateFile = opts.stateFile ?? 'the state file',
): ResolvedDevnetOptions {
  if (saved) checkSavedStateMatches(saved, opts, stateFile);
  const nodes = saved?.nodes.length ?? opts.nodes ?? DEFAULT_NODES;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_SHARE_INDEX) {
    throw new DevnetUsageError(
      `nodes must be an integer between 1 and ${MAX_SHARE_INDEX}, got ${opts.nodes}`,
    );
  }
  const threshold = saved?.networkKey.length ?? opts.threshold ?? defaultThreshold(nodes);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > nodes) {
    throw new DevnetUsageError(
      `threshold must be an integer between 1 and the node count ${nodes}, got ${threshold}`,
    );
  }
  const basePort = saved?.basePort ?? opts.basePort ?? 0;
  if (!Number.isInteger(basePort) || basePort < 0 || basePort + 3 + nodes > 65535) {
    throw new DevnetUsageError(
      `port must be 0 or a base port leaving room for ${3 + nodes} ports, got ${basePort}`,
    );
  }
  let litActionPool: Required<LitActionPoolOptions>;
  try {
    litActionPool = litActionPoolLimits({
      maxOldGenerationSizeMb: opts.litActionMemoryMb,
      maxWorkers: opts.litActionWorkers,
    });
  } catch (e) {
    throw new DevnetUsageError((e as Error).message);
  }
  if (
    opts.litActionTimeoutMs !== undefined &&
    !(Number.isInteger(opts.litActionTimeoutMs) && opts.litActionTimeoutMs > 0)
  ) {
    throw new DevnetUsageError(
      `litActionTimeoutMs must be a positive integer, got ${opts.litActionTimeoutMs}`,
    );
  }
  const bind = opts.bindHost ?? LOOPBACK;
  const port = (offset: number) => (basePort ? basePort + offset : 0);
  return {
    nodes,
    threshold,
    basePort,
    chainId: saved?.chainId ?? opts.chainId ?? DEFAULT_CHAIN_ID,
    blockTimeMs: opts.blockTimeMs ?? DEFAULT_BLOCK_TIME_MS,
    epochLengthSec: opts.epochLengthSec ?? 3600,
    genesisAgeMs: opts.genesisAgeMs,
    litActionTimeoutMs: opts.litActionTimeoutMs,
    litActionPool,
    hosts: { bind, advertise: opts.advertiseHost ?? (bind === '0.0.0.0' ? LOOPBACK : bind) },
    ports: {
      rpc: saved?.ports.rpc ?? port(0),
      blockIndexer: saved?.ports.blockIndexer ?? port(1),
      admin: saved?.ports.admin ?? port(2),
    },
    nodePort: (index) => saved?.nodes[index]?.port ?? port(3 + index),
  };
}

/** A saved network keeps its shape: options that would change it are refused, naming the fix. */
function checkSavedStateMatches(saved: DevnetState, opts: StartDevnetOptions, file: string): void {
  const conflicts: string[] = [];
  const check = (what: string, given: number | undefined, was: number) => {
    if (given !== undefined && given !== was) conflicts.push(`${what} ${was} (not ${given})`);
  };
  check('nodes', opts.nodes, saved.nodes.length);
  check('threshold', opts.threshold, saved.networkKey.length);
  check('base port', opts.basePort, saved.basePort);
  check('chain id', opts.chainId, saved.chainId);
  if (conflicts.length) {
    throw new DevnetUsageError(
      `devnet state ${file} was saved with ${conflicts.join(', ')}; start with the same settings, or delete ${file} for a new network`,
    );
  }
}
