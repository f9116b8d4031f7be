/**
 * A devnet's identity on disk, so that a restarted devnet is the same Lit network: the BLS network
 * key (the secret polynomial, hence every node's share), the ports of the chain RPC, block
 * indexer, admin API and nodes, the nodes' on-chain addresses and validator-set membership, the
 * epoch, the HD root keys, the minted PKPs with their permitted controllers and Lit Actions, and
 * the Lit Action content store (code by IPFS id, `POST /lit-actions`). Session sigs
 * minted before a restart stay valid after it: same node URLs, same network key.
 *
 * Blocks are not saved: a restarted chain issues new blocks (nonces from before the restart are
 * no longer accepted for new sessions, exactly like an expired blockhash).
 *
 * The file holds the network secret: it is written with mode 0600, through a temporary file and a
 * rename, so a reader never sees half of it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ipfsCidOf } from './lit-action-runner';
import { IPFS_CID_V0 } from './pkp-registry';
import { DevnetUsageError } from './types';

export const DEVNET_STATE_VERSION = 1;

export interface DevnetNodeState {
  /** The node's on-chain identity (`nodeAddress` of its validator struct). */
  chainAddress: string;
  port: number;
  /** In the current validator set (dropped nodes keep serving). */
  active: boolean;
}

export interface DevnetState {
  version: typeof DEVNET_STATE_VERSION;
  chainId: number;
  /** The `basePort` the network was created with (0: the ports below were ephemeral ones). */
  basePort: number;
  ports: { rpc: number; blockIndexer: number; admin: number };
  /** Hex scalars of the network key's secret polynomial; its length is the threshold. */
  networkKey: string[];
  /** The chain's block-hash secret: a restored chain still knows the hashes it issued before. */
  chainSecret?: string;
  hdRootPubkeys: string[];
  epoch: number;
  /** Node i (0-based) holds share i+1. */
  nodes: DevnetNodeState[];
  /**
   * `privateKey` (hex) lets a restored PKP sign; files written before pkpSign lack it.
   * `permittedActions`: IPFS CIDs of the Lit Actions that may authorise the PKP's sessions
   * (absent when none, and in files written before Lit Action auth).
   */
  pkps: {
    publicKey: string;
    permittedAddresses: string[];
    permittedActions?: string[];
    privateKey?: string;
  }[];
  /**
   * The Lit Action content store: code by its IPFS CID (what `POST /lit-actions` stored, so an
   * agent that runs an action by `ipfsId` keeps working across restarts). Absent when empty, and
   * in files written before it was kept.
   */
  litActions?: Record<string, string>;
}

const port = z.number().int().min(1).max(65535);
const hex = z.string().regex(/^(0x)?[0-9a-fA-F]+$/, { message: 'must be hex' });

const stateSchema = z
  .object({
    version: z.literal(DEVNET_STATE_VERSION),
    chainId: z.number().int().positive(),
    basePort: z.number().int().min(0).max(65535),
    ports: z.object({ rpc: port, blockIndexer: port, admin: port }).strict(),
    networkKey: z.array(hex).min(1).max(255),
    chainSecret: z
      .string()
      .regex(/^([0-9a-fA-F]{2}){16,}$/, { message: 'must be at least 16 bytes of hex' })
      .optional(),
    hdRootPubkeys: z.array(hex).min(1),
    epoch: z.number().int().positive(),
    nodes: z
      .array(
        z
          .object({
            chainAddress: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
            port,
            active: z.boolean(),
          })
          .strict(),
      )
      .min(1)
      .max(255),
    pkps: z.array(
      z
        .object({
          publicKey: hex,
          permittedAddresses: z.array(z.string().regex(/^0x[0-9a-fA-F]{40}$/)),
          permittedActions: z
            .array(z.string().regex(IPFS_CID_V0, { message: 'must be an IPFS CID v0 (Qm…)' }))
            .optional(),
          privateKey: hex.optional(),
        })
        .strict(),
    ),
    litActions: z
      .record(z.string().regex(IPFS_CID_V0, { message: 'must be an IPFS CID v0 (Qm…)' }), z.string().min(1))
      .optional(),
  })
  .strict();

/** A state file that cannot be used (the admin API never sees one: they happen at start). */
export class DevnetStateError extends DevnetUsageError {
  override name = 'DevnetStateError';
}

/** Pure: parses and checks the text of a state file; `source` names it in errors. */
export function parseDevnetState(text: string, source: string): DevnetState {
  const hint = 'delete it to start a new network';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DevnetStateError(
      `devnet state ${source} is not valid JSON (${(err as Error).message}); ${hint}`,
    );
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
    throw new DevnetStateError(`devnet state ${source} is not usable: ${detail}; ${hint}`);
  }
  const state = parsed.data as DevnetState;
  if (state.networkKey.length > state.nodes.length) {
    throw new DevnetStateError(
      `devnet state ${source} needs ${state.networkKey.length} shares but has ${state.nodes.length} nodes; ${hint}`,
    );
  }
  if (state.nodes.filter((n) => n.active).length < state.networkKey.length) {
    throw new DevnetStateError(
      `devnet state ${source} has fewer active nodes than its threshold ${state.networkKey.length}; ${hint}`,
    );
  }
  const ports = [
    state.ports.rpc,
    state.ports.blockIndexer,
    state.ports.admin,
    ...state.nodes.map((n) => n.port),
  ];
  if (new Set(ports).size !== ports.length) {
    throw new DevnetStateError(`devnet state ${source} uses a port twice; ${hint}`);
  }
  for (const [ipfsId, code] of Object.entries(state.litActions ?? {})) {
    let actual: string;
    try {
      actual = ipfsCidOf(code);
    } catch (e) {
      throw new DevnetStateError(
        `devnet state ${source}: Lit Action ${ipfsId}: ${(e as Error).message}; ${hint}`,
      );
    }
    if (actual !== ipfsId) {
      throw new DevnetStateError(
        `devnet state ${source} stores code under ${ipfsId} whose IPFS id is ${actual}; ${hint}`,
      );
    }
  }
  return state;
}

/** The saved state, or `undefined` when the file does not exist. */
export function loadDevnetState(file: string): DevnetState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DevnetStateError(
      `cannot read devnet state ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return parseDevnetState(text, file);
}

/** Writes the state atomically with mode 0600 (it holds the network secret). */
export function saveDevnetState(file: string, state: DevnetState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}
