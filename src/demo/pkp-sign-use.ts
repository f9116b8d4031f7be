/**
 * The demo's PKP agents use their sigs the way agents do: with every new generation the demo, as
 * the agent, signs a message with its PKP through the stock SDK's `pkpSign` and checks that the
 * signature recovers to the PKP's address. A sig the network refuses shows up at once as a failed
 * "last use", not only when it expires.
 */
import { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { ethers } from 'ethers';
import { litErrorCodeOf } from '../devnet';
import { litNodeClientConfigFor } from '../lit/custom-network';
import { disposeLitClient, trackStakingListeners } from '../lit/lit-client-lifecycle';
import type { CustomNetworkConfig } from '../shared/network-config';
import type { SessionStatus } from '../shared/types';

/** The outcome of one use of one generation's sigs. */
export interface SigsUse {
  op: 'pkpSign' | 'decrypt';
  generation: number;
  ok: boolean;
  ms: number;
  /** The signer address on success; Lit's error code (or the message) on failure. */
  detail: string;
}

/** Pure: the `pkpSign` abilities a demo PKP agent asks for, beside decryption. */
export const PKP_SIGNING_ABILITY = { resource: 'lit-pkp://*', ability: 'pkp-signing' } as const;

/** Pure: the digest signed for an agent's generation (different every generation). */
export function useDigest(agentId: string, generation: number): Uint8Array {
  return ethers.utils.arrayify(ethers.utils.keccak256(ethers.utils.toUtf8Bytes(`${agentId}#${generation}`)));
}

export class PkpSignUser {
  private client: Promise<LitNodeClientNodeJs> | undefined;
  private readonly used = new Map<string, SigsUse>();

  constructor(private readonly network: CustomNetworkConfig) {}

  /** The last use of this agent's sigs, if any. */
  lastUse(agentId: string): SigsUse | undefined {
    return this.used.get(agentId);
  }

  /**
   * Signs once per generation with the status's sigs (a generation already used is not used again);
   * returns the use that happened now, if one did.
   */
  async useOnce(status: SessionStatus, pkpPublicKey: string): Promise<SigsUse | undefined> {
    const generation = status.generation;
    if (!status.sessionSigs || generation === null || generation === undefined) return undefined;
    if ((this.used.get(status.agentId)?.generation ?? -1) >= generation) return undefined;
    const started = Date.now();
    const digest = useDigest(status.agentId, generation);
    let use: SigsUse;
    try {
      const client = await this.connected();
      const sig = await client.pkpSign({
        pubKey: pkpPublicKey,
        toSign: digest,
        sessionSigs: status.sessionSigs as Parameters<LitNodeClientNodeJs['pkpSign']>[0]['sessionSigs'],
      });
      const signer = ethers.utils.recoverAddress(digest, sig.signature);
      const expected = ethers.utils.computeAddress(pkpPublicKey);
      use = {
        op: 'pkpSign',
        generation,
        ok: signer === expected,
        ms: Date.now() - started,
        detail: signer === expected ? signer : `signed by ${signer}, not the PKP ${expected}`,
      };
    } catch (err) {
      use = {
        op: 'pkpSign',
        generation,
        ok: false,
        ms: Date.now() - started,
        detail: litErrorCodeOf(err) ?? String((err as Error)?.message ?? err).split('\n')[0],
      };
    }
    this.used.set(status.agentId, use);
    return use;
  }

  private connected(): Promise<LitNodeClientNodeJs> {
    if (!this.client) {
      const setup = litNodeClientConfigFor(this.network);
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
    if (client) await disposeLitClient(client);
  }
}
