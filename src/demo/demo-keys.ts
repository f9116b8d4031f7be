/**
 * The demo agents' keys: generated on the first run into `<data>/demo/keys.json` (mode 0600) and
 * read back on every later run, so the same agents keep the same wallets (and PKPs). The keys
 * reach the worker only through its signer environment under `DEMO_AGENT_<n>_KEY`; agent specs
 * (workflow inputs) carry the reference `env:DEMO_AGENT_<n>_KEY`, never the key.
 *
 * The agent-held agent (issue 20) has its wallet here too (`agentHeld`, `DEMO_AGENT_HELD_KEY`) and
 * its own session key pair in a session key file beside it (`ensureSessionKeyFile`): the keeper
 * only ever sees the public half.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ethers } from 'ethers';
import { z } from 'zod';
import { readSessionKeyFile, type SessionKeyPair, writeNewSessionKeyFile } from '../client/session-key-file';
import type { AgentMode } from '../shared/types';

export interface DemoAgentKey {
  /** 1-based; odd agents are EOA agents, even ones PKP agents. */
  index: number;
  agentId: string;
  mode: AgentMode;
  /** The signer environment variable holding the key. */
  envName: string;
  privateKey: string;
  /** The wallet's address (the PKP's controller for a PKP agent). */
  address: string;
  /** The PKP minted on the devnet for this agent (PKP agents, once minted). */
  pkpPublicKey?: string;
}

export interface DemoKeys {
  version: 1;
  agents: DemoAgentKey[];
  /** The wallet of the agent-held agent (`demo-agent-held`, EOA mode), once made. */
  agentHeld?: { privateKey: string; address: string };
}

/** The signer environment variable of the agent-held agent's wallet. */
export const AGENT_HELD_ENV_NAME = 'DEMO_AGENT_HELD_KEY';

/** Pure: which agent index `i` is (the layout never changes, so `--agents` can grow and shrink). */
export function demoAgentLayout(index: number): Pick<DemoAgentKey, 'index' | 'agentId' | 'mode' | 'envName'> {
  const mode: AgentMode = index % 2 === 1 ? 'eoa' : 'pkp';
  return { index, agentId: `demo-${mode}-${index}`, mode, envName: `DEMO_AGENT_${index}_KEY` };
}

const keysSchema = z
  .object({
    version: z.literal(1),
    agents: z.array(
      z
        .object({
          index: z.number().int().positive(),
          agentId: z.string().min(1),
          mode: z.enum(['eoa', 'pkp']),
          envName: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
          privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
          address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
          pkpPublicKey: z
            .string()
            .regex(/^0x04[0-9a-fA-F]{128}$/)
            .optional(),
        })
        .strict(),
    ),
    agentHeld: z
      .object({
        privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
        address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
      })
      .strict()
      .optional(),
  })
  .strict();

export class DemoKeysError extends Error {
  override name = 'DemoKeysError';
}

/** The saved keys, or an empty set when the file does not exist yet. */
export function loadDemoKeys(file: string): DemoKeys {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, agents: [] };
    throw new DemoKeysError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DemoKeysError(`${file} is not valid JSON; delete it (or run the demo with --reset)`);
  }
  const parsed = keysSchema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
    throw new DemoKeysError(`${file} is not usable (${detail}); delete it (or run the demo with --reset)`);
  }
  return parsed.data as DemoKeys;
}

/** Writes the keys atomically, readable by the owner only. */
export function saveDemoKeys(file: string, keys: DemoKeys): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/**
 * Pure apart from key generation: the keys with agents 1..count present (new wallets for the
 * missing ones). Agents beyond `count` are kept, so a later run with more agents gets them back.
 */
export function withAgentKeys(
  keys: DemoKeys,
  count: number,
  newWallet: () => { privateKey: string; address: string } = () => ethers.Wallet.createRandom(),
): { keys: DemoKeys; added: number[] } {
  const byIndex = new Map(keys.agents.map((a) => [a.index, a]));
  const added: number[] = [];
  for (let i = 1; i <= count; i++) {
    if (byIndex.has(i)) continue;
    const wallet = newWallet();
    byIndex.set(i, { ...demoAgentLayout(i), privateKey: wallet.privateKey, address: wallet.address });
    added.push(i);
  }
  return {
    keys: {
      ...keys,
      version: 1,
      agents: [...byIndex.values()].sort((a, b) => a.index - b.index),
    },
    added,
  };
}

/** The keys with the agent-held agent's wallet present (made once); `added` when it is new. */
export function withAgentHeldWallet(
  keys: DemoKeys,
  newWallet: () => { privateKey: string; address: string } = () => ethers.Wallet.createRandom(),
): { keys: DemoKeys; added: boolean } {
  if (keys.agentHeld) return { keys, added: false };
  const wallet = newWallet();
  return {
    keys: { ...keys, agentHeld: { privateKey: wallet.privateKey, address: wallet.address } },
    added: true,
  };
}

/**
 * The agent-held agent's own session key pair: made on the first run into `file` (0600, never
 * overwritten), read back on later runs, so a restarted demo resumes the same agent.
 */
export function ensureSessionKeyFile(file: string): { key: SessionKeyPair; created: boolean } {
  if (fs.existsSync(file)) return { key: readSessionKeyFile(file), created: false };
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  return { key: writeNewSessionKeyFile(file), created: true };
}

/** The worker's signer environment: `DEMO_AGENT_<n>_KEY` → key, for every saved agent. */
export function signerEnvironmentOf(keys: DemoKeys): Record<string, string> {
  const env: Record<string, string> = Object.fromEntries(keys.agents.map((a) => [a.envName, a.privateKey]));
  if (keys.agentHeld) env[AGENT_HELD_ENV_NAME] = keys.agentHeld.privateKey;
  return env;
}
