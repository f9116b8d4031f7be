/**
 * The parts of a request that names a Lit Action (`sign_session_key` with Lit Action auth,
 * `executeJs`): its code and IPFS id, its `jsParams`, and the node's answer to the action's
 * `Lit.Actions.checkConditions`.
 */
import { type ConditionKind, canonicalizeConditions, evaluateConditions } from '../access-control';
import type { CheckConditionsRequest } from '../lit-action-runner';
import { ipfsCidOf } from '../lit-action-runner';
import { litError } from '../lit-errors';
import { verifyEthWalletAccessToken } from '../siwe-checks';
import type { NodeContext } from './node-context';

/** Whether a condition list is unified (its atomic conditions name a `conditionType`). */
export function isUnified(conditions: unknown): boolean {
  const atoms = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(atoms) : [v]);
  return atoms(conditions).some((c) => !!c && typeof c === 'object' && 'conditionType' in c);
}

/** Pure: the request's `jsParams`, which must be a JSON object when given. */
export function jsParamsOf(jsParams: unknown): Record<string, unknown> {
  if (jsParams === undefined) return {};
  if (jsParams === null || typeof jsParams !== 'object' || Array.isArray(jsParams)) {
    throw litError('NodeBadInput', 'jsParams must be an object');
  }
  return jsParams as Record<string, unknown>;
}

/**
 * The code of a Lit Action named by inline `code` (base64) and/or an IPFS id, and its IPFS id —
 * derived from the code (the CID v0 the SDK's `getIpfsId` computes), as Lit's node does, so a
 * request cannot claim another action's id; by id alone, the code comes from the content store.
 */
export function actionSource(
  node: NodeContext,
  code: unknown,
  ipfsId: unknown,
): { source: string; actionId: string } {
  if (typeof code === 'string' && code) {
    const source = Buffer.from(code, 'base64').toString('utf8');
    let actionId: string;
    try {
      actionId = ipfsCidOf(source);
    } catch (e) {
      throw litError('NodeBadInput', (e as Error).message);
    }
    if (typeof ipfsId === 'string' && ipfsId && ipfsId !== actionId) {
      throw litError('NodeBadInput', `ipfsId ${ipfsId} is not the IPFS id of the code (${actionId})`);
    }
    return { source, actionId };
  }
  if (typeof ipfsId === 'string' && ipfsId) {
    const stored = node.deps.litActionCode?.(ipfsId);
    if (stored === undefined) {
      throw litError('NodeBadInput', `the devnet's content store holds no Lit Action ${ipfsId}`);
    }
    return { source: stored, actionId: ipfsId };
  }
  throw litError('NodeBadInput', 'a Lit Action needs code (base64) or an IPFS id');
}

/**
 * The address whose conditions a Lit Action checks: the wallet of an `authSig` it passes (a
 * wallet-signed SIWE auth sig, checked as an EthWallet auth method is), else the owner of the
 * session that runs it (`authSig` absent or null, as Lit's docs have `decryptAndCombine` pass it).
 */
export function conditionUser(node: NodeContext, authSig: unknown, sessionOwner: string | undefined): string {
  if (authSig !== undefined && authSig !== null) return verifyEthWalletAccessToken(authSig, node.now());
  if (!sessionOwner) {
    throw litError(
      'NodeInvalidAuthSig',
      'checkConditions needs an authSig here: no session runs this Lit Action',
    );
  }
  return sessionOwner;
}

/**
 * `Lit.Actions.checkConditions({ conditions, authSig?, chain })`: evaluates the access control
 * conditions (the forms decrypt evaluates: `:userAddress` with `=` / `!=`, `and` / `or`, either
 * kind — unified ones carry `conditionType`) for the caller, and answers true or false.
 */
export function actionCheckConditions(
  node: NodeContext,
  req: CheckConditionsRequest,
  sessionOwner: string | undefined,
): boolean {
  const kind: ConditionKind = isUnified(req.conditions)
    ? 'unifiedAccessControlConditions'
    : 'accessControlConditions';
  const conditions = canonicalizeConditions(kind, req.conditions);
  return evaluateConditions(conditions, { userAddress: conditionUser(node, req.authSig, sessionOwner) });
}
