/**
 * `session-keeper devnet`: runs a local Lit network on loopback for development and chaos tests.
 * stdout carries exactly one JSON line (the endpoints) so scripts can read it; logs go to stderr.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import {
  DEFAULT_BLOCK_TIME_MS,
  DEFAULT_NETWORK_NAME,
  DEFAULT_NODES,
  defaultThreshold,
  startDevnet,
} from '../../devnet';
import type { CustomNetworkConfig } from '../../lit/custom-network';
import { parseDuration } from '../../shared/duration';
import { oneLineErrors } from '../output';

interface DevnetFlags {
  nodes: number;
  threshold?: number;
  blockTime: number;
  port: number;
  writeConfig?: string;
  networkName: string;
  stateFile?: string;
  bindHost?: string;
  advertiseHost?: string;
  litActionMemory: number;
}

function positiveInt(what: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > max)
      throw new InvalidArgumentError(`${what} must be an integer 1-${max}`);
    return n;
  };
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be a port number, 0-65535');
  return n;
}

function blockTime(value: string): number {
  const n = parseDuration(value);
  if (n === undefined || n < 10)
    throw new InvalidArgumentError('must be a duration of at least 10ms, e.g. 2s, 500ms');
  return n;
}

function networkName(value: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(value)) {
    throw new InvalidArgumentError('must be lowercase letters, digits and "-", e.g. devnet');
  }
  return value;
}

/**
 * Adds (or replaces) this network in the worker's network config file, keeping any other
 * networks already there; written via a temporary file so a reader never sees half of it.
 */
export async function writeNetworkConfig(
  file: string,
  name: string,
  network: CustomNetworkConfig,
): Promise<void> {
  let doc: { networks?: Record<string, unknown> } = {};
  try {
    const existing = JSON.parse(await readFile(file, 'utf8')) as unknown;
    if (existing && typeof existing === 'object' && !Array.isArray(existing)) doc = existing as typeof doc;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(
        `cannot update ${file}: it exists but is not a JSON network config (${(e as Error).message})`,
      );
    }
  }
  const networks = doc.networks && typeof doc.networks === 'object' ? doc.networks : {};
  const next = { ...doc, networks: { ...networks, [name]: network } };
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, file);
}

export function register(program: Command): void {
  const cmd = program
    .command('devnet')
    .description(
      'Run a local Lit network (chain RPC, block indexer, nodes, admin API) on 127.0.0.1 until stopped',
    )
    .option('--nodes <n>', 'number of nodes', positiveInt('nodes', 255), DEFAULT_NODES)
    .option(
      '--threshold <t>',
      'signature shares needed (default: 2/3 of the nodes, rounded up)',
      positiveInt('threshold', 255),
    )
    .addOption(
      new Option('--block-time <duration>', 'time between blocks, e.g. 2s or 200ms')
        .argParser(blockTime)
        .default(DEFAULT_BLOCK_TIME_MS, '2s'),
    )
    .option(
      '--port <port>',
      'base port: RPC P, block indexer P+1, admin P+2, nodes P+3…; 0 = ephemeral',
      port,
      0,
    )
    .option('--write-config <file>', "write the worker's custom-network config for this devnet to FILE")
    .option('--network-name <name>', 'network name in the written config', networkName, DEFAULT_NETWORK_NAME)
    .option(
      '--state-file <file>',
      'keep the network (key, ports, PKPs, epoch) in FILE so a restart is the same network',
    )
    .option(
      '--bind-host <ip>',
      'interface for the RPC, block indexer and nodes (default 127.0.0.1; the admin API stays on loopback)',
    )
    .option(
      '--advertise-host <ipv4>',
      'address published for them, e.g. a container IP (default: the bind host)',
    )
    .option(
      '--lit-action-memory <mb>',
      'heap limit of the worker thread each Lit Action runs in, MB',
      positiveInt('lit action memory', 4096),
      64,
    )
    .addHelpText(
      'after',
      `
Prints one JSON line on stdout:
  {"rpcUrl","stakingAddress","blockIndexerUrl","nodeUrls":[…],"networkPublicKey","adminUrl"}
then serves until SIGINT/SIGTERM. Logs go to stderr (LOG_LEVEL, default info).

Admin API (JSON, loopback only) at adminUrl:
  POST /pkps {"permittedAddresses":["0x…"]}             mint a PKP
  POST /faults {"node":0,"mode":"down|hang|latency|error500|error429|none","latencyMs":500}
  POST /chain-faults {"staleBlockhash":true}             advertise a blockhash nodes refuse
  POST /epoch {"dropNode":0,"addNode":true}              next epoch, new validator set
  POST /lit-actions {"code":"Lit.Actions.setResponse(…)"} store a Lit Action → {"ipfsId":"Qm…"}
                                                         (executeJs by ipfsId; kept in --state-file)
  POST /pkps/permitted-actions {"publicKey":"0x04…","ipfsId":"Qm…","permitted":true}
                                                         let the action authorise the PKP's sessions
  POST /clock {"offsetMs":3600000}                       run the nodes' clock ahead (0 resets it)
  GET  /stats                                            request counts per node and endpoint

Example:
  session-keeper devnet --nodes 3 --block-time 2s --write-config ./lit-networks.json`,
    )
    .action(async (flags: DevnetFlags) => {
      const threshold = flags.threshold ?? defaultThreshold(flags.nodes);
      if (threshold > flags.nodes) {
        throw new InvalidArgumentError(`--threshold ${threshold} is more than --nodes ${flags.nodes}`);
      }
      const logger = pino(
        { level: process.env.LOG_LEVEL ?? 'info', base: { component: 'devnet' } },
        pino.destination({ dest: 2, sync: true }),
      );
      const devnet = await startDevnet({
        nodes: flags.nodes,
        threshold,
        blockTimeMs: flags.blockTime,
        basePort: flags.port,
        logger,
        ...(flags.stateFile ? { stateFile: flags.stateFile } : {}),
        ...(flags.bindHost ? { bindHost: flags.bindHost } : {}),
        ...(flags.advertiseHost ? { advertiseHost: flags.advertiseHost } : {}),
        litActionMemoryMb: flags.litActionMemory,
      });
      const stopped = new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      try {
        if (flags.writeConfig) {
          await writeNetworkConfig(flags.writeConfig, flags.networkName, devnet.networkConfig());
          logger.info({ file: flags.writeConfig, network: flags.networkName }, 'wrote network config');
        }
      } catch (e) {
        await devnet.close();
        throw e;
      }
      process.stdout.write(`${JSON.stringify(devnet.info())}\n`);
      const signal = await stopped;
      logger.info({ signal }, 'stopping devnet');
      await devnet.close();
      logger.flush();
      process.exit(0);
    });
  oneLineErrors(cmd, 'session-keeper devnet');
}
