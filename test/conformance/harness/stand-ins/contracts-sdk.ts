/**
 * Stand-in for `@lit-protocol/contracts-sdk`'s `LitContracts`, the on-chain part of the examples'
 * set-up, with the calls they make and the shapes the 7.4.0 SDK answers (contracts-sdk.js):
 * - `pkpNftContractUtils.write.mint()` → `{ pkp: { tokenId, publicKey, ethAddress }, tokenId }`,
 *   `publicKey` without `0x` as the SDK strips it. The PKP is minted through the devnet's admin
 *   API with the signer as its controller: the signer owns the PKP NFT it mints, and Lit's
 *   PKPPermissions counts the owner as a permitted address (`isPermittedAddress`: "||
 *   userIsOwner", LIT-Protocol/Node blockchain/contracts/.../PKPPermissionsFacet.sol).
 * - `addPermittedAction({ ipfsId, pkpTokenId, authMethodScopes })` → the devnet's
 *   `POST /pkps/permitted-actions` (the scopes are not modelled by the devnet).
 * - `mintCapacityCreditsNFT(...)` → `{ capacityTokenIdStr }`: a token id numbered here. The
 *   examples then sign a real capacity delegation with the SDK; the devnet does not meter.
 */
import type { ethers } from 'ethers';
import { adminPost, mintedPkpByTokenId, mintPkpFor } from '../network';

let nextCapacityTokenId = 1;

export class LitContracts {
  readonly signer: ethers.Signer;
  readonly network: unknown;
  connected = false;

  constructor(args: { signer: ethers.Signer; network?: unknown; debug?: boolean }) {
    this.signer = args.signer;
    this.network = args.network;
  }

  async connect(): Promise<void> {
    this.connected = true;
  }

  readonly pkpNftContractUtils = {
    write: {
      mint: async () => {
        const pkp = await mintPkpFor(await this.signer.getAddress());
        return {
          pkp: {
            tokenId: pkp.tokenId,
            publicKey: pkp.publicKey.replace(/^0x/, ''),
            ethAddress: pkp.ethAddress,
          },
          tokenId: pkp.tokenId,
        };
      },
    },
  };

  async mintCapacityCreditsNFT(_args: {
    requestsPerKilosecond?: number;
    requestsPerDay?: number;
    requestsPerSecond?: number;
    daysUntilUTCMidnightExpiration: number;
  }): Promise<{ capacityTokenIdStr: string; capacityTokenId: string }> {
    const id = String(nextCapacityTokenId++);
    return { capacityTokenIdStr: id, capacityTokenId: id };
  }

  async addPermittedAction(args: {
    ipfsId: string;
    pkpTokenId: string;
    authMethodScopes?: unknown[];
  }): Promise<unknown> {
    const pkp = mintedPkpByTokenId(args.pkpTokenId);
    return adminPost('/pkps/permitted-actions', { publicKey: pkp.publicKey, ipfsId: args.ipfsId });
  }
}
