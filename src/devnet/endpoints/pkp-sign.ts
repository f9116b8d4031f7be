/** `pkp/sign` (pkpSign): this node's ECDSA share of a digest signed by a PKP. */
import { litError } from '../lit-errors';
import type { NodeContext } from './node-context';
import { PKP_PREFIX, PKP_SIGNING, pkpShare, verifySession } from './session-checks';

/**
 * `pkpSign` (SDK 7.4.0: POST `/web/pkp/sign/v1` with `{toSign: number[], pubkey: '0x04…',
 * authSig}`): checks the session sig grants `pkp-signing` on the PKP (`lit-pkp://<token id,
 * 64 hex digits>` or `lit-pkp://*`) and that its owner may use the PKP (a permitted address,
 * or the PKP itself for PKP sessions), then answers this node's ECDSA share in the shape the
 * SDK's `parsePkpSignResponse` reads (snake_case keys, JSON-quoted hex values).
 */
export function pkpSign(node: NodeContext, body: Record<string, unknown>): Record<string, unknown> {
  const now = node.now();
  const { toSign, pubkey } = body;
  if (
    !Array.isArray(toSign) ||
    !toSign.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255)
  ) {
    throw litError('NodeBadInput', 'toSign must be an array of bytes');
  }
  if (toSign.length !== 32) {
    throw litError('NodeBadInput', `Message length to be signed is not 32 bytes (got ${toSign.length})`);
  }
  if (typeof pubkey !== 'string') throw litError('NodeBadInput', 'pubkey is required');
  const pkp = node.deps.pkps.get(pubkey);
  if (!pkp) throw litError('NodeInvalidPKPAddress', `No PKP with public key ${pubkey} on this network`);
  const session = verifySession(node, body.authSig, now, {
    resourcePrefix: PKP_PREFIX,
    resourceId: pkp.tokenId.replace(/^0x/, '').toLowerCase(),
    ability: PKP_SIGNING,
  });
  const digest = Uint8Array.from(toSign as number[]);
  const share = pkpShare(node, pkp.publicKey, session, digest);
  const quoted = (v: string) => JSON.stringify(v);
  const digestHex = Buffer.from(digest).toString('hex');
  return {
    success: true,
    signedData: toSign,
    signatureShare: {
      digest: quoted(digestHex),
      result: 'success',
      share_index: node.share.index,
      peer_id: node.chainAddress,
      big_r: quoted(share.bigR),
      public_key: quoted(share.publicKey),
      sig_type: 'K256',
      signature_share: quoted(share.share),
    },
  };
}
