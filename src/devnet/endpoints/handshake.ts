/**
 * `handshake` (SDK 7.4.0: POST `/web/handshake`): the node's keys, the network key, the latest
 * blockhash it advertises (the EOA nonce) and the epoch.
 */
import type { NodeContext } from './node-context';

export function handshake(node: NodeContext): Record<string, unknown> {
  const { blockhash } = node.deps.advertiser.current();
  return {
    serverPublicKey: node.serverPublicKey,
    subnetPublicKey: node.share.publicKeyHex,
    networkPublicKey: node.share.publicKeyHex,
    networkPublicKeySet: node.share.publicKeyHex,
    hdRootPubkeys: node.deps.hdRootPubkeys,
    latestBlockhash: blockhash,
    nodeVersion: '0.0.0-devnet',
    epoch: node.deps.currentEpoch(),
  };
}
