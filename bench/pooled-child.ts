/**
 * The project's pooled adapter in a process of its own, for B1's pooled flows. The Ed25519 swap is
 * process-wide, so each setup gets its own process:
 *
 * - the product (`ed25519: 'native'`, `recheckOwnAuthSigs: false`), as `createSessionWorker` sets
 *   it up: `useNativeEd25519()` (src/lit/native-ed25519.ts) swaps node:crypto's Ed25519 into
 *   the SDK after its self-check, and the pool skips the SDK's re-check of the signature our
 *   callback has just made (src/lit/own-auth-sig.ts).
 * - the stock SDK, pooled (`ed25519: 'sdk'`, `recheckOwnAuthSigs: true`): the same adapter and
 *   pool with the SDK's own pure-JavaScript Ed25519 and its re-check; what pooling alone gives.
 *
 * The orchestrator, where B1's naive flow runs, never installs the swap. Config from BENCH_POOLED (JSON).
 */

import type { CustomNetworkConfig } from '../src/lit/custom-network';
import { activeEd25519, type Ed25519Backend, useNativeEd25519 } from '../src/lit/native-ed25519';
import { DEFAULT_RESOURCE_ABILITY_REQUESTS } from '../src/shared/agent-spec';
import type { MintResult } from '../src/shared/types';
import { cpuSeconds, NETWORK, pooledActivities } from './common';
import { announceReady, serveParent } from './ipc';

export interface PooledChildConfig {
  network: CustomNetworkConfig;
  key: string;
  pkpPublicKey: string;
  /** The Ed25519 backend to set up, as `createSessionWorker({ ed25519 })` does. */
  ed25519: Ed25519Backend;
  /** Keep the SDK's re-check of our own wallet signature (the stock behaviour). */
  recheckOwnAuthSigs: boolean;
  ttlMs: number;
}

export interface PooledChildReady {
  /** The backend actually in use (`native` can fall back to `sdk` if its self-check fails). */
  ed25519: Ed25519Backend;
  connects: number;
  /** The first refresh, which also connects the pool (not in B1's tables). */
  firstMintMs: number;
}

export interface PooledMintTiming {
  ms: number;
  cpuMs: number;
  nodes: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_POOLED ?? '') as PooledChildConfig;
  // As createSessionWorker does (src/worker.ts); `sdk` leaves the SDK's own implementation.
  if (config.ed25519 === 'native') useNativeEd25519();
  const { pool, activities } = pooledActivities(
    config.network,
    { B1_KEY: config.key },
    { recheckOwnAuthSigs: config.recheckOwnAuthSigs },
  );
  let generation = 0;
  let last: MintResult | undefined;
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
    last = result;
    return {
      ms,
      cpuMs: cpuSeconds(cpu0, process.cpuUsage()) * 1000,
      nodes: Object.keys(result.sessionSigs).length,
    };
  };
  // Connect before announcing: the first mint connects the pool (timed, reported as the first mint).
  const first = await mint({ mode: 'eoa' });
  serveParent(
    {
      mint,
      connects: () => pool.connects,
      /** The sigs of the last refresh (B1 times the steps of a refresh on its messages). */
      lastResult: () => last,
    },
    () => pool.close(),
  );
  announceReady({
    ed25519: activeEd25519(),
    connects: pool.connects,
    firstMintMs: first.ms,
  } satisfies PooledChildReady);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
