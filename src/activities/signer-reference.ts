/**
 * Resolves a signer reference (`env:NAME`, `file:/path`) to a wallet, inside the activity only.
 * The key never leaves this module: errors name the reference, never the value.
 */
import fs from 'node:fs';
import { ethers } from 'ethers';
import { TypedActivityError } from '../lit/error-classification';
import { keyFileProblem, MAX_KEY_FILE_BYTES } from '../shared/key-file-policy';

export type SignerSource = { kind: 'env'; name: string } | { kind: 'file'; path: string };

/** Pure: parses the reference syntax. */
export function parseSignerReference(ref: string): SignerSource {
  if (ref.startsWith('env:') && /^[A-Za-z_][A-Za-z0-9_]*$/.test(ref.slice(4))) {
    return { kind: 'env', name: ref.slice(4) };
  }
  if (ref.startsWith('file:/') && ref.length > 6) return { kind: 'file', path: ref.slice(5) };
  throw new TypedActivityError(
    'InvalidSigner',
    `signer reference "${ref}" is malformed; use env:NAME or file:/absolute/path`,
  );
}

/**
 * Wallets already made, by key. Making one derives the public key (a secp256k1 multiplication,
 * ~1.3 ms of CPU: B1's step table), and every refresh of an agent uses the same key. Keyed by the key
 * itself, so a rotated key (new env value or file content) simply makes a new wallet. Bounded; the
 * oldest entry goes first. The keys were in this process's memory anyway (env, the file read).
 */
const wallets = new Map<string, ethers.Wallet>();
export const WALLET_CACHE_SIZE = 4_096;

/** Turns key text into a wallet. Accepts a hex key with or without 0x, surrounding whitespace. */
export function walletFromKeyText(text: string, ref: string): ethers.Wallet {
  const trimmed = text.trim();
  const hex = (trimmed.startsWith('0x') ? trimmed : `0x${trimmed}`).toLowerCase();
  if (!/^0x[0-9a-f]{64}$/.test(hex)) {
    throw new TypedActivityError(
      'InvalidSigner',
      `the key behind ${ref} is not a 32-byte hex private key; store it as 64 hex digits (optionally 0x-prefixed)`,
    );
  }
  const cached = wallets.get(hex);
  if (cached) return cached;
  try {
    const wallet = new ethers.Wallet(hex);
    if (wallets.size >= WALLET_CACHE_SIZE) wallets.delete(wallets.keys().next().value as string);
    wallets.set(hex, wallet);
    return wallet;
  } catch {
    throw new TypedActivityError(
      'InvalidSigner',
      `the key behind ${ref} is not a valid secp256k1 private key`,
    );
  }
}

export interface SignerEnvironment {
  env: NodeJS.ProcessEnv;
  readFile: (path: string) => string;
}

/** Refused by the key file policy; the message says why and how to fix it. */
export class KeyFilePolicyError extends Error {
  readonly code = 'EKEYFILEPOLICY';
}

/**
 * Reads a key file after checking it against the policy (owner, mode, symlink, size), through one
 * open file descriptor so the file checked is the file read, and never more than a key's bytes.
 */
export function readKeyFile(p: string, readerUid: number = process.getuid?.() ?? 0): string {
  const link = fs.lstatSync(p);
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const target = fs.fstatSync(fd);
    const problem = keyFileProblem(
      {
        link: { isSymbolicLink: link.isSymbolicLink(), uid: link.uid },
        target: { isFile: target.isFile(), mode: target.mode, uid: target.uid, size: target.size },
      },
      readerUid,
    );
    if (problem) throw new KeyFilePolicyError(`the key file ${problem}`);
    const buf = Buffer.alloc(MAX_KEY_FILE_BYTES);
    const n = fs.readSync(fd, buf, 0, MAX_KEY_FILE_BYTES, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

const defaultEnvironment: SignerEnvironment = {
  env: process.env,
  readFile: (p) => readKeyFile(p),
};

export function resolveSigner(ref: string, where: SignerEnvironment = defaultEnvironment): ethers.Wallet {
  const source = parseSignerReference(ref);
  if (source.kind === 'env') {
    const value = where.env[source.name];
    if (!value) {
      throw new TypedActivityError(
        'InvalidSigner',
        `signer ${ref}: environment variable ${source.name} is not set on this worker; set it and rotate the agent`,
      );
    }
    return walletFromKeyText(value, ref);
  }
  let text: string;
  try {
    text = where.readFile(source.path);
  } catch (err) {
    if (err instanceof KeyFilePolicyError) {
      throw new TypedActivityError('InvalidSigner', `signer ${ref}: ${err.message}; then rotate the agent`);
    }
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new TypedActivityError(
      'InvalidSigner',
      `signer ${ref}: cannot read the key file (${code}); fix the file and rotate the agent`,
    );
  }
  return walletFromKeyText(text, ref);
}
