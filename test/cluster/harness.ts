/**
 * The cluster suite's environment: the local cluster of deploy/local-cluster (PostgreSQL, the
 * Temporal server on it, worker processes with compose's environment), the Lit devnet in a process
 * of its own (`session-keeper devnet`, see devnet-process.ts), a fleet of EOA and PKP agents whose
 * keys only the workers hold (env references), and the keeper client the CLI would build.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ethers } from 'ethers';
import { LocalCluster } from '../../deploy/local-cluster/local-cluster';
import { createKeeperClient, type SessionKeeperClient } from '../../src/client';
import type { SessionStatus } from '../../src/shared/types';
import type { ChaosAgent } from '../chaos/harness';
import { NETWORK, startFleetOf, statusesOf } from '../chaos/harness';
import { DevnetProcess } from './devnet-process';

export interface FleetTiming {
  sessionTtlMs: number;
  renewBeforeMs: number;
  jitter: number;
}

export class ClusterEnv {
  private constructor(
    readonly dir: string,
    readonly devnet: DevnetProcess,
    readonly cluster: LocalCluster,
    readonly keeper: SessionKeeperClient,
    readonly agents: ChaosAgent[],
    /** What a client (the CLI, an agent) needs to reach the cluster. */
    readonly clientEnv: NodeJS.ProcessEnv,
  ) {}

  static async start(opts: {
    eoa: number;
    pkp: number;
    timing: FleetTiming;
    blockTimeMs: number;
  }): Promise<ClusterEnv> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'session-keeper-cluster-suite-'));
    fs.chmodSync(tmp, 0o755); // PostgreSQL's own user works in a directory under it
    const networksFile = path.join(tmp, 'networks.json');
    const devnet = await DevnetProcess.start({
      blockTimeMs: opts.blockTimeMs,
      networksFile,
      networkName: NETWORK,
      logFile: path.join(tmp, 'devnet.log'),
    });
    let cluster: LocalCluster | undefined;
    try {
      const agents: ChaosAgent[] = [];
      const keys: Record<string, string> = {};
      const spec = {
        network: NETWORK,
        sessionTtl: opts.timing.sessionTtlMs,
        refresh: { renewBefore: opts.timing.renewBeforeMs, jitter: opts.timing.jitter },
      };
      for (let i = 1; i <= opts.eoa; i++) {
        const wallet = ethers.Wallet.createRandom();
        keys[`CLUSTER_KEY_EOA_${i}`] = wallet.privateKey;
        const agentId = `cluster-eoa-${i}`;
        agents.push({
          agentId,
          mode: 'eoa',
          address: wallet.address,
          spec: { agentId, mode: 'eoa', signer: `env:CLUSTER_KEY_EOA_${i}`, ...spec },
        });
      }
      for (let i = 1; i <= opts.pkp; i++) {
        const controller = ethers.Wallet.createRandom();
        keys[`CLUSTER_KEY_PKP_${i}`] = controller.privateKey;
        const pkp = await devnet.mintPkp([controller.address]);
        const agentId = `cluster-pkp-${i}`;
        agents.push({
          agentId,
          mode: 'pkp',
          address: pkp.ethAddress,
          pkpPublicKey: pkp.publicKey,
          spec: {
            agentId,
            mode: 'pkp',
            signer: `env:CLUSTER_KEY_PKP_${i}`,
            pkpPublicKey: pkp.publicKey,
            ...spec,
          },
        });
      }
      cluster = await LocalCluster.start({
        dir: path.join(tmp, 'cluster'),
        networksFile,
        workerEnv: { ...keys, SESSION_KEEPER_HANDSHAKE_TIMEOUT: '2s' },
        log: (line) => console.log(`cluster: ${line}`),
      });
      const clientEnv: NodeJS.ProcessEnv = {
        ...process.env,
        TEMPORAL_ADDRESS: cluster.address,
        TEMPORAL_NAMESPACE: cluster.namespace,
        SESSION_KEEPER_CODEC_KEYS_FILE: cluster.workerEnv.SESSION_KEEPER_CODEC_KEYS_FILE,
        LIT_NETWORKS_FILE: networksFile,
      };
      delete clientEnv.SESSION_KEEPER_CODEC_KEYS;
      const keeper = await createKeeperClient({ env: clientEnv, queryTimeoutMs: 8_000 });
      return new ClusterEnv(tmp, devnet, cluster, keeper, agents, clientEnv);
    } catch (err) {
      await cluster?.stop().catch(() => undefined);
      await devnet.close();
      throw err;
    }
  }

  startFleet(): Promise<void> {
    return startFleetOf(this.keeper, this.agents);
  }

  statuses(): Promise<SessionStatus[]> {
    return statusesOf(this.keeper, this.agents);
  }

  workerLogs(): { worker: string; text: string }[] {
    return this.cluster.allWorkers.map((w) => ({
      worker: `w${w.slot}.${w.incarnation}`,
      text: fs.existsSync(w.logFile) ? fs.readFileSync(w.logFile, 'utf8') : '',
    }));
  }

  async close(): Promise<void> {
    await this.keeper.close().catch(() => undefined);
    await this.cluster.stop().catch(() => undefined);
    await this.devnet.close();
  }
}
