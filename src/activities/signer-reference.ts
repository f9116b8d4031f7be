/**
 * Resolves a signer reference (`env:NAME`, `file:/path`) to a wallet, inside the activity only.
 * The key never leaves this module: errors name the reference, never the value.
 */
import fs from 'node:fs';
import { ethers } from 'ethers';
import { TypedActivityError } from './error-classification';

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

/** Pure: turns key text into a wallet. Accepts a hex key with or without 0x, surrounding whitespace. */
export function walletFromKeyText(text: string, ref: string): ethers.Wallet {
  const trimmed = text.trim();
  const hex = trimmed.startsWith('0x') ? trimmed : `0x${trimmed}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) {
    throw new TypedActivityError(
      'InvalidSigner',
      `the key behind ${ref} is not a 32-byte hex private key; store it as 64 hex digits (optionally 0x-prefixed)`,
    );
  }
  try {
    return new ethers.Wallet(hex);
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

const defaultEnvironment: SignerEnvironment = {
  env: process.env,
  readFile: (p) => fs.readFileSync(p, 'utf8'),
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
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new TypedActivityError(
      'InvalidSigner',
      `signer ${ref}: cannot read the key file (${code}); fix the file and rotate the agent`,
    );
  }
  return walletFromKeyText(text, ref);
}
