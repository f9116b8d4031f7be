import { randomBytes } from 'node:crypto';
import { type CodecKeyring, parseCodecKeys } from '../../src/codec/keys';

/** A fresh random base64 key, as `openssl rand -base64 32` prints it. */
export function newKey(): string {
  return randomBytes(32).toString('base64');
}

/** A keyring from `id → base64` pairs, the first encrypting. */
export function keyring(...entries: [id: string, key: string][]): CodecKeyring {
  return parseCodecKeys(entries.map(([id, key]) => `${id}:${key}`).join(','), 'test');
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function text(b: Uint8Array | null | undefined): string {
  return new TextDecoder().decode(b ?? new Uint8Array());
}

/** True when `needle` (UTF-8), its base64 or its hex occurs anywhere in `haystack`. */
export function containsSecret(haystack: Uint8Array, needle: string): boolean {
  const buf = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength);
  const raw = Buffer.from(needle, 'utf8');
  const forms = [raw, Buffer.from(raw.toString('base64'), 'utf8'), Buffer.from(raw.toString('hex'), 'utf8')];
  return forms.some((f) => buf.includes(f));
}
