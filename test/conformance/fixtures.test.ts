/**
 * The published examples' files under examples/ are byte for byte what sources.json says they
 * are: each one's git blob id (sha1 of `blob <size>\0<bytes>`, what `git ls-tree` prints for the
 * file at that commit of LIT-Protocol/developer-guides-code) matches the recorded one, and every
 * file there is recorded.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { EXAMPLES_DIR } from './harness/load-example';

interface Sources {
  repository: string;
  commit: string;
  fixtures: Record<string, { path: string; blob: string; lastChanged: string }>;
}

const sources = JSON.parse(readFileSync(path.join(EXAMPLES_DIR, 'sources.json'), 'utf8')) as Sources;

function gitBlobId(bytes: Buffer): string {
  return createHash('sha1')
    .update(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes]))
    .digest('hex');
}

test('every example file is the published file, byte for byte', () => {
  assert.match(sources.commit, /^[0-9a-f]{40}$/);
  for (const [fixture, source] of Object.entries(sources.fixtures)) {
    const bytes = readFileSync(path.join(EXAMPLES_DIR, fixture));
    assert.equal(
      gitBlobId(bytes),
      source.blob,
      `${fixture} differs from ${source.path} at ${sources.commit}`,
    );
  }
});

test('every file under examples/ is recorded in sources.json', () => {
  const files = readdirSync(EXAMPLES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(path.join(EXAMPLES_DIR, d.name)).map((f) => `${d.name}/${f}`));
  assert.deepEqual(files.sort(), Object.keys(sources.fixtures).sort());
});
