/**
 * The demo's agents: EOA agents signing with their own wallet and PKP agents whose wallet controls
 * a PKP minted on the devnet. Specs name the key by reference only (`env:DEMO_AGENT_<n>_KEY`).
 */
import { type AgentSpecInput, DEFAULT_RESOURCE_ABILITY_REQUESTS } from '../shared/agent-spec';
import { AGENT_HELD_ENV_NAME, type DemoAgentKey, type DemoKeys } from './demo-keys';
import { DEMO_NETWORK } from './options';
import { PKP_SIGNING_ABILITY } from './pkp-sign-use';
import type { DemoMode } from './status-format';

/** The one agent-held agent (issue 20): the keeper keeps its capability fresh, it signs itself. */
export const AGENT_HELD_ID = 'demo-agent-held';

export interface DemoAgent {
  index: number;
  agentId: string;
  mode: DemoMode;
  spec: AgentSpecInput;
}

/** What the demo needs of the devnet to give PKP agents their PKPs. */
export interface PkpMinter {
  pkp(publicKey: string): { permittedAddresses: string[] } | undefined;
  mintPkp(permittedAddresses: string[]): { publicKey: string };
  setPkpController(publicKey: string, address: string): void;
}

/**
 * Makes sure every PKP agent up to `count` has a PKP its wallet controls on this devnet: the saved
 * one when the devnet knows it (a restored devnet does), a new one otherwise. Returns the updated
 * keys and the agents that got a new PKP (their spec changes, so their workflow is replaced).
 */
export function ensureDemoPkps(
  keys: DemoKeys,
  devnet: PkpMinter,
  count: number,
): { keys: DemoKeys; minted: string[] } {
  const minted: string[] = [];
  const agents = keys.agents.map((a): DemoAgentKey => {
    if (a.mode !== 'pkp' || a.index > count) return a;
    const known = a.pkpPublicKey ? devnet.pkp(a.pkpPublicKey) : undefined;
    if (known && a.pkpPublicKey) {
      const permitted = known.permittedAddresses.some((p) => p.toLowerCase() === a.address.toLowerCase());
      if (!permitted) devnet.setPkpController(a.pkpPublicKey, a.address);
      return a;
    }
    minted.push(a.agentId);
    return { ...a, pkpPublicKey: devnet.mintPkp([a.address]).publicKey };
  });
  return { keys: { ...keys, agents }, minted };
}

/** Pure: the specs of agents 1..count. */
export function demoAgents(keys: DemoKeys, count: number, ttlMs: number): DemoAgent[] {
  return keys.agents
    .filter((a) => a.index <= count)
    .map((a) => ({
      index: a.index,
      agentId: a.agentId,
      mode: a.mode,
      spec: {
        agentId: a.agentId,
        network: DEMO_NETWORK,
        mode: a.mode,
        signer: `env:${a.envName}`,
        // PKP agents also sign with their PKP (the demo uses every generation: pkp-sign-use.ts).
        ...(a.mode === 'pkp'
          ? {
              pkpPublicKey: a.pkpPublicKey,
              resourceAbilityRequests: [...DEFAULT_RESOURCE_ABILITY_REQUESTS, PKP_SIGNING_ABILITY],
            }
          : {}),
        sessionTtl: ttlMs,
        labels: { app: 'session-keeper-demo' },
      },
    }));
}

/**
 * Pure: the agent-held agent's spec: an EOA agent (its own wallet, `env:DEMO_AGENT_HELD_KEY`) whose
 * keeper mints a capability for `sessionPublicKey` instead of sigs. Listed after the numbered ones.
 */
export function agentHeldAgent(
  keys: DemoKeys,
  sessionPublicKey: string,
  ttlMs: number,
  index: number,
): DemoAgent | undefined {
  if (!keys.agentHeld) return undefined;
  return {
    index,
    agentId: AGENT_HELD_ID,
    mode: 'agent-held',
    spec: {
      agentId: AGENT_HELD_ID,
      network: DEMO_NETWORK,
      mode: 'eoa',
      signer: `env:${AGENT_HELD_ENV_NAME}`,
      sessionPublicKey,
      sessionTtl: ttlMs,
      labels: { app: 'session-keeper-demo' },
    },
  };
}

/** Pure: agents of an earlier run with more `--agents` (stopped, so nothing runs unseen). */
export function surplusAgentIds(keys: DemoKeys, count: number): string[] {
  return keys.agents.filter((a) => a.index > count).map((a) => a.agentId);
}
