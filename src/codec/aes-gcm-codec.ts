/**
 * AES-256-GCM payload codec. Every payload that leaves the client or worker is serialised as a
 * Temporal `Payload` protobuf, encrypted under the keyring's encrypting key with a fresh random
 * 12-byte nonce, and wrapped in a new payload:
 *
 *   metadata: { encoding: "binary/encrypted", encryption-key-id: <id>, encryption-cipher: "aes-256-gcm" }
 *   data:     nonce (12 bytes) ‖ ciphertext ‖ GCM tag (16 bytes)
 *
 * The key id and cipher are bound as additional authenticated data. Decoding looks the key up by
 * id, so any configured key decrypts (rotation without downtime); payloads without the encrypted
 * encoding pass through unchanged (histories written before encryption stay readable).
 */
import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { CODEC_KEYS_ENV, CODEC_KEYS_FILE_ENV, type CodecKeyring } from './keys';

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_ENCODING = 'encoding';
export const METADATA_KEY_ID = 'encryption-key-id';
export const METADATA_CIPHER = 'encryption-cipher';
export const CIPHER = 'aes-256-gcm';
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

const ProtoPayload = temporal.api.common.v1.Payload;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A payload that cannot be decrypted: unknown key id, malformed, or failed authentication. */
export class PayloadDecryptionError extends Error {
  readonly keyId: string | undefined;
  constructor(message: string, keyId?: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
    this.keyId = keyId;
  }
}

function aad(keyId: string): Buffer {
  return Buffer.from(`lit-session-keeper/${CIPHER}/${keyId}`, 'utf8');
}

export class AesGcmPayloadCodec implements PayloadCodec {
  readonly #keyring: CodecKeyring;

  constructor(keyring: CodecKeyring) {
    if (!keyring.keys.has(keyring.encryptingKeyId)) {
      throw new Error(`encrypting key "${keyring.encryptingKeyId}" is not in the keyring`);
    }
    this.#keyring = keyring;
  }

  get encryptingKeyId(): string {
    return this.#keyring.encryptingKeyId;
  }

  get keyIds(): string[] {
    return [...this.#keyring.keys.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.#keyring.encryptingKeyId;
    const key = this.#keyring.keys.get(keyId)!;
    return payloads.map((payload) => encryptPayload(payload, keyId, key));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.#decodeOne(payload));
  }

  #decodeOne(payload: Payload): Payload {
    const metadata = payload.metadata ?? {};
    const encoding = metadata[METADATA_ENCODING];
    if (!encoding || decoder.decode(encoding) !== ENCODING_ENCRYPTED) return payload;
    const rawKeyId = metadata[METADATA_KEY_ID];
    if (!rawKeyId || rawKeyId.length === 0) {
      throw new PayloadDecryptionError(
        `encrypted payload has no "${METADATA_KEY_ID}" metadata; it was not written by this codec`,
      );
    }
    const keyId = decoder.decode(rawKeyId);
    const cipher = metadata[METADATA_CIPHER] ? decoder.decode(metadata[METADATA_CIPHER]) : CIPHER;
    if (cipher !== CIPHER) {
      throw new PayloadDecryptionError(
        `encrypted payload uses cipher "${cipher.slice(0, 32)}", this codec only decrypts ${CIPHER}`,
        keyId,
      );
    }
    const key = this.#keyring.keys.get(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        `payload was encrypted with codec key id "${keyId.slice(0, 64)}", which is not configured ` +
          `(configured: ${this.keyIds.map((id) => `"${id}"`).join(', ')}); add that key to ${CODEC_KEYS_ENV} ` +
          `(or ${CODEC_KEYS_FILE_ENV}) as "${keyId.slice(0, 64)}:<base64 key>" after the current keys, ` +
          'on every worker, client and codec server that reads these histories',
        keyId,
      );
    }
    const data = payload.data ?? new Uint8Array(0);
    if (data.length < NONCE_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(
        `encrypted payload under key "${keyId}" is ${data.length} bytes, too short to be ${CIPHER} output`,
        keyId,
      );
    }
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const nonce = buf.subarray(0, NONCE_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    const ciphertext = buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES);
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv(CIPHER, key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(keyId));
      decipher.setAuthTag(tag);
      plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `encrypted payload under key "${keyId}" failed authentication: the ciphertext was altered, or the ` +
          `key configured as "${keyId}" is not the key that encrypted it`,
        keyId,
      );
    }
    try {
      const inner = ProtoPayload.decode(plaintext);
      return {
        metadata: inner.metadata,
        data: inner.data,
        ...(inner.externalPayloads?.length ? { externalPayloads: inner.externalPayloads } : {}),
      };
    } catch {
      throw new PayloadDecryptionError(
        `decrypted payload under key "${keyId}" is not a Temporal Payload`,
        keyId,
      );
    }
  }
}

function encryptPayload(payload: Payload, keyId: string, key: KeyObject): Payload {
  const plaintext = ProtoPayload.encode(payload).finish();
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(CIPHER, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(keyId));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  return {
    metadata: {
      [METADATA_ENCODING]: encoder.encode(ENCODING_ENCRYPTED),
      [METADATA_KEY_ID]: encoder.encode(keyId),
      [METADATA_CIPHER]: encoder.encode(CIPHER),
    },
    data: new Uint8Array(Buffer.concat([nonce, ciphertext, tag])),
  };
}
