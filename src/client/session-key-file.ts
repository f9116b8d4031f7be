/**
 * An agent's own session key pair on disk (agent-held mode): written once by
 * `session-keeper agent keygen`, read by the agent (both halves) and by `agent start` (only the
 * public half is ever sent anywhere). The file holds a secret, so it is created owner-only (0600),
 * never overwritten, and read under the same policy as the wallet key files (owner-only, regular
 * file, bounded size).
 *
 * Format: JSON `{ "type": "lit-session-key", "publicKey": <64 hex>, "secretKey": <128 hex> }`,
 * the key pair in the shape the Lit SDK takes as `sessionKey` (tweetnacl: the secret key is the
 * 32-byte seed followed by the public key).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { ed25519PrivateKeyFromSeed, ed25519PublicKeyBytes } from '../shared/ed25519-der';
import { keyFileProblem, MAX_KEY_FILE_BYTES } from '../shared/key-file-policy';

export interface SessionKeyPair {
  /** ed25519 public key, 64 hex digits. */
  publicKey: string;
  /** tweetnacl secret key (seed ‖ public key), 128 hex digits. */
  secretKey: string;
}

const FILE_TYPE = 'lit-session-key';

export class SessionKeyFileError extends Error {
  override name = 'SessionKeyFileError';
}

/** Pure: a new key pair from a 32-byte seed (node:crypto's ed25519, the SDK's key shape). */
export function sessionKeyPairFromSeed(seed: Uint8Array): SessionKeyPair {
  if (seed.length !== 32) throw new SessionKeyFileError('an ed25519 seed is 32 bytes');
  const publicKey = ed25519PublicKeyBytes(ed25519PrivateKeyFromSeed(seed));
  return {
    publicKey: publicKey.toString('hex'),
    secretKey: Buffer.concat([Buffer.from(seed), publicKey]).toString('hex'),
  };
}

/** Pure: the key pair in a key file's text, checked (the public half must be the seed's). */
export function parseSessionKeyFile(text: string, where: string): SessionKeyPair {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SessionKeyFileError(
      `${where} is not a session key file (not JSON); make one with \`session-keeper agent keygen --out FILE\``,
    );
  }
  const o = parsed as Partial<SessionKeyPair> & { type?: unknown };
  if (
    o?.type !== FILE_TYPE ||
    typeof o.publicKey !== 'string' ||
    typeof o.secretKey !== 'string' ||
    !/^[0-9a-f]{64}$/.test(o.publicKey) ||
    !/^[0-9a-f]{128}$/.test(o.secretKey)
  ) {
    throw new SessionKeyFileError(
      `${where} is not a session key file (expected type "${FILE_TYPE}", publicKey of 64 and secretKey of 128 lowercase hex digits); make one with \`session-keeper agent keygen --out FILE\``,
    );
  }
  const derived = sessionKeyPairFromSeed(Buffer.from(o.secretKey.slice(0, 64), 'hex'));
  if (derived.publicKey !== o.publicKey || derived.secretKey !== o.secretKey) {
    throw new SessionKeyFileError(
      `${where}: publicKey is not the public half of secretKey (edited or damaged); make a new one with \`session-keeper agent keygen --out FILE\``,
    );
  }
  return { publicKey: o.publicKey, secretKey: o.secretKey };
}

/** Reads a session key file under the key file policy (owner-only regular file, bounded). */
export function readSessionKeyFile(path: string): SessionKeyPair {
  let facts: Parameters<typeof keyFileProblem>[0];
  try {
    const link = fs.lstatSync(path);
    const target = fs.statSync(path);
    facts = {
      link: { isSymbolicLink: link.isSymbolicLink(), uid: link.uid },
      target: { isFile: target.isFile(), mode: target.mode, uid: target.uid, size: target.size },
    };
  } catch (err) {
    throw new SessionKeyFileError(
      `session key file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); make one with \`session-keeper agent keygen --out FILE\``,
    );
  }
  const problem = keyFileProblem(facts, process.getuid?.() ?? 0);
  if (problem) throw new SessionKeyFileError(`session key file ${path} ${problem}`);
  const fd = fs.openSync(path, 'r');
  try {
    const buf = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    if (n > MAX_KEY_FILE_BYTES) throw new SessionKeyFileError(`session key file ${path} is too large`);
    return parseSessionKeyFile(buf.subarray(0, n).toString('utf8'), `session key file ${path}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Only the public half of a session key file: what `agent start --session-key-file` sends. */
export function readSessionPublicKey(path: string): string {
  return readSessionKeyFile(path).publicKey;
}

/** Writes a new key pair to `path` (mode 0600; refuses to overwrite) and returns it. */
export function writeNewSessionKeyFile(path: string): SessionKeyPair {
  const pair = sessionKeyPairFromSeed(crypto.randomBytes(32));
  const text = `${JSON.stringify({ type: FILE_TYPE, ...pair }, null, 2)}\n`;
  try {
    fs.writeFileSync(path, text, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SessionKeyFileError(
      code === 'EEXIST'
        ? `${path} already exists; session key files are never overwritten: choose another --out, or delete the old file once no agent uses its key`
        : `cannot write ${path} (${code ?? 'error'})`,
    );
  }
  return pair;
}
