/**
 * PostgreSQL for the local cluster, from Debian's packages (`postgresql`), on loopback, with its
 * data in a directory of the cluster's. Installed with apt-get when no server binary is found and
 * this runs as root (CI's case); otherwise the error says what to install. PostgreSQL refuses to
 * run as root, so as root its programs run as the `postgres` user the package creates.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { signalAndWait, track } from './child-processes';
import { waitFor } from './wait';

export interface PostgresOptions {
  /** Holds `data/` (the database cluster), `run/` (its socket) and `postgres.log`. */
  dir: string;
  port: number;
  user?: string;
}

/** Pure: the newest `/usr/lib/postgresql/<major>/bin` among the given directory names. */
export function newestPostgresBinDir(versions: string[], root = '/usr/lib/postgresql'): string | undefined {
  const majors = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return majors.length ? path.join(root, majors[0], 'bin') : undefined;
}

function findBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  const candidates = fs.existsSync(root) ? fs.readdirSync(root) : [];
  const dir = newestPostgresBinDir(
    candidates.filter((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres'))),
    root,
  );
  return dir;
}

const isRoot = () => process.getuid?.() === 0;

/** The server's bin directory, installing Debian's `postgresql` first when it is missing. */
export function ensurePostgres(log: (line: string) => void = () => {}): string {
  const found = findBinDir();
  if (found) return found;
  if (!isRoot()) {
    throw new Error(
      'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; install them (`sudo apt-get install postgresql`) and run again',
    );
  }
  log('installing PostgreSQL (apt-get install postgresql)');
  const apt = (args: string[]) =>
    execFileSync('apt-get', args, {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  try {
    apt(['install', '-y', '-qq', 'postgresql']);
  } catch {
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', 'postgresql']);
  }
  const dir = findBinDir();
  if (!dir)
    throw new Error('apt-get installed postgresql but no server binary appeared under /usr/lib/postgresql');
  return dir;
}

export class LocalPostgres {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  private readonly binDir: string;
  private readonly dataDir: string;
  private readonly socketDir: string;
  private readonly logFile: string;
  private child?: ChildProcess;

  private constructor(opts: PostgresOptions, binDir: string, password: string) {
    this.port = opts.port;
    this.user = opts.user ?? 'temporal';
    this.password = password;
    this.binDir = binDir;
    this.dataDir = path.join(opts.dir, 'data');
    this.socketDir = path.join(opts.dir, 'run');
    this.logFile = path.join(opts.dir, 'postgres.log');
  }

  /** Initialises the data directory on first use (same password file on later runs) and starts. */
  static async start(opts: PostgresOptions, log: (line: string) => void = () => {}): Promise<LocalPostgres> {
    const binDir = ensurePostgres(log);
    fs.mkdirSync(opts.dir, { recursive: true });
    // The server user must be able to reach its directories under ours.
    if (isRoot()) {
      fs.chmodSync(opts.dir, 0o755);
      for (let d = path.dirname(path.resolve(opts.dir)); d !== path.dirname(d); d = path.dirname(d)) {
        if ((fs.statSync(d).mode & 0o001) === 0) {
          throw new Error(
            `PostgreSQL runs as the postgres user, which cannot enter ${d} (mode ${(fs.statSync(d).mode & 0o777).toString(8)}); use a data directory whose parents others may enter (chmod o+x)`,
          );
        }
      }
    }
    const passwordFile = path.join(opts.dir, 'password');
    if (!fs.existsSync(passwordFile))
      fs.writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
    const pg = new LocalPostgres(opts, binDir, fs.readFileSync(passwordFile, 'utf8').trim());
    fs.mkdirSync(pg.socketDir, { recursive: true });
    if (!fs.existsSync(path.join(pg.dataDir, 'PG_VERSION'))) pg.initdb(passwordFile);
    pg.chownForServer(pg.socketDir);
    await pg.startServer();
    return pg;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Spawn options that run a server program as the `postgres` user when this is root. */
  private asServerUser(): { uid?: number; gid?: number } {
    if (!isRoot()) return {};
    const line = fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('postgres:'));
    if (!line)
      throw new Error("running as root but there is no postgres user; install Debian's postgresql package");
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  }

  private chownForServer(p: string): void {
    if (isRoot()) execFileSync('chown', ['-R', 'postgres:postgres', p]);
  }

  private initdb(passwordFile: string): void {
    fs.mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    // The server user must read the password file and reach the directories.
    const pwCopy = path.join(this.socketDir, 'initdb-password');
    fs.copyFileSync(passwordFile, pwCopy);
    this.chownForServer(this.dataDir);
    this.chownForServer(this.socketDir);
    const args = [
      '-D',
      this.dataDir,
      '-U',
      this.user,
      `--pwfile=${pwCopy}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-instructions',
    ];
    try {
      execFileSync(path.join(this.binDir, 'initdb'), args, { stdio: 'pipe', ...this.asServerUser() });
    } catch (err) {
      throw new Error(`initdb failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
    } finally {
      fs.rmSync(pwCopy, { force: true });
    }
  }

  private async startServer(): Promise<void> {
    const out = fs.openSync(this.logFile, 'a');
    fs.chmodSync(this.logFile, 0o666);
    const args = [
      '-D',
      this.dataDir,
      '-p',
      String(this.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${this.socketDir}`,
      '-c',
      'max_connections=300',
      '-c',
      'fsync=on',
    ];
    const child = spawn(path.join(this.binDir, 'postgres'), args, {
      stdio: ['ignore', out, out],
      ...this.asServerUser(),
    });
    fs.closeSync(out);
    track(child);
    this.child = child;
    await waitFor(`PostgreSQL on ${this.address}`, 60_000, async () => {
      if (child.exitCode !== null)
        throw new Error(`postgres exited with ${child.exitCode}: ${tail(this.logFile)}`);
      return this.accepting() ? true : undefined;
    });
  }

  /** Whether the server accepts connections now (pg_isready). */
  private accepting(): boolean {
    try {
      execFileSync(path.join(this.binDir, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(this.port), '-q']);
      return true;
    } catch {
      return false;
    }
  }

  /** Fast shutdown: connections are closed, the data is consistent. */
  async stop(): Promise<void> {
    await this.signal('SIGINT');
  }

  /** Immediate shutdown (as if the machine lost power): recovery from WAL on the next start. */
  async crash(): Promise<void> {
    await this.signal('SIGQUIT');
  }

  /** Stops (fast, or as a crash), stays down for `downMs`, and starts on the same data. */
  async restart(mode: 'fast' | 'crash' = 'fast', downMs = 0): Promise<void> {
    if (mode === 'crash') await this.crash();
    else await this.stop();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.startServer();
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    await signalAndWait(this.child, sig);
    // After a crash the server's own children may hold the port for a moment.
    await waitFor('PostgreSQL to release its port', 30_000, async () =>
      this.accepting() ? undefined : true,
    );
  }
}

export function tail(file: string, lines = 10): string {
  try {
    // Server logs carry stack traces on one line: the last lines, each cut short.
    return fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .slice(-lines)
      .map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l))
      .join('\n');
  } catch {
    return '(no log)';
  }
}
