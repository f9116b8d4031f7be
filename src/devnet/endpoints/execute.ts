/**
 * `execute` (executeJs): runs a Lit Action (lit-action-runner.ts) for a session allowed to, and
 * answers its host calls — `signEcdsa` (this node's share), `checkConditions`,
 * `decryptAndCombine`, `getRpcUrl`.
 */
import { blsCombine, blsDecrypt } from '@lit-protocol/wasm';
import {
  type ConditionKind,
  canonicalizeConditions,
  evaluateConditions,
  hashConditions,
} from '../access-control';
import { signShare } from '../bls-threshold';
import { type ActionSignatureShare, type DecryptAndCombineRequest, runLitAction } from '../lit-action-runner';
import { litError } from '../lit-errors';
import {
  actionCheckConditions,
  actionSource,
  conditionUser,
  isUnified,
  jsParamsOf,
} from './lit-action-request';
import { DEFAULT_LIT_ACTION_TIMEOUT_MS, type NodeContext } from './node-context';
import {
  ACC_PREFIX,
  LIT_ACTION_EXECUTION,
  LIT_ACTION_PREFIX,
  pkpShare,
  verifySession,
} from './session-checks';

/**
 * `executeJs` (SDK 7.4.0: POST `/web/execute/v1` with `{code: <base64>, ipfsId?, jsParams,
 * authSig, sessionSigs, …}`). Like Lit's node, it derives the action's IPFS id (the CID v0 of
 * the decoded code, what the SDK's `getIpfsId` computes) and requires the session sig to grant
 * `lit-action-execution` on `lit-litaction://<that id>` or `lit-litaction://*`; then runs the
 * action (lit-action-runner.ts) and answers Lit's execute shape `{success, signedData,
 * decryptedData, claimData, response, logs}`, where `signedData[sigName]` is this node's share
 * of each `signEcdsa` in the form the SDK's `getSignatures` combines. `requestId` (the SDK's
 * `X-Request-Id`, the same at every node) lets the nodes' runs share `Lit.Actions.runOnce`.
 */
export async function executeJs(
  node: NodeContext,
  body: Record<string, unknown>,
  requestId: string,
): Promise<Record<string, unknown>> {
  const now = node.now();
  const { code, ipfsId, jsParams } = body;
  const given = (v: unknown) => typeof v === 'string' && v !== '';
  if (!given(code) && !given(ipfsId))
    throw litError('NodeBadInput', 'executeJs needs code (base64) or ipfsId');
  const { source, actionId } = actionSource(node, code, ipfsId);
  const params = jsParamsOf(jsParams);
  const session = verifySession(node, body.authSig, now, {
    resourcePrefix: LIT_ACTION_PREFIX,
    resourceId: actionId,
    ability: LIT_ACTION_EXECUTION,
  });
  const quoted = (v: string) => JSON.stringify(v);
  const result = await runLitAction(source, {
    pool: node.deps.litActionPool,
    requestId,
    jsParams: params,
    auth: {
      actionIpfsIds: [actionId],
      authMethodContexts: [],
      authSigAddress: session.userAddress,
      resources: [],
      customAuthResource: '',
    },
    timeoutMs: node.deps.litActionTimeoutMs ?? DEFAULT_LIT_ACTION_TIMEOUT_MS,
    rpcUrl: () => node.deps.rpcUrl?.(),
    signEcdsa: ({ toSign, publicKey, sigName }): ActionSignatureShare => {
      if (toSign.length !== 32) {
        throw litError('NodeBadInput', `Message length to be signed is not 32 bytes (got ${toSign.length})`);
      }
      const share = pkpShare(node, publicKey, session, toSign, actionId);
      return {
        sigType: 'K256',
        signatureShare: quoted(share.share),
        shareIndex: node.share.index,
        bigR: quoted(share.bigR),
        publicKey: quoted(share.publicKey),
        dataSigned: quoted(Buffer.from(toSign).toString('hex')),
        sigName,
      };
    },
    checkConditions: (req) => actionCheckConditions(node, req, session.userAddress),
    decryptAndCombine: (req) => actionDecryptAndCombine(node, req, session.userAddress),
  });
  return {
    success: true,
    signedData: result.signedData,
    decryptedData: {},
    claimData: {},
    response: result.response,
    logs: result.logs,
  };
}

/**
 * `Lit.Actions.decryptAndCombine({ accessControlConditions, ciphertext, dataToEncryptHash,
 * chain, authSig })`: what decrypt does, inside the action — the conditions must hold for the
 * caller (the session owner for `authSig: null`), then the network's shares of the identity
 * `lit-accesscontrolcondition://<hash of conditions>/<dataToEncryptHash>` are combined (the
 * SDK's own wasm `blsCombine`) and decrypt the ciphertext (`blsDecrypt`), answering the
 * plaintext as UTF-8 text. Refusals carry decrypt's codes.
 */
async function actionDecryptAndCombine(
  node: NodeContext,
  req: DecryptAndCombineRequest,
  sessionOwner: string,
): Promise<string> {
  const kind: ConditionKind = isUnified(req.accessControlConditions)
    ? 'unifiedAccessControlConditions'
    : 'accessControlConditions';
  const conditions = canonicalizeConditions(kind, req.accessControlConditions);
  const { dataToEncryptHash, ciphertext } = req;
  if (typeof dataToEncryptHash !== 'string' || !/^[0-9a-f]{64}$/i.test(dataToEncryptHash)) {
    throw litError('NodeBadInput', 'dataToEncryptHash must be 64 hex digits');
  }
  if (typeof ciphertext !== 'string' || !ciphertext) {
    throw litError('NodeBadInput', 'ciphertext must be the base64 ciphertext encrypt returned');
  }
  const userAddress = conditionUser(node, req.authSig, sessionOwner);
  if (!evaluateConditions(conditions, { userAddress })) {
    throw litError(
      'NodeAccessControlConditionsReturnedNotAuthorized',
      `The access control condition check returned that ${userAddress} is not permitted to access this content`,
    );
  }
  const identity = new TextEncoder().encode(
    `${ACC_PREFIX}://${hashConditions(conditions)}/${dataToEncryptHash}`,
  );
  const shares = node.deps.networkShares?.() ?? [node.share];
  try {
    const signature = await blsCombine(
      'Bls12381G2',
      shares.map((share) => Buffer.from(signShare(share, identity), 'hex')),
    );
    const plaintext = await blsDecrypt('Bls12381G2', Buffer.from(ciphertext, 'base64'), signature);
    return new TextDecoder().decode(plaintext);
  } catch (e) {
    throw litError(
      'NodeBadInput',
      'decryptAndCombine: the ciphertext does not decrypt under these conditions',
      [String((e as Error)?.message ?? e)],
    );
  }
}
