/**
 * What every endpoint that takes a session sig checks (decrypt, pkpSign, executeJs), and the
 * ECDSA share of a PKP signature that pkpSign and a Lit Action's `signEcdsa` answer.
 */
import { ecdsaShare } from '../ecdsa-shares';
import { litError } from '../lit-errors';
import { checkPkpAuth, resolvedAuthContextOf } from '../pkp-auth';
import {
  type RequestedResource,
  type SessionSig,
  type VerifiedSession,
  verifySessionSig,
} from '../session-sig-verifier';
import type { NodeContext } from './node-context';

/** Resources and abilities a session sig grants, as Lit names them (`<prefix>://<id>`). */
export const ACC_PREFIX = 'lit-accesscontrolcondition';
export const DECRYPTION = 'access-control-condition-decryption';
export const PKP_PREFIX = 'lit-pkp';
export const PKP_SIGNING = 'pkp-signing';
export const LIT_ACTION_PREFIX = 'lit-litaction';
export const LIT_ACTION_EXECUTION = 'lit-action-execution';

/** Session-sig verification shared by every endpoint that takes one (decrypt, pkpSign). */
export function verifySession(
  node: NodeContext,
  authSig: unknown,
  now: number,
  requested: RequestedResource,
): VerifiedSession {
  if (!authSig || typeof authSig !== 'object') throw litError('NodeBadInput', 'authSig is required');
  if ((authSig as SessionSig).derivedVia !== 'litSessionSignViaNacl') {
    throw litError(
      'NodeInvalidAuthSig',
      'the devnet accepts session sigs only (derivedVia litSessionSignViaNacl)',
    );
  }
  return verifySessionSig(authSig as SessionSig, {
    nodeAddress: node.hostPort,
    networkPublicKey: node.share.publicKeyHex,
    nowMs: now,
    requested,
    blockByHash: (hash) => node.deps.clock.byHash(hash),
  });
}

/**
 * This node's ECDSA share of `digest` signed by a PKP, after Lit's `check_pkp_auth` (pkp-auth.ts):
 * the session's address is a permitted address, or the auth context the nodes signed into a PKP
 * session names an auth method or action that is permitted now, or the running action
 * (`signEcdsa` inside executeJs) is permitted — pkpSign's rule, also a Lit Action's `signEcdsa`.
 */
export function pkpShare(
  node: NodeContext,
  publicKey: string,
  session: VerifiedSession,
  digest: Uint8Array,
  runningAction?: string,
) {
  const pkp = node.deps.pkps.get(publicKey);
  if (!pkp) throw litError('NodeInvalidPKPAddress', `No PKP with public key ${publicKey} on this network`);
  const authorised = checkPkpAuth(node.deps.pkps, pkp.publicKey, {
    context: resolvedAuthContextOf(session.capability.signedMessage),
    actionIpfsId: runningAction,
    sessionAddress: session.userAddress,
  });
  if (!authorised) {
    throw litError(
      'NodePKPNotAuthorized',
      `Neither you nor this Lit Action are authorized to sign using this PKP: ${pkp.publicKey}`,
    );
  }
  const secretKey = node.deps.pkps.secretKey(pkp.publicKey);
  if (!secretKey) {
    throw litError('NodeSystemFault', `the devnet holds no key share for PKP ${pkp.publicKey}`);
  }
  const participants = node.deps.signingParticipants?.() ?? [node.index];
  if (!participants.includes(node.index)) {
    throw litError('NodeNotAuthorized', 'this node is not in the current validator set');
  }
  return ecdsaShare(secretKey, digest, node.index, participants);
}
