/**
 * The cluster suite's Lit network: `session-keeper devnet` in a process of its own, started as a
 * user starts it, driven through its admin API. In production the Lit nodes are other machines;
 * sharing an event loop with the suite's monitor (hundreds of status queries and decrypts a tick)
 * made the nodes answer the workers late under a 200-agent rotation, so block-indexer requests and
 * mints timed out for reasons no deployment has.
 *
 * What the monitor reads synchronously (`stats()`, `nodeUrls`) is the admin API's latest answer,
 * refreshed every second; the suite injects no Lit faults, so nothing it judges changes faster.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { DevnetInfo, DevnetStats } from '../../src/devnet';
import type { CustomNetworkConfig } from '../../src/shared/network-config';

const BIN = path.join(__dirname, '..', '..', 'bin', 'session-keeper.js');
const START_TIMEOUT_MS = 60_000;
const ADMIN_TIMEOUT_MS = 10_000;
const STATS_EVERY_MS = 1_000;

export class DevnetProcess {
  private latest: DevnetStats;
  private readonly poller: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly info: DevnetInfo,
    private readonly config: Required<CustomNetworkConfig>,
    first: DevnetStats,
    readonly logFile: string,
  ) {
    this.latest = first;
    this.poller = setInterval(() => {
      this.admin<DevnetStats>('GET', '/stats')
        .then((s) => {
          this.latest = s;
        })
        .catch(() => undefined); // the last answer stands; close() stops the polling
    }, STATS_EVERY_MS);
    this.poller.unref();
  }

  /** Starts `session-keeper devnet`, which writes the workers' networks file (`--write-config`). */
  static async start(opts: {
    blockTimeMs: number;
    networksFile: string;
    networkName: string;
    logFile: string;
  }): Promise<DevnetProcess> {
    const log = fs.openSync(opts.logFile, 'a');
    const child = spawn(
      process.execPath,
      [
        BIN,
        'devnet',
        '--nodes',
        '3',
        '--block-time',
        `${opts.blockTimeMs}ms`,
        '--write-config',
        opts.networksFile,
        '--network-name',
        opts.networkName,
      ],
      { stdio: ['ignore', 'pipe', log] },
    );
    fs.closeSync(log);
    try {
      const info = await firstJsonLine<DevnetInfo>(child, opts.logFile);
      const file = JSON.parse(fs.readFileSync(opts.networksFile, 'utf8')) as {
        networks: Record<string, Required<CustomNetworkConfig>>;
      };
      const config = file.networks[opts.networkName];
      if (!config) throw new Error(`${opts.networksFile} has no network "${opts.networkName}"`);
      const stats = await adminRequest<DevnetStats>(info.adminUrl, 'GET', '/stats');
      return new DevnetProcess(child, info, config, stats, opts.logFile);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  get nodeUrls(): string[] {
    return this.latest.nodeUrls;
  }

  get threshold(): number {
    return this.latest.threshold;
  }

  networkConfig(): Required<CustomNetworkConfig> {
    return this.config;
  }

  stats(): DevnetStats {
    return this.latest;
  }

  mintPkp(permittedAddresses: string[]): Promise<{ publicKey: string; ethAddress: string }> {
    return this.admin('POST', '/pkps', { permittedAddresses });
  }

  /** SIGTERM, as a user stops it; SIGKILL if it has not exited 15 s later. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poller);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  private admin<T>(method: string, route: string, body?: unknown): Promise<T> {
    return adminRequest<T>(this.info.adminUrl, method, route, body);
  }
}

async function adminRequest<T>(adminUrl: string, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${adminUrl}${route}`, {
    method,
    signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`devnet admin ${method} ${route}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** The devnet prints one JSON line (its addresses) once it serves, then only logs to stderr. */
function firstJsonLine<T>(child: ChildProcess, logFile: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    const fail = (why: string) => {
      clearTimeout(timer);
      lines.close();
      const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2_000) : '';
      reject(new Error(`session-keeper devnet ${why}; its log (${logFile}):\n${tail}`));
    };
    const timer = setTimeout(
      () => fail(`printed no addresses within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS,
    );
    child.once('exit', (code, signal) => fail(`exited (code ${code}, signal ${signal}) before serving`));
    lines.once('line', (line) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`session-keeper devnet printed ${line.slice(0, 200)}, not its addresses`));
      }
      // Keep draining stdout so the child never blocks on a full pipe.
      lines.on('line', () => undefined);
    });
  });
}
