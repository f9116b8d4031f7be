/**
 * PKPs of the devnet: secp256k1 keys, each with the list of wallet addresses permitted to
 * control it (Lit's PKPPermissions "permitted address" auth method). Nodes consult this when a
 * `sign_session_key` request presents an EthWallet auth method.
 */
import { secp256k1 } from '@noble/curves/secp256k1';
import { bytesToHex } from '@noble/hashes/utils';
import { ethers } from 'ethers';

export interface PkpInfo {
  /** Uncompressed public key, `0x04…` (130 hex digits after 0x). */
  publicKey: string;
  ethAddress: string;
  /** keccak256 of the public key, as Lit derives PKP token ids. */
  tokenId: string;
}

export interface PkpRecord extends PkpInfo {
  permittedAddresses: string[];
}

const normalisePubkey = (publicKey: string) => `0x${publicKey.replace(/^0x/, '').toLowerCase()}`;

export class PkpRegistry {
  private readonly pkps = new Map<string, { info: PkpInfo; permitted: Set<string> }>();

  /** Mints a PKP; its private key is thrown away since the devnet never signs with PKPs. */
  mint(permittedAddresses: string[]): PkpInfo {
    const permitted = new Set(permittedAddresses.map(checksum));
    const publicKey = `0x${bytesToHex(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false))}`;
    const info: PkpInfo = {
      publicKey,
      ethAddress: ethers.utils.computeAddress(publicKey),
      tokenId: ethers.utils.keccak256(publicKey),
    };
    this.pkps.set(normalisePubkey(publicKey), { info, permitted });
    return info;
  }

  /** Adds a PKP minted earlier (a devnet state file); replaces its permitted list if present. */
  restore(publicKey: string, permittedAddresses: string[]): PkpInfo {
    let normalised: string;
    let ethAddress: string;
    try {
      normalised = normalisePubkey(publicKey);
      if (!/^0x04[0-9a-f]{128}$/.test(normalised)) throw new Error('not uncompressed');
      secp256k1.Point.fromHex(normalised.slice(2));
      ethAddress = ethers.utils.computeAddress(normalised);
    } catch {
      throw new Error(`not an uncompressed secp256k1 public key: ${JSON.stringify(publicKey)}`);
    }
    const info: PkpInfo = { publicKey: normalised, ethAddress, tokenId: ethers.utils.keccak256(normalised) };
    this.pkps.set(normalised, { info, permitted: new Set(permittedAddresses.map(checksum)) });
    return info;
  }

  get(publicKey: string): PkpRecord | undefined {
    const entry = this.pkps.get(normalisePubkey(publicKey));
    return entry ? { ...entry.info, permittedAddresses: [...entry.permitted] } : undefined;
  }

  isPermitted(publicKey: string, address: string): boolean {
    const entry = this.pkps.get(normalisePubkey(publicKey));
    if (!entry) return false;
    try {
      return entry.permitted.has(checksum(address));
    } catch {
      return false;
    }
  }

  addPermittedAddress(publicKey: string, address: string): void {
    const entry = this.pkps.get(normalisePubkey(publicKey));
    if (!entry) throw new Error(`no PKP with public key ${publicKey}`);
    entry.permitted.add(checksum(address));
  }

  removePermittedAddress(publicKey: string, address: string): void {
    this.pkps.get(normalisePubkey(publicKey))?.permitted.delete(checksum(address));
  }

  list(): PkpRecord[] {
    return [...this.pkps.values()].map((e) => ({ ...e.info, permittedAddresses: [...e.permitted] }));
  }
}

function checksum(address: string): string {
  try {
    return ethers.utils.getAddress(address);
  } catch {
    throw new Error(`not an Ethereum address: ${JSON.stringify(address)}`);
  }
}
