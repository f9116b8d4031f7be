/**
 * Real-server harness for the client and CLI tests: a Temporal dev server (the `temporal` CLI
 * binary) with the keeper's search attributes, a local Lit devnet, and the real worker (workflow +
 * mint activity) with payload encryption, plus helpers to run the CLI as a child process and to
 * decrypt on the devnet with a set of session sigs through the stock Lit SDK.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import type { AccessControlConditions } from '@lit-protocol/types';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ethers } from 'ethers';
import { createKeeperClient, type SessionKeeperClient } from '../../src/client';
import { setupPayloadEncryption } from '../../src/codec/data-converter';
import { type Devnet, startDevnet } from '../../src/devnet';
import { litNodeClientConfigFor } from '../../src/lit/custom-network';
import { disposeLitClient, trackStakingListeners } from '../../src/lit/lit-client-lifecycle';
import type { AgentSpecInput } from '../../src/shared/agent-spec';
import {
  LitAgentId,
  LitNetwork,
  LitSessionExpiresAt,
  LitSessionGeneration,
  LitSessionState,
} from '../../src/shared/search-attributes';
import type { SessionSigsMap } from '../../src/shared/types';
import { executableOption } from '../../src/temporal/binaries';
import { createSessionWorker, type SessionWorker } from '../../src/worker';
import { until as poll } from '../polling';

export const REPO = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO, 'bin', 'session-keeper.js');
export const NETWORK = 'devnet';

function installQuietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Already installed in this process.
  }
}

export interface Agent {
  agentId: string;
  wallet: ethers.Wallet;
  /** `env:NAME` reference the worker resolves. */
  signer: string;
}

export interface Harness {
  env: TestWorkflowEnvironment;
  devnet: Devnet;
  worker: SessionWorker;
  keeper: SessionKeeperClient;
  /** Environment for CLI children and library clients: codec keys and the devnet's network config. */
  childEnv: NodeJS.ProcessEnv;
  address: string;
  agents: Map<string, Agent>;
  /** Makes `count` agents with fresh wallets whose keys the worker can resolve. */
  newAgents(prefix: string, count: number): Agent[];
  lit(): Promise<LitNodeClientNodeJs>;
  close(): Promise<void>;
}

export async function startHarness(opts: { withWorker?: boolean } = {}): Promise<Harness> {
  installQuietRuntime();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: executableOption('temporal'),
      searchAttributes: [LitAgentId, LitNetwork, LitSessionState, LitSessionExpiresAt, LitSessionGeneration],
    },
  });
  const devnet = await startDevnet({ blockTimeMs: 500 });
  const codecKeys = `k1:${randomBytes(32).toString('base64')}`;
  // The CLI children get --address explicitly; nothing of the caller's Temporal setup leaks in.
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(childEnv)) {
    if (/^(TEMPORAL_|LIT_NETWORKS|SESSION_KEEPER_)/.test(k)) delete childEnv[k];
  }
  childEnv.SESSION_KEEPER_CODEC_KEYS = codecKeys;
  childEnv.LIT_NETWORKS = JSON.stringify({ networks: { [NETWORK]: devnet.networkConfig() } });
  const { dataConverter } = setupPayloadEncryption({ temporalAddress: env.address, env: childEnv });
  const keeper = await createKeeperClient({ env: childEnv, connection: { address: env.address } });
  const signerEnv: Record<string, string> = {};
  const agents = new Map<string, Agent>();
  let worker: SessionWorker | undefined;
  let running: Promise<void> | undefined;
  if (opts.withWorker !== false) {
    worker = await createSessionWorker({
      connection: env.nativeConnection,
      networks: { custom: { [NETWORK]: devnet.networkConfig() } },
      client: keeper.temporal,
      dataConverter,
      signerEnvironment: {
        env: signerEnv,
        readFile: () => {
          throw new Error('no key files in these tests');
        },
      },
      maxConcurrentActivities: 50,
    });
    running = worker.run();
  }
  let lit: LitNodeClientNodeJs | undefined;
  return {
    env,
    devnet,
    worker: worker as SessionWorker,
    keeper,
    childEnv,
    address: env.address,
    agents,
    newAgents(prefix, count) {
      return Array.from({ length: count }, (_, i) => {
        const agentId = `${prefix}-${String(i + 1).padStart(2, '0')}`;
        const wallet = ethers.Wallet.createRandom();
        const name = `KEY_${agentId.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`;
        signerEnv[name] = wallet.privateKey;
        // The CLI checks a reference resolves on its machine (the worker shares it: loopback).
        childEnv[name] = wallet.privateKey;
        const agent = { agentId, wallet, signer: `env:${name}` };
        agents.set(agentId, agent);
        return agent;
      });
    },
    async lit() {
      if (!lit) {
        const setup = litNodeClientConfigFor(devnet.networkConfig());
        lit = trackStakingListeners(setup.applyTo(new LitNodeClientNodeJs(setup.config)));
        await lit.connect();
      }
      return lit;
    },
    async close() {
      if (lit) await disposeLitClient(lit);
      worker?.shutdown();
      await running?.catch(() => undefined);
      await keeper.close().catch(() => undefined);
      await env.teardown();
      await devnet.close();
    },
  };
}

/** Spec input for the CLI's --from-file and the library. */
export function specOf(agent: Agent, extra: Partial<AgentSpecInput> = {}): AgentSpecInput {
  return { agentId: agent.agentId, network: NETWORK, mode: 'eoa', signer: agent.signer, ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs `npx session-keeper …` from the repository root with the harness environment: exactly the
 * command the README shows (npm 11 runs the bin from a link in its own cache, not bin/ itself).
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['--no-install', 'session-keeper', ...args], {
      env,
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`session-keeper ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr: ${stderr}`),
      );
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** `until` of ../polling with positional time limits, as the client tests call it. */
export function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  return poll(what, probe, { timeoutMs, intervalMs });
}

export function userAddressCondition(address: string): AccessControlConditions {
  return [
    {
      contractAddress: '',
      standardContractType: '',
      chain: 'ethereum',
      method: '',
      parameters: [':userAddress'],
      returnValueTest: { comparator: '=', value: address },
    },
  ] as AccessControlConditions;
}

/** Encrypts `text` so that only `address` may decrypt it, then decrypts it with `sessionSigs`. */
export async function decryptRoundTrip(
  lit: LitNodeClientNodeJs,
  address: string,
  sessionSigs: SessionSigsMap,
  text = `secret for ${address}`,
): Promise<string> {
  const accessControlConditions = userAddressCondition(address);
  const { ciphertext, dataToEncryptHash } = await lit.encrypt({
    accessControlConditions,
    dataToEncrypt: new TextEncoder().encode(text),
  });
  const { decryptedData } = await lit.decrypt({
    accessControlConditions,
    ciphertext,
    dataToEncryptHash,
    chain: 'ethereum',
    sessionSigs: sessionSigs as any,
  });
  return new TextDecoder().decode(decryptedData);
}
