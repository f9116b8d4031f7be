/**
 * A mint against the devnet never waits for the block clock: connect + EOA session sigs + PKP
 * session sigs with a fresh client, ten times, on a devnet whose next block is ten minutes away.
 * Every run must finish with the chain still on the same block (a check that waited for a block
 * would hang until the hang detector fires). The median is only reported as a diagnostic:
 * timings live in the benchmarks, not in assertions.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Devnet, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import { connected, eoaSessionSigs, ethers, pkpSessionSigs } from './helpers';

const RUNS = 10;
/** Far longer than the test's hang detector: no block is produced while it runs. */
const BLOCK_TIME_MS = 10 * 60_000;
let devnet: Devnet;

before(async () => {
  devnet = await startDevnet({ blockTimeMs: BLOCK_TIME_MS });
});
after(() => devnet.close());

test(`connect + EOA sigs + PKP sigs, ${RUNS} runs, without waiting for a block`, {
  timeout: 120_000,
}, async (t) => {
  const wallet = ethers.Wallet.createRandom();
  const pkp = devnet.mintPkp([wallet.address]);
  const times: number[] = [];
  const block = devnet.stats().blockNumber;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const client = await connected(devnet.networkConfig());
    try {
      await eoaSessionSigs(client, wallet);
      await pkpSessionSigs(client, wallet, pkp.publicKey);
    } finally {
      await disposeLitClient(client);
    }
    times.push(performance.now() - started);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = (sorted[RUNS / 2 - 1] + sorted[RUNS / 2]) / 2;
  t.diagnostic(`median ${median.toFixed(1)} ms; runs: ${times.map((x) => x.toFixed(0)).join(', ')} ms`);
  assert.equal(devnet.stats().totals.successes.sign_session_key, RUNS * devnet.nodeUrls.length);
  assert.equal(devnet.stats().blockNumber, block, 'every run finished before the next block');
});
