/**
 * Runs pooled mints back to back against a devnet in a child process, for profiling the client
 * side of one refresh:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-mint.ts --mode eoa --count 50
 *     [--ed25519 native|sdk]   (default native: as createSessionWorker sets the process up)
 *   node --import tsx bench/profile-summary.ts /tmp/prof/*.cpuprofile --filter mintSessionSigs
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ethers } from 'ethers';
import { activeEd25519, useNativeEd25519 } from '../src/lit/native-ed25519';
import { DEFAULT_RESOURCE_ABILITY_REQUESTS } from '../src/shared/agent-spec';
import { DevnetHandle, NETWORK, pooledActivities } from './common';
import { median } from './stats';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'eoa' },
      count: { type: 'string', default: '50' },
      ed25519: { type: 'string', default: 'native' },
    },
  });
  if (values.ed25519 !== 'native' && values.ed25519 !== 'sdk') throw new Error('--ed25519 native|sdk');
  if (values.ed25519 === 'native') useNativeEd25519();
  const mode = values.mode === 'pkp' ? 'pkp' : 'eoa';
  const count = Number(values.count);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keeper-profile-'));
  const devnet = await DevnetHandle.start({ runDir }, 1_000);
  const wallet = ethers.Wallet.createRandom();
  const pkpPublicKey = mode === 'pkp' ? await devnet.pkpFor(wallet.address) : undefined;
  const { pool, activities } = pooledActivities(devnet.network, { KEY: wallet.privateKey });
  const times: number[] = [];
  try {
    for (let i = 0; i <= count; i++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await activities.mintSessionSigs({
        agentId: 'profile',
        network: NETWORK,
        mode,
        signer: 'env:KEY',
        ...(pkpPublicKey ? { pkpPublicKey } : {}),
        resourceAbilityRequests: DEFAULT_RESOURCE_ABILITY_REQUESTS,
        sessionTtlMs: 3600_000,
        generation: i + 1,
      });
      const cpu = process.cpuUsage(cpu0);
      // The first one connects.
      if (i > 0) times.push(performance.now() - t0);
      if (i === count) console.log(`last mint: ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms CPU`);
    }
    console.log(
      `${mode} (Ed25519 ${activeEd25519()}): ${count} pooled mints, median ${median(times).toFixed(1)} ms`,
    );
  } finally {
    await pool.close();
    await devnet.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
