/**
 * The Temporal server for the local cluster: the release docker-compose.yml pins, built from the Go
 * module proxy (`go.temporal.io/server`'s `cmd/server` and the SQL schema tool) once and cached under
 * `.cache/temporal-server/<version>/`, its schemas set up with the schema tool's embedded PostgreSQL
 * schemas (as compose's auto-setup image does), and started on loopback with all four services in
 * one process. The config is a pure function of ports and database (`serverConfig`).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { signalAndWait, track } from './child-processes';
import { REPO_ROOT } from './compose-source';
import { tail } from './postgres';
import { waitFor } from './wait';

export const CACHE_DIR = path.join(REPO_ROOT, '.cache', 'temporal-server');

export interface ServerBinaries {
  server: string;
  sqlTool: string;
  /** Seconds the build took, or 0 when the cache had it. */
  buildSeconds: number;
}

export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  /** Membership (ringpop) ports, one per service. */
  membership: [number, number, number, number];
  metrics: number;
}

export interface DatabaseRef {
  address: string;
  user: string;
  password: string;
}

export const DATABASES = { default: 'temporal', visibility: 'temporal_visibility' } as const;

/** Builds (or finds in the cache) the server and schema tool of `version`. */
export function ensureServerBinaries(
  version: string,
  log: (line: string) => void = () => {},
): ServerBinaries {
  const dir = path.join(CACHE_DIR, version);
  const server = path.join(dir, 'temporal-server');
  const sqlTool = path.join(dir, 'temporal-sql-tool');
  if (fs.existsSync(server) && fs.existsSync(sqlTool)) return { server, sqlTool, buildSeconds: 0 };
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      `the Temporal server ${version} is not in ${dir} and there is no Go toolchain to build it; install Go (https://go.dev/dl/) or put temporal-server and temporal-sql-tool there`,
    );
  }
  log(
    `building the Temporal server ${version} from the Go module proxy (once; cached in ${path.relative(REPO_ROOT, dir)})`,
  );
  const started = Date.now();
  // Build into a fresh directory and rename, so an interrupted build never looks cached.
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(CACHE_DIR, `.build-${version}-`));
  try {
    execFileSync(
      'go',
      [
        'install',
        `go.temporal.io/server/cmd/server@v${version}`,
        `go.temporal.io/server/cmd/tools/sql@v${version}`,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, GOBIN: tmp, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      },
    );
    fs.renameSync(path.join(tmp, 'server'), path.join(tmp, 'temporal-server'));
    fs.renameSync(path.join(tmp, 'sql'), path.join(tmp, 'temporal-sql-tool'));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-5).join('\n');
    throw new Error(`building the Temporal server ${version} failed: ${stderr || (err as Error).message}`);
  }
  return { server, sqlTool, buildSeconds: Math.round((Date.now() - started) / 1000) };
}

/** Creates both databases and brings their schemas to the newest version of this release (idempotent). */
export function setupSchemas(sqlTool: string, db: DatabaseRef): void {
  const [host, port] = db.address.split(':');
  const base = ['--plugin', 'postgres12', '--ep', host, '-p', port, '-u', db.user, '--pw', db.password];
  const run = (args: string[]) => execFileSync(sqlTool, [...base, ...args], { stdio: 'pipe' });
  for (const [kind, name] of Object.entries(DATABASES)) {
    const schema = `postgresql/v12/${kind === 'default' ? 'temporal' : 'visibility'}`;
    try {
      run(['--db', name, 'create-database']);
    } catch (err) {
      if (!/already exists/.test(String((err as { stderr?: Buffer }).stderr ?? ''))) throw err;
    }
    try {
      // Version 0.0 marks an empty database as managed; on a database that has it already this fails.
      run(['--db', name, 'setup-schema', '-v', '0.0']);
    } catch {
      /* already set up: the update below brings it current */
    }
    run(['--db', name, 'update-schema', '--schema-name', schema]);
  }
}

/** Pure: the server's config file for these ports and database. */
export function serverConfig(ports: ServerPorts, db: DatabaseRef, dynamicConfigFile: string): string {
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: db.address,
      connectProtocol: 'tcp',
      user: db.user,
      password: db.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number, membershipPort: number, extra: Record<string, number> = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  const frontendAddress = `127.0.0.1:${ports.frontend}`;
  return stringify({
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: {
        'postgres-default': store(DATABASES.default, 20),
        'postgres-visibility': store(DATABASES.visibility, 10),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: {
        prometheus: {
          framework: 'tally',
          timerType: 'histogram',
          listenAddress: `127.0.0.1:${ports.metrics}`,
        },
      },
    },
    services: {
      frontend: service(ports.frontend, ports.membership[0], { httpPort: ports.frontendHttp }),
      history: service(ports.history, ports.membership[1]),
      matching: service(ports.matching, ports.membership[2]),
      worker: service(ports.worker, ports.membership[3]),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: frontendAddress,
          httpAddress: `127.0.0.1:${ports.frontendHttp}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  });
}

/**
 * Dynamic config: search attributes are read fresh (a just-registered attribute is usable at once,
 * as on the dev server), and the batch operations that `rotate --all` and the Temporal CLI's batch
 * signal start may run a few at a time.
 */
export const DYNAMIC_CONFIG = stringify({
  'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true, constraints: {} }],
  'frontend.MaxConcurrentBatchOperationPerNamespace': [{ value: 5, constraints: {} }],
});

export class TemporalServer {
  private child?: ChildProcess;

  constructor(
    private readonly binary: string,
    /** Holds `config/development.yaml`, `config/dynamicconfig.yaml` and `temporal.log`. */
    readonly dir: string,
    readonly ports: ServerPorts,
    db: DatabaseRef,
  ) {
    const configDir = path.join(dir, 'config');
    fs.mkdirSync(configDir, { recursive: true });
    const dynamic = path.join(configDir, 'dynamicconfig.yaml');
    fs.writeFileSync(dynamic, DYNAMIC_CONFIG);
    // The config holds the database password: readable by this user only.
    fs.writeFileSync(path.join(configDir, 'development.yaml'), serverConfig(ports, db, dynamic), {
      mode: 0o600,
    });
  }

  get address(): string {
    return `127.0.0.1:${this.ports.frontend}`;
  }

  get logFile(): string {
    return path.join(this.dir, 'temporal.log');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 120_000): Promise<void> {
    const out = fs.openSync(this.logFile, 'a');
    const child = spawn(
      this.binary,
      ['--root', this.dir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'],
      {
        stdio: ['ignore', out, out],
      },
    );
    fs.closeSync(out);
    track(child);
    this.child = child;
    await waitFor(
      `the Temporal server on ${this.address}`,
      timeoutMs,
      async () => {
        if (child.exitCode !== null)
          throw new Error(`temporal-server exited with ${child.exitCode}: ${tail(this.logFile)}`);
        const connection = await Connection.connect({ address: this.address, connectTimeout: 1_000 });
        try {
          await connection.workflowService.getSystemInfo({});
          return true;
        } finally {
          await connection.close();
        }
      },
      500,
    );
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    await signalAndWait(this.child, sig);
  }
}
