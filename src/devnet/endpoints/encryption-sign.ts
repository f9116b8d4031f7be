/**
 * `encryption/sign` (decrypt; SDK 7.4.0: POST `/web/encryption/sign` with the access control
 * conditions, `dataToEncryptHash` and the session sig): checks the session sig grants
 * `access-control-condition-decryption` on the content and that the conditions hold for its
 * owner, then answers this node's BLS share of the content's identity.
 */
import {
  type ConditionKind,
  canonicalizeConditions,
  evaluateConditions,
  hashConditions,
} from '../access-control';
import { signShare } from '../bls-threshold';
import { litError } from '../lit-errors';
import type { NodeContext } from './node-context';
import { ACC_PREFIX, DECRYPTION, verifySession } from './session-checks';

export function encryptionSign(node: NodeContext, body: Record<string, unknown>): Record<string, unknown> {
  const now = node.now();
  if (body.evmContractConditions || body.solRpcConditions) {
    throw litError(
      'NodeBadInput',
      'the devnet evaluates only accessControlConditions and unifiedAccessControlConditions',
    );
  }
  const kind: ConditionKind | undefined = body.accessControlConditions
    ? 'accessControlConditions'
    : body.unifiedAccessControlConditions
      ? 'unifiedAccessControlConditions'
      : undefined;
  if (!kind)
    throw litError('NodeMissingAccessControlConditions', 'no access control conditions in the request');
  const dataToEncryptHash = body.dataToEncryptHash;
  if (typeof dataToEncryptHash !== 'string' || !/^[0-9a-f]{64}$/i.test(dataToEncryptHash)) {
    throw litError('NodeBadInput', 'dataToEncryptHash must be 64 hex digits');
  }
  const conditions = canonicalizeConditions(kind, body[kind]);
  const resourceId = `${hashConditions(conditions)}/${dataToEncryptHash}`;

  const session = verifySession(node, body.authSig, now, {
    resourcePrefix: ACC_PREFIX,
    resourceId,
    ability: DECRYPTION,
  });
  if (!evaluateConditions(conditions, { userAddress: session.userAddress })) {
    throw litError(
      'NodeAccessControlConditionsReturnedNotAuthorized',
      `The access control condition check returned that ${session.userAddress} is not permitted to access this content`,
    );
  }
  const identity = new TextEncoder().encode(`${ACC_PREFIX}://${resourceId}`);
  return {
    result: 'success',
    signatureShare: { ProofOfPossession: signShare(node.share, identity) },
    shareIndex: node.share.index,
    curveType: 'BLS',
    siweMessage: '',
    dataSigned: Buffer.from(identity).toString('hex'),
    blsRootPubkey: node.share.publicKeyHex,
  };
}
