/**
 * Runs `temporal server start-dev` as a child process: the demo's embedded Temporal, and the chaos
 * tests' server that can be killed and restarted on the same SQLite file. The custom search
 * attributes are registered on every start (idempotent for the same types).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_TYPES } from '../shared/search-attributes';
import { requireTemporalBinary } from './binaries';

export interface DevServerOptions {
  /** SQLite file; state survives restarts. Omit for an in-memory server. */
  dbFile?: string;
  ip?: string;
  /** Frontend port; 0 or omitted picks a free one. */
  port?: number;
  /** Web UI port; omit (or headless) for no UI. */
  uiPort?: number;
  headless?: boolean;
  /** Codec server URL for the bundled UI. */
  uiCodecEndpoint?: string;
  namespace?: string;
  /** Register the keeper's search attributes on start (default true; false leaves it to `session-keeper setup`). */
  searchAttributes?: boolean;
  startTimeoutMs?: number;
  /** Where the server's own log goes (default: discarded). */
  logFile?: string;
  /**
   * Run the server in a process group of its own, so a Ctrl-C at the terminal reaches only the
   * caller, which then stops its worker before the server (the demo); otherwise both get it at once.
   */
  ownProcessGroup?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  /** Graceful stop (SIGTERM), resolves when the process has exited. */
  stop(): Promise<void>;
  /** Hard kill (SIGKILL), for chaos tests. */
  kill(): Promise<void>;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const bin = requireTemporalBinary('temporal');
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port || (await freePort(ip));
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--log-level', 'error'];
  if (opts.namespace && opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  if (opts.headless || opts.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort));
  if (opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  if (opts.searchAttributes !== false) {
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES))
      args.push('--search-attribute', `${name}=${type}`);
  }
  const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(bin, args, { stdio: ['ignore', out, out], detached: opts.ownProcessGroup === true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = `${ip}:${port}`;
  await waitUntilServing(address, child, opts.startTimeoutMs ?? 60_000);
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    address,
    uiUrl: opts.headless || opts.uiPort === undefined ? undefined : `http://${ip}:${opts.uiPort}`,
    process: child,
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
  };
}

async function waitUntilServing(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`temporal dev server exited with code ${child.exitCode} before serving on ${address}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  child.kill('SIGKILL');
  throw new Error(
    `temporal dev server did not serve on ${address} within ${timeoutMs} ms: ${String(lastError)}`,
  );
}
