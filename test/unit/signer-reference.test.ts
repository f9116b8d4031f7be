import assert from 'node:assert/strict';
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
