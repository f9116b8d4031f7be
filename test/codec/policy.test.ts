import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  allowUnencryptedFromEnv,
  decideEncryption,
  hostOfAddress,
  isLoopbackHost,
  UnencryptedPayloadsRefused,
} from '../../src/codec/policy';

type Row = [
  keys: boolean,
  address: string | undefined,
  allow: boolean,
  expected: 'encrypt' | 'warn' | 'refuse',
];

const table: Row[] = [
  // With keys: always encrypt, whatever the address or flag.
  [true, 'localhost:7233', false, 'encrypt'],
  [true, 'temporal.prod.internal:7233', false, 'encrypt'],
  [true, 'my-ns.a1b2c.tmprl.cloud:7233', true, 'encrypt'],
  // Without keys, local addresses: allowed with a warning.
  [false, undefined, false, 'warn'],
  [false, '', false, 'warn'],
  [false, 'localhost:7233', false, 'warn'],
  [false, 'LOCALHOST:7233', false, 'warn'],
  [false, 'localhost', false, 'warn'],
  [false, '127.0.0.1:7233', false, 'warn'],
  [false, '127.42.0.9:7233', false, 'warn'],
  [false, '[::1]:7233', false, 'warn'],
  [false, '::1', false, 'warn'],
  [false, '[::ffff:127.0.0.1]:7233', false, 'warn'],
  [false, 'http://localhost:7233', false, 'warn'],
  // Without keys, anything else: refused unless explicitly allowed.
  [false, 'temporal.prod.internal:7233', false, 'refuse'],
  [false, 'my-ns.a1b2c.tmprl.cloud:7233', false, 'refuse'],
  [false, '10.0.0.5:7233', false, 'refuse'],
  [false, '0.0.0.0:7233', false, 'refuse'],
  [false, '128.0.0.1:7233', false, 'refuse'],
  [false, '[2001:db8::1]:7233', false, 'refuse'],
  [false, 'localhost.evil.example:7233', false, 'refuse'],
  [false, '127.0.0.1.nip.io:7233', false, 'refuse'],
  [false, 'https://temporal.example.com:443', false, 'refuse'],
  [false, 'temporal.prod.internal:7233', true, 'warn'],
  [false, '10.0.0.5:7233', true, 'warn'],
];

describe('decideEncryption', () => {
  for (const [keysConfigured, temporalAddress, allowInsecure, expected] of table) {
    test(`keys=${keysConfigured} address=${JSON.stringify(temporalAddress)} allow=${allowInsecure} → ${expected}`, () => {
      const run = () => decideEncryption({ keysConfigured, temporalAddress, allowInsecure });
      if (expected === 'refuse') {
        assert.throws(run, (err: unknown) => {
          assert.ok(err instanceof UnencryptedPayloadsRefused);
          assert.match(err.message, /refusing to send unencrypted payloads to the non-local Temporal/);
          assert.match(err.message, /bearer credentials/);
          assert.match(err.message, /SESSION_KEEPER_CODEC_KEYS/);
          assert.match(err.message, /SESSION_KEEPER_ALLOW_UNENCRYPTED=1/);
          assert.match(err.message, /--allow-unencrypted/);
          return true;
        });
        return;
      }
      const decision = run();
      assert.equal(decision.encrypt, expected === 'encrypt');
      if (expected === 'warn') {
        assert.match(decision.warning ?? '', /^payloads are not encrypted/);
        assert.match(decision.warning ?? '', /set SESSION_KEEPER_CODEC_KEYS/);
      } else {
        assert.equal(decision.warning, undefined);
      }
    });
  }
});

describe('address helpers', () => {
  const hosts: [string, string | undefined][] = [
    ['localhost:7233', 'localhost'],
    ['[::1]:7233', '::1'],
    ['::1', '::1'],
    ['temporal:7233', 'temporal'],
    ['temporal', 'temporal'],
    ['grpcs://user@host.example:443/x', 'host.example'],
    ['[broken', undefined],
  ];
  for (const [address, host] of hosts) {
    test(`hostOfAddress(${address}) = ${host}`, () => assert.equal(hostOfAddress(address), host));
  }
  test('isLoopbackHost', () => {
    assert.equal(isLoopbackHost('127.255.255.254'), true);
    assert.equal(isLoopbackHost('localhost.'), true);
    assert.equal(isLoopbackHost('0:0:0:0:0:0:0:1'), true);
    assert.equal(isLoopbackHost('::'), false);
    assert.equal(isLoopbackHost('::ffff:10.0.0.1'), false);
  });
});

describe('allowUnencryptedFromEnv', () => {
  const rows: [string | undefined, boolean | 'error'][] = [
    [undefined, false],
    ['', false],
    ['0', false],
    ['false', false],
    ['1', true],
    ['true', true],
    ['TRUE', true],
    ['yes please', 'error'],
  ];
  for (const [value, expected] of rows) {
    test(`SESSION_KEEPER_ALLOW_UNENCRYPTED=${JSON.stringify(value)} → ${expected}`, () => {
      const env = value === undefined ? {} : { SESSION_KEEPER_ALLOW_UNENCRYPTED: value };
      if (expected === 'error') assert.throws(() => allowUnencryptedFromEnv(env), /must be 1 \(allow\) or 0/);
      else assert.equal(allowUnencryptedFromEnv(env), expected);
    });
  }
});
