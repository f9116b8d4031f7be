/**
 * Which Lit networks a worker (and the client that validates specs) knows. The built-in networks
 * (`datil-dev`, `datil-test`, `datil`) need no configuration; custom ones (a devnet, a private
 * network) come from `LIT_NETWORKS_FILE` (a JSON file, as written by `session-keeper devnet
 * --write-config`) or `LIT_NETWORKS` (the same JSON inline):
 *
 *   {"networks": {"devnet": {"rpcUrl": "http://127.0.0.1:8545", "stakingAddress": "0x…",
 *                            "blockIndexerUrl": "http://127.0.0.1:8546/get_most_recent_valid_block",
 *                            "minNodeCount": 2}}}
 *
 * Parsing is pure; `loadNetworkConfig` is the only part that reads the file system.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { BUILT_IN_NETWORKS } from './agent-spec';

/** A custom Lit network, as the networks file describes it (one declaration for worker, client, devnet). */
export interface CustomNetworkConfig {
  rpcUrl: string;
  stakingAddress: string;
  /** Full URL the SDK GETs for `{blockhash, timestamp}`. */
  blockIndexerUrl: string;
  /**
   * Informational: the SDK replaces it with the Staking contract's value on connect (lit-core's
   * `connect` sets `config.minNodeCount` from the validator data), and the handshake quorum uses that.
   */
  minNodeCount?: number;
}

export interface NetworkConfig {
  custom: Record<string, CustomNetworkConfig>;
}

// `.url()` alone takes ftp:, file: and javascript: too; the SDK and the nonce source speak HTTP only.
const url = z
  .string()
  .url({ message: 'must be an http(s) URL' })
  .refine((u) => /^https?:\/\//i.test(u), { message: 'must be an http(s) URL, e.g. http://127.0.0.1:8545' });
const fileSchema = z
  .object({
    networks: z.record(
      z
        .object({
          rpcUrl: url,
          stakingAddress: z
            .string()
            .regex(/^0x[0-9a-fA-F]{40}$/, { message: 'must be a 0x-prefixed 20-byte address' }),
          blockIndexerUrl: url,
          minNodeCount: z.number().int().positive().optional(),
        })
        .passthrough(),
    ),
  })
  .strict();

export class NetworkConfigError extends Error {
  override name = 'NetworkConfigError';
}

/** Parses the JSON text of a networks file. `source` names the file or variable in errors. */
export function parseNetworkConfig(text: string, source: string): NetworkConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new NetworkConfigError(
      `${source}: not valid JSON (${(err as Error).message}); expected {"networks": {...}}`,
    );
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
    throw new NetworkConfigError(`${source}: ${detail}`);
  }
  const custom: Record<string, CustomNetworkConfig> = {};
  for (const [name, n] of Object.entries(parsed.data.networks)) {
    if ((BUILT_IN_NETWORKS as readonly string[]).includes(name)) {
      throw new NetworkConfigError(
        `${source}: networks.${name} shadows a built-in Lit network; choose another name`,
      );
    }
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(name)) {
      throw new NetworkConfigError(
        `${source}: network name "${name}" must be lower-case letters, digits and "-"`,
      );
    }
    custom[name] = {
      rpcUrl: n.rpcUrl,
      stakingAddress: n.stakingAddress,
      blockIndexerUrl: n.blockIndexerUrl,
      ...(n.minNodeCount ? { minNodeCount: n.minNodeCount } : {}),
    };
  }
  return { custom };
}

/** Reads `LIT_NETWORKS_FILE` / `LIT_NETWORKS` from `env`; none set means built-in networks only. */
export function loadNetworkConfig(env: NodeJS.ProcessEnv = process.env): NetworkConfig {
  const file = env.LIT_NETWORKS_FILE;
  const inline = env.LIT_NETWORKS;
  if (file && inline) {
    throw new NetworkConfigError('set either LIT_NETWORKS_FILE or LIT_NETWORKS, not both');
  }
  if (inline) return parseNetworkConfig(inline, 'LIT_NETWORKS');
  if (!file) return { custom: {} };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new NetworkConfigError(
      `LIT_NETWORKS_FILE=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
        'fix the path, or write one with `session-keeper devnet --write-config FILE`',
    );
  }
  return parseNetworkConfig(text, `LIT_NETWORKS_FILE=${file}`);
}

export function knownNetworkNames(config: NetworkConfig): string[] {
  return [...BUILT_IN_NETWORKS, ...Object.keys(config.custom)];
}
