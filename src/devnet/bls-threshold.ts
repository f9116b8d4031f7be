/**
 * The network's BLS12-381 threshold key, in the form Lit's SDK combines and verifies:
 * - the network public key is the 48-byte compressed G1 point `s·G1` (`networkPublicKey`,
 *   `subnetPublicKey`; the SDK encrypts to it);
 * - node `i` (1-based) holds `s_i = f(i)`, f a random polynomial of degree t-1 with f(0) = s;
 * - a signature share is one byte `i` followed by the 96-byte compressed G2 point `s_i·H(m)`,
 *   H = hash-to-G2 with the proof-of-possession DST. The SDK's `blsCombine` interpolates any t
 *   shares into `s·H(m)`.
 */
import { randomBytes } from 'node:crypto';
import { bls12_381 } from '@noble/curves/bls12-381';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';
import { ethers } from 'ethers';

export const BLS_POP_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
/** Shares carry their index in one byte. */
export const MAX_SHARE_INDEX = 255;

const Fr = bls12_381.fields.Fr;
const G1 = bls12_381.G1.Point;
const sigs = bls12_381.longSignatures;

export interface BlsKeyShare {
  /** 1-based; the first byte of every signature share. */
  index: number;
  secret: bigint;
  publicKeyHex: string;
}

function randomScalar(): bigint {
  // 64 random bytes reduced mod r: uniform enough, and never zero in practice.
  const n = Fr.create(BigInt(`0x${randomBytes(64).toString('hex')}`));
  return n === 0n ? 1n : n;
}

export class BlsNetworkKey {
  /** f(x) = coefficients[0] + coefficients[1]·x + …; coefficients[0] is the network secret. */
  private readonly coefficients: bigint[];
  readonly publicKeyHex: string;

  private constructor(coefficients: bigint[]) {
    this.coefficients = coefficients;
    this.publicKeyHex = bytesToHex(G1.BASE.multiply(coefficients[0]).toBytes(true));
  }

  /**
   * The key saved by `toCoefficientsHex` (a devnet state file): the same network public key and
   * the same share for every node index.
   */
  static fromCoefficientsHex(coefficients: string[]): BlsNetworkKey {
    if (!Array.isArray(coefficients) || coefficients.length < 1 || coefficients.length > MAX_SHARE_INDEX) {
      throw new Error(`a network key has 1 to ${MAX_SHARE_INDEX} coefficients, got ${coefficients?.length}`);
    }
    const values = coefficients.map((hex, i) => {
      if (typeof hex !== 'string' || !/^(0x)?[0-9a-fA-F]{1,64}$/.test(hex)) {
        throw new Error(`coefficient ${i} is not a hex scalar`);
      }
      const n = BigInt(hex.startsWith('0x') ? hex : `0x${hex}`);
      if (n >= Fr.ORDER) throw new Error(`coefficient ${i} is not below the group order`);
      return n;
    });
    if (values[0] === 0n) throw new Error('the network secret (coefficient 0) is zero');
    return new BlsNetworkKey(values);
  }

  static generate(threshold: number): BlsNetworkKey {
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > MAX_SHARE_INDEX) {
      throw new Error(`threshold must be an integer between 1 and ${MAX_SHARE_INDEX}, got ${threshold}`);
    }
    return new BlsNetworkKey(Array.from({ length: threshold }, randomScalar));
  }

  get threshold(): number {
    return this.coefficients.length;
  }

  /** The secret polynomial as hex scalars, for a devnet state file. Secret: every share derives from it. */
  toCoefficientsHex(): string[] {
    return this.coefficients.map((c) => c.toString(16).padStart(64, '0'));
  }

  share(index: number): BlsKeyShare {
    if (!Number.isInteger(index) || index < 1 || index > MAX_SHARE_INDEX) {
      throw new Error(`share index must be between 1 and ${MAX_SHARE_INDEX}, got ${index}`);
    }
    const x = BigInt(index);
    let secret = 0n;
    for (let k = this.coefficients.length - 1; k >= 0; k--) {
      secret = Fr.add(Fr.mul(secret, x), this.coefficients[k]);
    }
    return { index, secret, publicKeyHex: this.publicKeyHex };
  }
}

/**
 * Every node of a devnet runs in one process and is asked to sign the same message (the SDK sends
 * one request body to all of them), so hash-to-G2 (~half of a share's CPU) is computed once per
 * message for all of them. Only public data is cached: H(m) for recent messages.
 */
const hashedMessages = new Map<string, ReturnType<typeof sigs.hash>>();
const HASHED_MESSAGES_KEPT = 64;

function hashToG2(message: Uint8Array): ReturnType<typeof sigs.hash> {
  const key = Buffer.from(message).toString('hex');
  let point = hashedMessages.get(key);
  if (!point) {
    point = sigs.hash(message, BLS_POP_DST);
    if (hashedMessages.size >= HASHED_MESSAGES_KEPT)
      hashedMessages.delete(hashedMessages.keys().next().value as string);
    hashedMessages.set(key, point);
  }
  return point;
}

/** A signature share over `message`, hex: share index byte ‖ compressed G2 point. */
export function signShare(share: BlsKeyShare, message: Uint8Array): string {
  const point = hashToG2(message).multiply(share.secret);
  return Buffer.concat([Buffer.from([share.index]), Buffer.from(point.toBytes(true))]).toString('hex');
}

/** Verifies a combined (96-byte G2) signature against the network public key. */
export function verifyBlsSignature(publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  try {
    const hashed = sigs.hash(message, BLS_POP_DST);
    return sigs.verify(signatureHex.replace(/^0x/, ''), hashed, publicKeyHex.replace(/^0x/, ''));
  } catch {
    return false;
  }
}

/**
 * What the network signs to bless a PKP session: `sha256("lit_session:" + hex(eip191(siwe)))`.
 * Lit namespaces these signatures so the network key never signs a raw SIWE hash.
 */
export function litSessionSigningHash(siweMessage: string): Uint8Array {
  const eip191 = ethers.utils.hashMessage(siweMessage).slice(2);
  return sha256(new TextEncoder().encode(`lit_session:${eip191}`));
}
