/**
 * The demo's agent-held agent (issue 20) uses its sigs the way such an agent does: with every new
 * generation of its capability the demo, as the agent, makes its own per-node session sigs with
 * `AgentSessionSigner` (its own session key pair, its own connected Lit client), encrypts a message
 * for its wallet's address and decrypts it with those sigs. A capability the nodes refuse shows
 * up at once as a failed "last use".
 */
import { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import type { AccessControlConditions } from '@lit-protocol/types';
import { AgentSessionSigner, type CapabilityStatus } from '../client/agent-session-signer';
import type { SessionKeyPair } from '../client/session-key-file';
import { litErrorCodeOf } from '../devnet';
import { litNodeClientConfigFor } from '../lit/custom-network';
import { disposeLitClient, trackStakingListeners } from '../lit/lit-client-lifecycle';
import type { CustomNetworkConfig } from '../shared/network-config';
import type { SessionStatus } from '../shared/types';
import type { SigsUse } from './pkp-sign-use';

export interface AgentHeldUserOptions {
  network: CustomNetworkConfig;
  agentId: string;
  /** The agent's own key pair (its session key file). */
  sessionKey: SessionKeyPair;
  /** The agent's wallet address: the decrypt's access condition (`:userAddress`). */
  address: string;
  /** The keeper's status query, e.g. `(id) => keeper.querySessionStatus(id)`. */
  fetchStatus: (agentId: string) => Promise<CapabilityStatus>;
}

/** Pure: only the agent's wallet may decrypt. */
export function ownerOnlyCondition(address: string): AccessControlConditions {
  return [
    {
      contractAddress: '',
      standardContractType: '',
      chain: 'ethereum',
      method: '',
      parameters: [':userAddress'],
      returnValueTest: { comparator: '=', value: address },
    },
  ];
}

export class AgentHeldUser {
  private client: Promise<LitNodeClientNodeJs> | undefined;
  private signer: AgentSessionSigner | undefined;
  private use: SigsUse | undefined;

  constructor(private readonly opts: AgentHeldUserOptions) {}

  /** The last use of the agent's own sigs, if any. */
  lastUse(agentId: string): SigsUse | undefined {
    return agentId === this.opts.agentId ? this.use : undefined;
  }

  /** Decrypts once per generation with sigs the agent made itself; returns the use made now, if one. */
  async useOnce(status: SessionStatus): Promise<SigsUse | undefined> {
    const generation = status.generation;
    if (!status.capability || generation === null || generation === undefined) return undefined;
    if ((this.use?.generation ?? -1) >= generation) return undefined;
    const started = Date.now();
    const text = `${this.opts.agentId}#${generation}`;
    let use: SigsUse;
    try {
      const client = await this.connected();
      const signer = this.signerFor(client);
      const sigs = await signer.getWithInfo();
      const accessControlConditions = ownerOnlyCondition(this.opts.address);
      const encrypted = await client.encrypt({
        accessControlConditions,
        dataToEncrypt: new TextEncoder().encode(text),
      });
      const { decryptedData } = await client.decrypt({
        ...encrypted,
        accessControlConditions,
        chain: 'ethereum',
        sessionSigs: sigs.sessionSigs as Parameters<LitNodeClientNodeJs['decrypt']>[0]['sessionSigs'],
      });
      const ok = new TextDecoder().decode(decryptedData) === text;
      use = {
        op: 'decrypt',
        generation,
        ok,
        ms: Date.now() - started,
        detail: ok
          ? `own sigs for ${sigs.nodeUrls.length} nodes (agent key ${signer.sessionPublicKey.slice(0, 8)}…)`
          : 'decrypted something else',
      };
    } catch (err) {
      use = {
        op: 'decrypt',
        generation,
        ok: false,
        ms: Date.now() - started,
        detail: litErrorCodeOf(err) ?? String((err as Error)?.message ?? err).split('\n')[0],
      };
    }
    this.use = use;
    return use;
  }

  private signerFor(client: LitNodeClientNodeJs): AgentSessionSigner {
    if (!this.signer) {
      this.signer = new AgentSessionSigner({
        agentId: this.opts.agentId,
        sessionKey: this.opts.sessionKey,
        litNodeClient: client,
        fetchStatus: this.opts.fetchStatus,
        // Short demo TTLs (down to a minute): use a capability to its last seconds, wait briefly.
        minValidityMs: 5_000,
        minSigValidityMs: 2_000,
        sigTtlMs: 60_000,
        waitTimeoutMs: 10_000,
      });
    }
    return this.signer;
  }

  private connected(): Promise<LitNodeClientNodeJs> {
    if (!this.client) {
      const setup = litNodeClientConfigFor(this.opts.network);
      const client = trackStakingListeners(setup.applyTo(new LitNodeClientNodeJs(setup.config)));
      this.client = client.connect().then(() => client);
      // A failed connect is retried on the next use.
      this.client.catch(() => {
        this.client = undefined;
      });
    }
    return this.client;
  }

  async close(): Promise<void> {
    const client = await this.client?.catch(() => undefined);
    this.client = undefined;
    this.signer = undefined;
    if (client) await disposeLitClient(client);
  }
}
