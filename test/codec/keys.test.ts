import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { CodecConfigError, describeKeyring, loadCodecKeys, parseCodecKeys } from '../../src/codec/keys';
import { newKey } from './helpers';

const K1 = newKey();
const K2 = newKey();

describe('parseCodecKeys', () => {
  test('first entry encrypts, all decrypt; whitespace, newlines and comments are fine', () => {
    const ring = parseCodecKeys(`k2:${K2},k1:${K1}`);
    assert.equal(ring.encryptingKeyId, 'k2');
    assert.deepEqual([...ring.keys.keys()], ['k2', 'k1']);
    assert.equal(ring.keys.get('k1')!.export().toString('base64'), K1);

    const fromFile = parseCodecKeys(
      `# rotated 2025-06\n  2025-06 : ${K2}\n\n2025-01:${K1}  # old, remove after retention\n`,
      'F',
    );
    assert.equal(fromFile.encryptingKeyId, '2025-06');
    assert.equal(fromFile.keys.size, 2);
    assert.equal(describeKeyring(fromFile), 'encrypting with "2025-06", also decrypting "2025-01"');
  });

  test('a "*" marks the encrypting key explicitly', () => {
    assert.equal(parseCodecKeys(`k1:${K1},*k2:${K2}`).encryptingKeyId, 'k2');
  });

  test('accepts url-safe base64', () => {
    const raw = randomBytes(32);
    const ring = parseCodecKeys(`k:${raw.toString('base64url')}`);
    assert.ok(ring.keys.get('k')!.export().equals(raw));
  });

  const bad: [name: string, text: string, expected: RegExp][] = [
    [
      'wrong length',
      `k1:${randomBytes(16).toString('base64')}`,
      /SRC: key "k1" is 16 bytes, AES-256 needs exactly 32.*openssl rand -base64 32/,
    ],
    ['too long', `k1:${randomBytes(48).toString('base64')}`, /key "k1" is 48 bytes/],
    [
      'hex instead of base64',
      `k1:${randomBytes(32).toString('hex')}`,
      /key "k1" is 48 bytes.*looks like hex/,
    ],
    [
      'not base64',
      'k1:this is not base64!!',
      /SRC: key "k1" is not base64; generate one with `openssl rand -base64 32`/,
    ],
    ['empty id', `:${K1}`, /SRC: entry 1 has an empty key id/],
    ['duplicate id', `k1:${K1},k1:${K2}`, /SRC: key id "k1" appears twice/],
    ['no colon', K1, /SRC: entry 1 is not <id>:<base64 key>/],
    ['no material', 'k1:', /SRC: key "k1" has no key material/],
    ['bad id characters', `k 1/x:${K1}`, /SRC: key id "k 1\/x" is not valid/],
    ['two marks', `*k1:${K1},*k2:${K2}`, /"k1" and "k2" are both marked/],
    ['nothing', ' , \n# only a comment\n', /SRC holds no key/],
  ];
  for (const [name, text, expected] of bad) {
    test(`rejects ${name} with a clear error`, () => {
      assert.throws(
        () => parseCodecKeys(text, 'SRC'),
        (err: unknown) => err instanceof CodecConfigError && expected.test(err.message),
      );
    });
  }

  test('never prints key material in errors', () => {
    const key = randomBytes(16).toString('base64');
    for (const text of [`k1:${key}`, `${key}`, `${newKey()}x:${key}`]) {
      assert.throws(
        () => parseCodecKeys(text),
        (err: unknown) =>
          err instanceof Error && !err.message.includes(key) && !err.message.includes(key.slice(0, 10)),
      );
    }
  });
});

describe('loadCodecKeys', () => {
  test('nothing configured (or an empty variable) → undefined', () => {
    assert.equal(loadCodecKeys({}), undefined);
    assert.equal(loadCodecKeys({ SESSION_KEEPER_CODEC_KEYS: '  ' }), undefined);
  });

  test('from the variable, errors name it', () => {
    assert.equal(loadCodecKeys({ SESSION_KEEPER_CODEC_KEYS: `k1:${K1}` })!.encryptingKeyId, 'k1');
    assert.throws(
      () => loadCodecKeys({ SESSION_KEEPER_CODEC_KEYS: 'k1:abc' }),
      /^CodecConfigError: SESSION_KEEPER_CODEC_KEYS: key "k1"/,
    );
  });

  test('from the file, errors name the variable and the path', () => {
    const files: Record<string, string> = { '/s/keys': `k2:${K2}\nk1:${K1}\n`, '/s/bad': 'k1:short' };
    const read = (p: string) => {
      if (!(p in files)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return files[p];
    };
    assert.equal(loadCodecKeys({ SESSION_KEEPER_CODEC_KEYS_FILE: '/s/keys' }, read)!.encryptingKeyId, 'k2');
    assert.throws(
      () => loadCodecKeys({ SESSION_KEEPER_CODEC_KEYS_FILE: '/s/bad' }, read),
      /SESSION_KEEPER_CODEC_KEYS_FILE \(\/s\/bad\): key "k1"/,
    );
    assert.throws(
      () => loadCodecKeys({ SESSION_KEEPER_CODEC_KEYS_FILE: '/s/missing' }, read),
      /SESSION_KEEPER_CODEC_KEYS_FILE=\/s\/missing cannot be read \(ENOENT\)/,
    );
    assert.throws(
      () =>
        loadCodecKeys(
          { SESSION_KEEPER_CODEC_KEYS_FILE: '/s/keys', SESSION_KEEPER_CODEC_KEYS: `k1:${K1}` },
          read,
        ),
      /set only one/,
    );
  });
});
