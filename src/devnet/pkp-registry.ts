/**
 * PKPs of the devnet: secp256k1 keys, each with the list of wallet addresses permitted to
 * control it (Lit's PKPPermissions "permitted address" auth method) and the list of Lit Actions
 * permitted to (PKPPermissions `addPermittedAction`, by IPFS CID). Nodes consult this when a
 * `sign_session_key` request presents an EthWallet auth method or a Lit Action, and on `pkpSign`. Unlike Lit's
 * network, where no party holds a PKP's key, the devnet keeps each private key whole and deals
 * signature shares of it (see ecdsa-shares.ts).
 */
import { secp256k1 } from '@noble/curves/secp256k1';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils';
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
  /** IPFS CIDs (v0, `Qm…`) of the Lit Actions that may authorise sessions of the PKP. */
  permittedActions: string[];
}

const normalisePubkey = (publicKey: string) => `0x${publicKey.replace(/^0x/, '').toLowerCase()}`;

/** A CID v0 as Lit's PKPPermissions contract takes it (base58btc of a sha2-256 multihash). */
export const IPFS_CID_V0 = /^Qm[1-9A-HJ-NP-Za-km-z]{44}$/;

interface Entry {
  info: PkpInfo;
  permitted: Set<string>;
  actions: Set<string>;
  secretKey: Uint8Array | undefined;
}

export class PkpRegistry {
  private readonly pkps = new Map<string, Entry>();

  /** Mints a PKP; the registry keeps its private key so the devnet nodes can sign with it. */
  mint(permittedAddresses: string[], permittedActions: string[] = []): PkpInfo {
    const permitted = new Set(permittedAddresses.map(checksum));
    const actions = new Set(permittedActions.map(actionId));
    const secretKey = secp256k1.utils.randomSecretKey();
    const publicKey = `0x${bytesToHex(secp256k1.getPublicKey(secretKey, false))}`;
    const info: PkpInfo = {
      publicKey,
      ethAddress: ethers.utils.computeAddress(publicKey),
      tokenId: ethers.utils.keccak256(publicKey),
    };
    this.pkps.set(normalisePubkey(publicKey), { info, permitted, actions, secretKey });
    return info;
  }

  /**
   * Adds a PKP minted earlier (a devnet state file); replaces its permitted lists if present.
   * Without `privateKeyHex` (state files written before pkpSign existed) the PKP cannot sign.
   */
  restore(
    publicKey: string,
    permittedAddresses: string[],
    privateKeyHex?: string,
    permittedActions: string[] = [],
  ): PkpInfo {
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
    let secretKey: Uint8Array | undefined;
    if (privateKeyHex !== undefined) {
      const hex = privateKeyHex.replace(/^0x/, '');
      const valid =
        /^[0-9a-fA-F]{64}$/.test(hex) &&
        (() => {
          try {
            return `0x${bytesToHex(secp256k1.getPublicKey(hexToBytes(hex), false))}` === normalised;
          } catch {
            return false;
          }
        })();
      if (!valid) throw new Error(`the private key saved for PKP ${normalised} does not match it`);
      secretKey = hexToBytes(hex);
    }
    const info: PkpInfo = { publicKey: normalised, ethAddress, tokenId: ethers.utils.keccak256(normalised) };
    this.pkps.set(normalised, {
      info,
      permitted: new Set(permittedAddresses.map(checksum)),
      actions: new Set(permittedActions.map(actionId)),
      secretKey,
    });
    return info;
  }

  /** The PKP's private key, when the devnet holds it. */
  secretKey(publicKey: string): Uint8Array | undefined {
    return this.pkps.get(normalisePubkey(publicKey))?.secretKey;
  }

  /** Hex private key of the PKP, for the state file. */
  privateKeyHex(publicKey: string): string | undefined {
    const key = this.secretKey(publicKey);
    return key ? bytesToHex(key) : undefined;
  }

  get(publicKey: string): PkpRecord | undefined {
    const entry = this.pkps.get(normalisePubkey(publicKey));
    return entry ? recordOf(entry) : undefined;
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

  /** Whether the Lit Action with this IPFS CID may authorise sessions of the PKP. */
  isPermittedAction(publicKey: string, ipfsId: string): boolean {
    return this.pkps.get(normalisePubkey(publicKey))?.actions.has(ipfsId) ?? false;
  }

  addPermittedAction(publicKey: string, ipfsId: string): void {
    const entry = this.pkps.get(normalisePubkey(publicKey));
    if (!entry) throw new Error(`no PKP with public key ${publicKey}`);
    entry.actions.add(actionId(ipfsId));
  }

  removePermittedAction(publicKey: string, ipfsId: string): void {
    this.pkps.get(normalisePubkey(publicKey))?.actions.delete(ipfsId);
  }

  list(): PkpRecord[] {
    return [...this.pkps.values()].map(recordOf);
  }
}

function recordOf(e: Entry): PkpRecord {
  return { ...e.info, permittedAddresses: [...e.permitted], permittedActions: [...e.actions] };
}

function actionId(ipfsId: string): string {
  if (typeof ipfsId !== 'string' || !IPFS_CID_V0.test(ipfsId)) {
    throw new Error(`not an IPFS CID v0 (Qm…, 46 characters): ${JSON.stringify(ipfsId)}`);
  }
  return ipfsId;
}

function checksum(address: string): string {
  try {
    return ethers.utils.getAddress(address);
  } catch {
    throw new Error(`not an Ethereum address: ${JSON.stringify(address)}`);
  }
}
