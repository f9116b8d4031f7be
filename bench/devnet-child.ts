/**
 * The Lit devnet in a process of its own (child of bench/run.ts): the Lit network is remote in
 * production, so it should not share an event loop with the client or worker being measured.
 * Config from BENCH_DEVNET (JSON: { blockTimeMs, nodes? }).
 */
import { startDevnet } from '../src/devnet';
import { announceReady, serveParent } from './ipc';

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_DEVNET ?? '{}') as { blockTimeMs?: number; nodes?: number };
  const devnet = await startDevnet({ blockTimeMs: config.blockTimeMs ?? 1_000, nodes: config.nodes ?? 3 });
  serveParent(
    {
      mintPkp: (p: { permittedAddresses: string[] }) => devnet.mintPkp(p.permittedAddresses),
      stats: () => {
        const s = devnet.stats();
        return {
          cpu: process.cpuUsage(),
          nodeRequests: s.totals.requests,
          rpc: s.rpc,
          blockIndexerRequests: s.blockIndexerRequests,
        };
      },
    },
    () => devnet.close(),
  );
  announceReady({ network: devnet.networkConfig(), nodeUrls: devnet.nodeUrls });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
