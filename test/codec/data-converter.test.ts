import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure, DefaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { AesGcmPayloadCodec } from '../../src/codec/aes-gcm-codec';
import {
  buildDataConverter,
  FAILURE_CONVERTER_PATH,
  setupPayloadEncryption,
} from '../../src/codec/data-converter';
import { UnencryptedPayloadsRefused } from '../../src/codec/policy';
import { keyring, newKey } from './helpers';

describe('buildDataConverter', () => {
  test('undefined without keys', () => {
    assert.equal(buildDataConverter(undefined), undefined);
  });

  test('with keys: the codec and a failure converter that encodes messages and stack traces', () => {
    const dc = buildDataConverter(keyring(['k1', newKey()]))!;
    assert.equal(dc.payloadCodecs?.length, 1);
    assert.ok(dc.payloadCodecs![0] instanceof AesGcmPayloadCodec);
    assert.equal(dc.failureConverterPath, FAILURE_CONVERTER_PATH);
    // Loads the way the client and worker load it.
    const loaded = loadDataConverter(dc);
    assert.ok(loaded.failureConverter instanceof DefaultFailureConverter);
    const failure = loaded.failureConverter.errorToFailure(
      ApplicationFailure.create({ message: 'secret 123' }),
      defaultPayloadConverter,
    );
    assert.equal(failure.message, 'Encoded failure');
    assert.ok(failure.encodedAttributes);
  });
});

describe('setupPayloadEncryption', () => {
  const key = `k1:${newKey()}`;

  test('keys configured: encrypts, summary names key ids only', () => {
    const warnings: string[] = [];
    const r = setupPayloadEncryption({
      temporalAddress: 'temporal.prod:7233',
      env: { SESSION_KEEPER_CODEC_KEYS: key },
      warn: (m) => warnings.push(m),
    });
    assert.equal(r.encrypt, true);
    assert.ok(r.dataConverter?.payloadCodecs?.length);
    assert.equal(r.summary, 'payload encryption on (SESSION_KEEPER_CODEC_KEYS: encrypting with "k1")');
    assert.ok(!r.summary.includes(key.slice(3)));
    assert.deepEqual(warnings, []);
  });

  test('no keys, local: no converter, warns once per process', () => {
    const warnings: string[] = [];
    const opts = { temporalAddress: '127.0.0.1:7233', env: {}, warn: (m: string) => warnings.push(m) };
    const r = setupPayloadEncryption(opts);
    setupPayloadEncryption(opts);
    assert.equal(r.encrypt, false);
    assert.equal(r.dataConverter, undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^payloads are not encrypted: .*SESSION_KEEPER_CODEC_KEYS/);
  });

  test('no keys, remote: refused unless allowed by flag or env', () => {
    assert.throws(
      () => setupPayloadEncryption({ temporalAddress: 'temporal.prod:7233', env: {} }),
      UnencryptedPayloadsRefused,
    );
    assert.equal(
      setupPayloadEncryption({ temporalAddress: 'temporal.prod:7233', env: {}, allowUnencrypted: true })
        .encrypt,
      false,
    );
    assert.equal(
      setupPayloadEncryption({
        temporalAddress: 'temporal.prod:7233',
        env: { SESSION_KEEPER_ALLOW_UNENCRYPTED: '1' },
      }).encrypt,
      false,
    );
  });

  test('bad keys stop start-up', () => {
    assert.throws(
      () =>
        setupPayloadEncryption({
          temporalAddress: 'localhost:7233',
          env: { SESSION_KEEPER_CODEC_KEYS: 'k1:short' },
        }),
      /SESSION_KEEPER_CODEC_KEYS: key "k1"/,
    );
  });
});
