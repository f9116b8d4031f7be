/**
 * Codec key configuration. Keys come from the environment, never from Temporal:
 *
 * - `SESSION_KEEPER_CODEC_KEYS="k2:<base64>,k1:<base64>"`, or
 * - `SESSION_KEEPER_CODEC_KEYS_FILE=/run/secrets/codec-keys`, a file with the same content
 *   (entries separated by commas and/or newlines; blank lines and `#` comments ignored).
 *
 * Each entry is `<id>:<base64 of 32 random bytes>`. The first entry encrypts new payloads unless
 * one entry is marked with a leading `*` (`k1:…,*k2:…`); every entry decrypts. Generate a key
 * with `openssl rand -base64 32`.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';

export const CODEC_KEYS_ENV = 'SESSION_KEEPER_CODEC_KEYS';
export const CODEC_KEYS_FILE_ENV = 'SESSION_KEEPER_CODEC_KEYS_FILE';

export const KEY_BYTES = 32;
export const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const GENERATE_HINT = 'generate one with `openssl rand -base64 32`';
const BASE64 = /^(?:[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+={0,2})$/;

/** A configuration problem found at start-up. The message names the variable, the key id and the fix. */
export class CodecConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecConfigError';
  }
}

/** The configured keys. Key material lives only in `KeyObject`s, which never print their bytes. */
export interface CodecKeyring {
  /** Id of the key that encrypts new payloads. */
  readonly encryptingKeyId: string;
  /** Every configured key by id (the encrypting one included), in configuration order. */
  readonly keys: ReadonlyMap<string, KeyObject>;
  /** Where the keys came from, for messages: the variable name (and file path). */
  readonly source: string;
}

/**
 * Parses key configuration text (the value of `SESSION_KEEPER_CODEC_KEYS` or the content of the
 * file named by `SESSION_KEEPER_CODEC_KEYS_FILE`). Pure. `source` names where the text came from
 * and appears in every error. Throws `CodecConfigError`.
 */
export function parseCodecKeys(text: string, source: string = CODEC_KEYS_ENV): CodecKeyring {
  const entries = text
    .split('\n')
    .flatMap((line) => line.replace(/#.*$/, '').split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) {
    throw new CodecConfigError(
      `${source} holds no key; give at least one entry <id>:<base64 key>, e.g. k1:$(openssl rand -base64 32)`,
    );
  }
  const keys = new Map<string, KeyObject>();
  let marked: string | undefined;
  entries.forEach((raw, index) => {
    const position = `entry ${index + 1}`;
    const isMarked = raw.startsWith('*');
    const entry = isMarked ? raw.slice(1).trim() : raw;
    const colon = entry.indexOf(':');
    if (colon < 0) {
      throw new CodecConfigError(
        `${source}: ${position} is not <id>:<base64 key> (no ":" found); write it as k1:<base64 key> and ${GENERATE_HINT}`,
      );
    }
    const id = entry.slice(0, colon).trim();
    const material = entry.slice(colon + 1).replace(/\s+/g, '');
    if (!id) {
      throw new CodecConfigError(
        `${source}: ${position} has an empty key id; give every key a short id such as k1 or 2025-06 (letters, digits, ".", "_", "-")`,
      );
    }
    if (!KEY_ID_PATTERN.test(id)) {
      throw new CodecConfigError(
        `${source}: key id "${printable(id)}" is not valid; use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      );
    }
    if (keys.has(id)) {
      throw new CodecConfigError(
        `${source}: key id "${id}" appears twice; every key needs its own id (keep one entry, give the other a new id)`,
      );
    }
    if (!material) {
      throw new CodecConfigError(`${source}: key "${id}" has no key material after ":"; ${GENERATE_HINT}`);
    }
    if (!BASE64.test(material)) {
      throw new CodecConfigError(`${source}: key "${id}" is not base64; ${GENERATE_HINT}`);
    }
    const bytes = Buffer.from(
      material,
      material.includes('-') || material.includes('_') ? 'base64url' : 'base64',
    );
    if (bytes.length !== KEY_BYTES) {
      const hex = /^[0-9a-fA-F]{64}$/.test(material) ? ' (it looks like hex; give the key in base64)' : '';
      bytes.fill(0);
      throw new CodecConfigError(
        `${source}: key "${id}" is ${bytes.length} bytes, AES-256 needs exactly ${KEY_BYTES}${hex}; ${GENERATE_HINT}`,
      );
    }
    if (isMarked) {
      if (marked !== undefined) {
        throw new CodecConfigError(
          `${source}: keys "${marked}" and "${id}" are both marked with "*"; mark at most one (the key that encrypts)`,
        );
      }
      marked = id;
    }
    keys.set(id, createSecretKey(bytes));
    bytes.fill(0);
  });
  return { encryptingKeyId: marked ?? keys.keys().next().value!, keys, source };
}

/**
 * Reads the key configuration from the environment: `SESSION_KEEPER_CODEC_KEYS` or the file named
 * by `SESSION_KEEPER_CODEC_KEYS_FILE` (not both). Returns `undefined` when neither is set (an
 * empty `SESSION_KEEPER_CODEC_KEYS` counts as unset). Throws `CodecConfigError`.
 */
export function loadCodecKeys(
  env: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => string = (p) => fs.readFileSync(p, 'utf8'),
): CodecKeyring | undefined {
  const inline = env[CODEC_KEYS_ENV]?.trim();
  const file = env[CODEC_KEYS_FILE_ENV]?.trim();
  if (inline && file) {
    throw new CodecConfigError(
      `both ${CODEC_KEYS_ENV} and ${CODEC_KEYS_FILE_ENV} are set; set only one (the file is preferable in production)`,
    );
  }
  if (inline) return parseCodecKeys(inline, CODEC_KEYS_ENV);
  if (file) {
    let content: string;
    try {
      content = readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message;
      throw new CodecConfigError(
        `${CODEC_KEYS_FILE_ENV}=${file} cannot be read (${code}); fix the path or the file's permissions`,
      );
    }
    return parseCodecKeys(content, `${CODEC_KEYS_FILE_ENV} (${file})`);
  }
  return undefined;
}

/** Ids of the configured keys, the encrypting one first; safe to log. */
export function describeKeyring(keyring: CodecKeyring): string {
  const others = [...keyring.keys.keys()].filter((id) => id !== keyring.encryptingKeyId);
  return others.length
    ? `encrypting with "${keyring.encryptingKeyId}", also decrypting ${others.map((id) => `"${id}"`).join(', ')}`
    : `encrypting with "${keyring.encryptingKeyId}"`;
}

/** Shows a bad id in an error only when it is short: a long one may be key material pasted by mistake. */
function printable(id: string): string {
  const clean = id.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 24 ? `${clean.slice(0, 4)}… (${clean.length} characters)` : clean;
}
