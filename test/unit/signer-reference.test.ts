import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  parseSignerReference,
  resolveSigner,
  WALLET_CACHE_SIZE,
} from '../../src/activities/signer-reference';

const KEY = `0x${'11'.repeat(32)}`;
const where = (env: Record<string, string>, files: Record<string, string> = {}) => ({
  env,
  readFile: (p: string) => {
    if (!(p in files)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return files[p];
  },
});

test('parses env: and file: references', () => {
  assert.deepEqual(parseSignerReference('env:AGENT_1'), { kind: 'env', name: 'AGENT_1' });
  assert.deepEqual(parseSignerReference('file:/run/secrets/a'), { kind: 'file', path: '/run/secrets/a' });
  assert.throws(() => parseSignerReference('vault:x'), /malformed/);
});

test('resolves keys from env and files, with or without 0x and whitespace', () => {
  const a = resolveSigner('env:K', where({ K: KEY }));
  const b = resolveSigner('file:/k', where({}, { '/k': `${KEY.slice(2)}\n` }));
  assert.equal(a.address, b.address);
});

const failures: [string, string, ReturnType<typeof where>, RegExp][] = [
  ['unset variable', 'env:MISSING', where({}), /MISSING is not set/],
  ['unreadable file', 'file:/nope', where({}), /cannot read the key file \(ENOENT\)/],
  ['not a key', 'env:K', where({ K: 'hello' }), /not a 32-byte hex private key/],
];
for (const [name, ref, env, message] of failures) {
  test(`InvalidSigner for ${name}, never echoing the value`, () => {
    assert.throws(
      () => resolveSigner(ref, env),
      (err: Error) => {
        assert.equal(err.name, 'InvalidSigner');
        assert.match(err.message, message);
        assert.ok(!err.message.includes('hello'));
        return true;
      },
    );
  });
}

test('a key makes its wallet once; a rotated key makes a new one; the cache stays bounded', () => {
  const first = resolveSigner('env:K', where({ K: KEY }));
  // Same key behind another reference, spelt differently: the same wallet, not derived again.
  assert.equal(resolveSigner('file:/k', where({}, { '/k': ` ${KEY.slice(2).toUpperCase()} ` })), first);
  const rotated = resolveSigner('env:K', where({ K: `0x${'22'.repeat(32)}` }));
  assert.notEqual(rotated, first);
  assert.notEqual(rotated.address, first.address);
  for (let i = 0; i <= WALLET_CACHE_SIZE; i++) {
    resolveSigner('env:K', where({ K: `0x7${(i + 1).toString(16).padStart(63, '0')}` }));
  }
  // The oldest entries were dropped: the first key derives a new (equal) wallet.
  const again = resolveSigner('env:K', where({ K: KEY }));
  assert.notEqual(again, first);
  assert.equal(again.address, first.address);
});

test('key files on disk: the worker reads a 0600 file of its own user, refuses open modes, foreign symlinks, FIFOs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'key-files-'));
  try {
    const good = path.join(dir, 'good.key');
    fs.writeFileSync(good, `${KEY}\n`, { mode: 0o600 });
    assert.equal(resolveSigner(`file:${good}`).address, resolveSigner('env:K', where({ K: KEY })).address);

    const open = path.join(dir, 'open.key');
    fs.writeFileSync(open, `${KEY}\n`);
    fs.chmodSync(open, 0o644);
    assert.throws(
      () => resolveSigner(`file:${open}`),
      (err: Error) => {
        assert.match(err.message, /accessible to its group and other users \(mode 0644\); chmod 600 it/);
        assert.ok(!err.message.includes(KEY.slice(2)), 'never the key');
        return true;
      },
    );

    // My own symlink to my own file is fine (Kubernetes mounts secrets through symlinks).
    const link = path.join(dir, 'link.key');
    fs.symlinkSync(good, link);
    assert.ok(resolveSigner(`file:${link}`).address);

    // A FIFO: opening it must not hang the activity, and it is no regular file.
    const fifo = path.join(dir, 'fifo.key');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => resolveSigner(`file:${fifo}`), /not a regular file/);

    const big = path.join(dir, 'big.key');
    fs.writeFileSync(big, 'x'.repeat(10_000), { mode: 0o600 });
    assert.throws(() => resolveSigner(`file:${big}`), /more than a key file holds/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
