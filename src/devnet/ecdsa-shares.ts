/**
 * ECDSA (secp256k1) signature shares of a PKP signature, in the form the Lit SDK 7.4.0 combines:
 * `@lit-protocol/crypto` `combineEcdsaShares` hands the wasm `ecdsaCombine('K256', bigR, shares)`
 * the presignature point `R` (33-byte compressed) and the nodes' 32-byte scalar shares, adds the
 * scalars up (`s = Σ s_i`, with `r = R.x`), then verifies `(r, s)` over `dataSigned` against the
 * share's `publicKey`.
 *
 * Lit's nodes run a threshold protocol so that no party knows the key. The devnet holds each
 * PKP's key whole (pkp-registry.ts) and deals an additive split of one signature: every node
 * derives the same `(R, s)` deterministically (RFC 6979 nonce), and the shares of the signing
 * participants, in order, add up to `s`. The combined signature therefore comes out only when
 * every participant's share is present — which matches the SDK, which sends pkpSign to every
 * connected node and needs all of them to answer.
 */
import { secp256k1 } from '@noble/curves/secp256k1';
import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';

const N = secp256k1.CURVE.n;
const mod = (a: bigint) => ((a % N) + N) % N;
const hex32 = (v: bigint) => v.toString(16).padStart(64, '0');

export interface EcdsaShare {
  /** The presignature point R, compressed, hex (66 digits). */
  bigR: string;
  /** This participant's scalar share, hex (64 digits). */
  share: string;
  /** The PKP's public key, uncompressed, hex without 0x (130 digits). */
  publicKey: string;
}

/**
 * The share of participant `participant` (one of `participants`, the node indices taking part)
 * of the signature of the 32-byte `digest` by `secretKey`.
 */
export function ecdsaShare(
  secretKey: Uint8Array,
  digest: Uint8Array,
  participant: number,
  participants: readonly number[],
): EcdsaShare {
  if (digest.length !== 32) throw new Error('an ECDSA digest is 32 bytes');
  const order = [...new Set(participants)].sort((a, b) => a - b);
  const position = order.indexOf(participant);
  if (position < 0) throw new Error(`node ${participant} is not a signing participant`);
  // noble: deterministic k (RFC 6979), low s; `recovery` bit 0 is the parity of the R that goes
  // with the returned s (flipped along with s), bit 1 says R.x ≥ n.
  const sig = secp256k1.sign(digest, secretKey, { lowS: true });
  const x = sig.recovery & 2 ? sig.r + N : sig.r;
  const bigR = `${sig.recovery & 1 ? '03' : '02'}${x.toString(16).padStart(64, '0')}`;
  // Shares of all but the last participant are pseudo-random, derived from the key and digest so
  // every node computes the same split; the last one makes the sum s.
  const pseudo = (i: number) =>
    mod(BigInt(`0x${bytesToHex(hmac(sha256, secretKey, new Uint8Array([...digest, ...u32(i)])))}`));
  let share: bigint;
  if (position < order.length - 1) {
    share = pseudo(order[position]);
  } else {
    let rest = 0n;
    for (const p of order.slice(0, -1)) rest = mod(rest + pseudo(p));
    share = mod(sig.s - rest);
  }
  return {
    bigR,
    share: hex32(share),
    publicKey: bytesToHex(secp256k1.getPublicKey(secretKey, false)),
  };
}

function u32(i: number): number[] {
  return [(i >>> 24) & 0xff, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff];
}
