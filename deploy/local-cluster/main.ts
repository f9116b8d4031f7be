/**
 * `npm run cluster -- [--workers N] [--temporal-port P] [--dir D]`: the production shape on this
 * machine, without Docker. Installs what is missing (PostgreSQL from Debian's packages, the Temporal
 * server built from the Go module proxy, cached), starts PostgreSQL, the Temporal server on it, a
 * Lit devnet (as compose's `local` profile does) and N workers, prints what runs where, and stops
 * everything on Ctrl-C.
 */
import fs from 'node:fs';
import path from 'node:path';
import Table from 'cli-table3';
import { Command, InvalidArgumentError } from 'commander';
import { startDevnet } from '../../src/devnet';
import { REPO_ROOT } from './compose-source';
import { LocalCluster } from './local-cluster';

function int(what: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      throw new InvalidArgumentError(`${what} must be ${min}-${max}`);
    return n;
  };
}

async function main(argv: string[]): Promise<void> {
  const opts = new Command('cluster')
    .description('PostgreSQL + Temporal server + devnet + N session-keeper workers on loopback')
    .option('--workers <n>', 'worker processes', int('--workers', 1, 32), 3)
    .option('--temporal-port <port>', 'Temporal frontend port', int('--temporal-port', 1, 65535), 7233)
    .option('--dir <path>', 'data and logs (kept between runs)', path.join(REPO_ROOT, '.cluster'))
    .parse(argv)
    .opts<{ workers: number; temporalPort: number; dir: string }>();

  const log = (line: string) => console.log(`cluster: ${line}`);
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true });
  const devnet = await startDevnet({ stateFile: path.join(dir, 'devnet-state.json') });
  const networksFile = path.join(dir, 'networks.json');
  fs.writeFileSync(networksFile, JSON.stringify({ networks: { devnet: devnet.networkConfig() } }));
  log(`Lit devnet: ${devnet.nodeUrls.length} nodes, network "devnet" in ${networksFile}`);
  const cluster = await LocalCluster.start({ dir, temporalPort: opts.temporalPort, networksFile, log });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log('stopping workers, Temporal server, PostgreSQL, devnet');
    await cluster.stop();
    await devnet.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  for (let slot = 1; slot <= opts.workers; slot++) await cluster.startWorker(slot);
  // Plain borders, no colours: the table is read in terminals and in logs alike.
  const table = new Table({ head: ['part', 'where', 'log'], style: { head: [], border: [] } });
  table.push(
    ['PostgreSQL', cluster.postgres.address, path.join(dir, 'postgres', 'postgres.log')],
    [`Temporal server ${cluster.facts.temporalServerVersion}`, cluster.address, cluster.server.logFile],
    ['Lit devnet', devnet.nodeUrls.join(' '), '-'],
    ...[...cluster.workers.values()].map((w) => [
      `worker ${w.slot} (pid ${w.pid})`,
      `metrics http://${w.metricsAddress}/metrics`,
      w.logFile,
    ]),
  );
  console.log(table.toString());
  console.log(
    `Use it: TEMPORAL_ADDRESS=${cluster.address} LIT_NETWORKS_FILE=${networksFile} SESSION_KEEPER_CODEC_KEYS_FILE=${cluster.workerEnv.SESSION_KEEPER_CODEC_KEYS_FILE} npx session-keeper agent start …  (Ctrl-C stops everything)`,
  );
}

main(process.argv).catch((err) => {
  console.error(`cluster: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
