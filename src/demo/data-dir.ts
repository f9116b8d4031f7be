/**
 * The demo's data folder: one running demo per folder (a pid file), and `--reset`, which removes
 * the demo's own files only — never anything else a mistyped `--data-dir` might point at.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DemoPaths } from './options';

export class DemoDataDirError extends Error {
  override name = 'DemoDataDirError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims the data folder for this process (creating it); throws when another live demo holds it.
 * Returns the release function (idempotent).
 */
export function lockDataDir(paths: DemoPaths, pid: number = process.pid): () => void {
  // Owner-only when new: the history holds session sigs (in plaintext without codec keys).
  fs.mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(paths.pidFile, `${pid}\n`, { flag: 'wx' });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(paths.pidFile, 'utf8').trim() === String(pid)) fs.unlinkSync(paths.pidFile);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(paths.pidFile, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== pid && alive(holder)) {
        throw new DemoDataDirError(
          `another demo (pid ${holder}) is using ${paths.dataDir}; stop it first or pass another --data-dir`,
        );
      }
      fs.rmSync(paths.pidFile, { force: true }); // left by a demo that did not stop cleanly
    }
  }
  throw new DemoDataDirError(`cannot claim ${paths.dataDir} (${paths.pidFile} keeps coming back)`);
}

/** The demo's own entries in the data folder (what `--reset` removes). */
export function demoEntries(paths: DemoPaths): string[] {
  const db = path.basename(paths.temporalDb);
  const sqliteFiles = fs.existsSync(paths.dataDir)
    ? fs.readdirSync(paths.dataDir).filter((f) => f === db || f.startsWith(`${db}-`))
    : [];
  return [
    ...sqliteFiles.map((f) => path.join(paths.dataDir, f)),
    paths.devnetState,
    paths.demoDir,
    paths.logDir,
  ].filter((p) => fs.existsSync(p));
}

/** Removes the demo's state (Temporal history, devnet, keys, logs); returns what it removed. */
export function resetDataDir(paths: DemoPaths): string[] {
  const removed = demoEntries(paths);
  for (const p of removed) fs.rmSync(p, { recursive: true, force: true });
  return removed;
}

/** `path` relative to the working directory when inside it (shorter to read), absolute otherwise. */
export function displayPath(p: string, cwd: string = process.cwd()): string {
  const rel = path.relative(cwd, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}
