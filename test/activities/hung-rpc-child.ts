/**
 * Run by hung-rpc-connect.test.ts as its own process: connects the worker's Lit client pool to a
 * custom network whose RPC (argv[2]) accepts connections and never answers, once with the RPC
 * deadline longer than the connect deadline and once shorter, and prints one JSON line per attempt.
 * It then returns without closing anything: the test checks that the process exits by itself,
 * i.e. that a failed connect leaves no socket, timer or poller behind.
 */
import { classifyLitError } from '../../src/lit/error-classification';
import { LitClientPool } from '../../src/lit/lit-client-pool';
import { resolveNetworkTarget } from '../../src/lit/network-targets';

const rpcUrl = process.argv[2];
const networks = {
  custom: {
    hung: {
      rpcUrl,
      stakingAddress: `0x${'11'.repeat(20)}`,
      blockIndexerUrl: `${rpcUrl}/get_most_recent_valid_block`,
    },
  },
};

async function attempt(name: string, bounds: { connectTimeoutMs: number; rpcTimeoutMs: number }) {
  const pool = new LitClientPool({ resolveNetwork: (n) => resolveNetworkTarget(n, networks), ...bounds });
  const started = performance.now();
  try {
    await pool.acquire('hung');
    console.log(JSON.stringify({ name, connected: true }));
  } catch (err) {
    const c = classifyLitError(err);
    console.log(JSON.stringify({ name, ms: Math.round(performance.now() - started), ...c }));
  }
}

void (async () => {
  await attempt('connect deadline', { connectTimeoutMs: 3_000, rpcTimeoutMs: 600_000 });
  await attempt('rpc deadline', { connectTimeoutMs: 600_000, rpcTimeoutMs: 1_000 });
  console.log(JSON.stringify({ done: true, resources: process.getActiveResourcesInfo() }));
})();
