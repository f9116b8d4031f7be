import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  AesGcmPayloadCodec,
  ENCODING_ENCRYPTED,
  METADATA_KEY_ID,
  NONCE_BYTES,
  PayloadDecryptionError,
} from '../../src/codec/aes-gcm-codec';
import { parseCodecKeys } from '../../src/codec/keys';
import { keyring, newKey, text, utf8 } from './helpers';

const sigs = {
  sessionSigs: {
    'https://node-1.example:7470': {
      sig: 'a1'.repeat(64),
      derivedVia: 'litSessionSignViaNacl',
      signedMessage: '{}',
      address: 'x',
    },
  },
};

function payloadOf(value: unknown): Payload {
  return defaultPayloadConverter.toPayload(value)!;
}

describe('AesGcmPayloadCodec', () => {
  test('round-trips payloads, metadata included, and hides the plaintext', async () => {
    const codec = new AesGcmPayloadCodec(keyring(['k1', newKey()]));
    const originals = [
      payloadOf(sigs),
      payloadOf('plain string'),
      payloadOf(undefined),
      { metadata: { encoding: utf8('binary/plain'), extra: utf8('x') }, data: new Uint8Array([0, 1, 2]) },
    ];
    const encoded = await codec.encode(originals);
    assert.equal(encoded.length, originals.length);
    for (const e of encoded) {
      assert.equal(text(e.metadata?.encoding), ENCODING_ENCRYPTED);
      assert.equal(text(e.metadata?.[METADATA_KEY_ID]), 'k1');
      assert.equal(Buffer.from(e.data!).includes(Buffer.from('a1a1a1a1')), false);
      assert.equal(
        Buffer.from(e.data!).includes(Buffer.from('json/plain')),
        false,
        'inner metadata is encrypted too',
      );
    }
    const decoded = await codec.decode(encoded);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded[0]), sigs);
    assert.equal(defaultPayloadConverter.fromPayload(decoded[1]), 'plain string');
    assert.equal(defaultPayloadConverter.fromPayload(decoded[2]), undefined);
    assert.deepEqual(Object.fromEntries(Object.entries(decoded[3].metadata!).map(([k, v]) => [k, text(v)])), {
      encoding: 'binary/plain',
      extra: 'x',
    });
    assert.deepEqual([...decoded[3].data!], [0, 1, 2]);
    assert.deepEqual(await codec.encode([]), []);
  });

  test('uses a fresh nonce per payload: the same plaintext gives different ciphertexts', async () => {
    const codec = new AesGcmPayloadCodec(keyring(['k1', newKey()]));
    const p = payloadOf(sigs);
    const encoded = [...(await codec.encode([p, p])), ...(await codec.encode([p]))];
    const datas = encoded.map((e) => Buffer.from(e.data!).toString('hex'));
    const nonces = encoded.map((e) => Buffer.from(e.data!.subarray(0, NONCE_BYTES)).toString('hex'));
    assert.equal(new Set(datas).size, 3);
    assert.equal(new Set(nonces).size, 3);
  });

  test('rotation: payloads under the old key still decode after a new key takes over; new payloads use it', async () => {
    const keyA = newKey();
    const keyB = newKey();
    const before = new AesGcmPayloadCodec(parseCodecKeys(`a:${keyA}`));
    const [underA] = await before.encode([payloadOf(sigs)]);

    const rotated = new AesGcmPayloadCodec(parseCodecKeys(`b:${keyB},a:${keyA}`));
    assert.equal(rotated.encryptingKeyId, 'b');
    assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode([underA]))[0]), sigs);
    const [underB] = await rotated.encode([payloadOf('new')]);
    assert.equal(text(underB.metadata?.[METADATA_KEY_ID]), 'b');
    await assert.rejects(before.decode([underB]), /codec key id "b", which is not configured/);

    // A key marked with "*" encrypts even when listed later (stage a new key as decrypt-only first).
    const marked = new AesGcmPayloadCodec(parseCodecKeys(`a:${keyA},*b:${keyB}`));
    const [viaMark] = await marked.encode([payloadOf('x')]);
    assert.equal(text(viaMark.metadata?.[METADATA_KEY_ID]), 'b');
  });

  test('an unknown key id gives an error naming the id and what to configure', async () => {
    const [encoded] = await new AesGcmPayloadCodec(keyring(['old-key', newKey()])).encode([payloadOf(sigs)]);
    const codec = new AesGcmPayloadCodec(keyring(['k2', newKey()]));
    await assert.rejects(codec.decode([encoded]), (err: unknown) => {
      assert.ok(err instanceof PayloadDecryptionError);
      assert.equal(err.keyId, 'old-key');
      assert.match(err.message, /"old-key"/);
      assert.match(err.message, /SESSION_KEEPER_CODEC_KEYS/);
      assert.match(err.message, /configured: "k2"/);
      return true;
    });
  });

  test('tampered ciphertext, nonce, tag, key id or a different key with the same id all fail', async () => {
    const keyB64 = newKey();
    const codec = new AesGcmPayloadCodec(keyring(['k1', keyB64]));
    const [good] = await codec.encode([payloadOf(sigs)]);
    const flip = (at: (len: number) => number): Payload => {
      const data = new Uint8Array(good.data!);
      data[at(data.length)] ^= 0x01;
      return { metadata: good.metadata, data };
    };
    for (const bad of [
      flip(() => 0),
      flip((n) => NONCE_BYTES + Math.floor((n - NONCE_BYTES - 16) / 2)),
      flip((n) => n - 1),
    ]) {
      await assert.rejects(codec.decode([bad]), /failed authentication/);
    }
    await assert.rejects(
      codec.decode([{ metadata: good.metadata, data: good.data!.subarray(0, 20) }]),
      /too short/,
    );
    // Same id, different key material (e.g. a key regenerated by mistake).
    const impostor = new AesGcmPayloadCodec(keyring(['k1', newKey()]));
    await assert.rejects(impostor.decode([good]), /failed authentication.*"k1"/);
    // Relabelling the key id is detected: the id is authenticated data.
    const twoIds = new AesGcmPayloadCodec(keyring(['k1', keyB64], ['k9', keyB64]));
    await assert.rejects(
      twoIds.decode([{ metadata: { ...good.metadata, [METADATA_KEY_ID]: utf8('k9') }, data: good.data }]),
      /failed authentication/,
    );
    assert.deepEqual(defaultPayloadConverter.fromPayload((await twoIds.decode([good]))[0]), sigs);
  });

  test('payloads without the encrypted encoding pass through on decode (old histories stay readable)', async () => {
    const codec = new AesGcmPayloadCodec(keyring(['k1', newKey()]));
    const plain = [payloadOf({ old: true }), { metadata: {}, data: utf8('raw') }, {}];
    const decoded = await codec.decode(plain);
    assert.deepEqual(decoded, plain);
  });

  test('an encrypted payload without a key id is rejected clearly', async () => {
    const codec = new AesGcmPayloadCodec(keyring(['k1', newKey()]));
    await assert.rejects(
      codec.decode([{ metadata: { encoding: utf8(ENCODING_ENCRYPTED) }, data: new Uint8Array(40) }]),
      /no "encryption-key-id" metadata/,
    );
  });
});
