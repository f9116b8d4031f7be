/**
 * How long a mint costs against the devnet: connect + EOA session sigs + PKP session sigs with a
 * fresh client, ten times; the median is reported as a test diagnostic. The bound is loose — it
 * catches a devnet that became slow (e.g. a check blocking on the block clock), not jitter.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Devnet, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import { connected, eoaSessionSigs, ethers, pkpSessionSigs } from './helpers';

const RUNS = 10;
let devnet: Devnet;

before(async () => {
  devnet = await startDevnet();
});
after(() => devnet.close());

test(`median of connect + EOA sigs + PKP sigs over ${RUNS} runs`, async (t) => {
  const wallet = ethers.Wallet.createRandom();
  const pkp = devnet.mintPkp([wallet.address]);
  const times: number[] = [];
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
  assert.ok(median < 3000, `median ${median} ms`);
});
