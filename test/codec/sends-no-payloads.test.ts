/**
 * The encryption policy is about payloads: a connection that sends none (`session-keeper setup`,
 * compose's `setup` service, which has no codec keys and reaches Temporal at `temporal:7233`) needs
 * no keys on any address, and cannot send a payload by mistake; every connection that sends
 * payloads keeps the refusal.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Payload } from '@temporalio/common';
import { refusingPayloadCodec, setupPayloadEncryption } from '../../src/codec/data-converter';
import { decideEncryption, UnencryptedPayloadsRefused } from '../../src/codec/policy';
import { newKey } from './helpers';

const NON_LOCAL = ['temporal:7233', '10.0.0.5:7233', 'my-ns.a1b2c.tmprl.cloud:7233'];
const payload: Payload = {
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from('{"spec":{"agentId":"a1"}}'),
};

describe('a connection that sends no payloads', () => {
  test('needs no codec keys on a non-local address, and gets no warning', () => {
    for (const address of NON_LOCAL) {
      assert.deepEqual(
        decideEncryption({
          keysConfigured: false,
          temporalAddress: address,
          allowInsecure: false,
          sendsPayloads: false,
        }),
        { encrypt: false },
        address,
      );
    }
  });

  test('the refusal stays for connections that send payloads (the default)', () => {
    for (const address of NON_LOCAL) {
      assert.throws(
        () => decideEncryption({ keysConfigured: false, temporalAddress: address, allowInsecure: false }),
        UnencryptedPayloadsRefused,
      );
      assert.throws(
        () =>
          decideEncryption({
            keysConfigured: false,
            temporalAddress: address,
            allowInsecure: false,
            sendsPayloads: true,
          }),
        UnencryptedPayloadsRefused,
      );
      assert.throws(
        () => setupPayloadEncryption({ temporalAddress: address, env: {} }),
        UnencryptedPayloadsRefused,
      );
    }
  });

  test('without keys, its data converter refuses to encode any payload (it cannot leak one)', async () => {
    const enc = setupPayloadEncryption({ temporalAddress: 'temporal:7233', sendsPayloads: false, env: {} });
    assert.equal(enc.encrypt, false);
    assert.deepEqual(enc.dataConverter?.payloadCodecs, [refusingPayloadCodec]);
    await assert.rejects(refusingPayloadCodec.encode([payload]), UnencryptedPayloadsRefused);
    assert.deepEqual(await refusingPayloadCodec.encode([]), []);
    assert.deepEqual(await refusingPayloadCodec.decode([payload]), [payload]);
    assert.match(enc.summary, /no payloads sent/);
  });

  test('with keys configured, it encrypts as every other connection does', () => {
    const enc = setupPayloadEncryption({
      temporalAddress: 'temporal:7233',
      sendsPayloads: false,
      env: { SESSION_KEEPER_CODEC_KEYS: `k1:${newKey()}` },
    });
    assert.equal(enc.encrypt, true);
    assert.notDeepEqual(enc.dataConverter?.payloadCodecs, [refusingPayloadCodec]);
    assert.equal(enc.dataConverter?.payloadCodecs?.length, 1);
  });
});
