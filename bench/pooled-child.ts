/**
 * The project's pooled adapter in a process of its own, for B1's what-if flow: with `nativeEd25519`
 * it first swaps node:crypto's Ed25519 into the SDK (bench/native-ed25519.ts) — in this process
 * only, so the orchestrator's pooled and naive flows keep the stock SDK.
 * Config from BENCH_POOLED (JSON).
 */
import type { CustomNetworkConfig } from '../src/devnet/lit-config';
import { DEFAULT_RESOURCE_ABILITY_REQUESTS } from '../src/shared/agent-spec';
import { cpuSeconds, NETWORK, pooledActivities } from './common';
import { announceReady, serveParent } from './ipc';
import { installNativeEd25519 } from './native-ed25519';

export interface PooledChildConfig {
  network: CustomNetworkConfig;
  key: string;
  pkpPublicKey: string;
  nativeEd25519: boolean;
  ttlMs: number;
}

export interface PooledMintTiming {
  ms: number;
  cpuMs: number;
  nodes: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_POOLED ?? '') as PooledChildConfig;
  const native = config.nativeEd25519 ? installNativeEd25519() : false;
  const { pool, activities } = pooledActivities(config.network, { B1_KEY: config.key });
  let generation = 0;
  const mint = async (p: { mode: 'eoa' | 'pkp' }): Promise<PooledMintTiming> => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await activities.mintSessionSigs({
      agentId: `b1-child-${p.mode}`,
      network: NETWORK,
      mode: p.mode,
      signer: 'env:B1_KEY',
      ...(p.mode === 'pkp' ? { pkpPublicKey: config.pkpPublicKey } : {}),
      resourceAbilityRequests: DEFAULT_RESOURCE_ABILITY_REQUESTS,
      sessionTtlMs: config.ttlMs,
      generation: ++generation,
    });
    const ms = performance.now() - t0;
    return {
      ms,
      cpuMs: cpuSeconds(cpu0, process.cpuUsage()) * 1000,
      nodes: Object.keys(result.sessionSigs).length,
    };
  };
  // Connect before announcing: the first mint connects the pool.
  await mint({ mode: 'eoa' });
  serveParent({ mint }, () => pool.close());
  announceReady({ nativeEd25519: native, connects: pool.connects });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
