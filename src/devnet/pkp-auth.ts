/**
 * Who may use a PKP: the devnet's version of the decisions Lit's nodes make, from Lit's public
 * node source (LIT-Protocol/lit-peer, rust/lit-node/lit-node/src):
 * - `endpoints/web_client.rs` `sign_session_key`: a Lit Action given with the request (`code` or
 *   `litActionIpfsId`) runs first, whether or not it is permitted; it passes when its response
 *   `contains("true")`, and only then is its IPFS id pushed onto the auth context's
 *   `action_ipfs_id_stack` (with `custom_auth_resource` = the response). Then `check_pkp_auth`
 *   decides, whatever the action was.
 * - `pkp/auth/mod.rs` `check_pkp_auth(ipfs_id, auth_sig, pkp, auth_context, …)`: authorised when
 *   ANY of these holds — an auth method of `auth_context.auth_method_contexts` is a permitted
 *   auth method of the PKP (for EthWallet, also: its address is the PKP NFT's owner or a permitted
 *   address); an action of `auth_context.action_ipfs_id_stack` is a permitted action; the
 *   `ipfs_id` argument (the running action, for signing from inside executeJs) is a permitted
 *   action; the auth sig's address (the session's) is the owner or a permitted address.
 * - `pkp/utils.rs` `sign` (pkpSign, and `Lit.Actions.signEcdsa` through action_client.rs
 *   `sign_helper`): the same `check_pkp_auth`, with the session's resolved auth context (the
 *   `lit-resolvedauthcontext://*` capability the nodes signed into a PKP session) — so a PKP
 *   session signs because of the auth method or action that authorised it, checked again at use.
 *
 * Decision table of `sign_session_key` (A: a presented auth method is permitted; L: a Lit Action
 * is given; P: it is a permitted action; R: its response contains "true"):
 *
 * | A | L | P | action's answer        | result                                               |
 * |---|---|---|------------------------|------------------------------------------------------|
 * | ✓ | – | – | –                      | signed                                               |
 * | ✗ | – | – | –                      | refused: NodePKPNotAuthorized                        |
 * | * | ✓ | * | throws / time / memory | NodeJsExecutionError / NodeJsTimeoutError / NodeJsMemoryLimitError |
 * | * | ✓ | * | no "true" in response  | refused: NodeAuthFailed                              |
 * | ✓ | ✓ | ✗ | "true"                 | signed (the action decided; issue 18 item 3)         |
 * | ✗ | ✓ | ✓ | "true"                 | signed                                               |
 * | ✓ | ✓ | ✓ | "true"                 | signed                                               |
 * | ✗ | ✓ | ✗ | "true"                 | refused: NodePKPNotAuthorized                        |
 *
 * and of signing with a session (pkpSign; signEcdsa in executeJs, whose running action is X):
 *
 * | the session's capability came from                | signs when (checked at use)                      |
 * |---------------------------------------------------|--------------------------------------------------|
 * | a wallet (EOA session)                            | the wallet is a permitted address, or X is permitted |
 * | sign_session_key with an auth method              | that auth method is still permitted, or X is     |
 * | sign_session_key with a Lit Action (R)            | the action is permitted, or an auth method the request presented is, or X is |
 * | anything else                                     | refused: NodePKPNotAuthorized                    |
 *
 * Codes: where Lit's node answers NodeLitActionsSessionSigAuthenticationFailed (the action said
 * no) the devnet answers NodeAuthFailed, and where `check_pkp_auth` finds nothing
 * (NodeAuthSigScopeTooLimited in lit-peer; Datil's nodes answered NodePKPNotAuthorized, the code
 * the keeper's error classification knows) it answers NodePKPNotAuthorized. The devnet keeps no
 * auth method scopes and no PKP NFT owner: a permitted address has every scope.
 */
import { ethers } from 'ethers';
import type { PkpRegistry } from './pkp-registry';
import { extractRecaps } from './recap';
import { parseSiwe } from './siwe-checks';

export const RESOLVED_AUTH_CONTEXT_RESOURCE = 'lit-resolvedauthcontext://*';
export const AUTH_METHOD_TYPE_ETH_WALLET = 1;

/** The auth context the nodes signed into a PKP session's capability (empty for EOA sessions). */
export interface ResolvedAuthContext {
  actionIpfsIdStack: string[];
  authMethodContexts: { userId: string; authMethodType: number }[];
}

const EMPTY: ResolvedAuthContext = { actionIpfsIdStack: [], authMethodContexts: [] };

/** Reads `lit-resolvedauthcontext://*` → `Auth/Auth`[0] from a capability's SIWE message. */
export function resolvedAuthContextOf(capabilitySiwe: string): ResolvedAuthContext {
  try {
    for (const recap of extractRecaps(parseSiwe(capabilitySiwe))) {
      const raw = recap.att[RESOLVED_AUTH_CONTEXT_RESOURCE]?.['Auth/Auth']?.[0] as
        | (Partial<ResolvedAuthContext> & { auth_context?: Partial<ResolvedAuthContext> })
        | undefined;
      if (!raw) continue;
      // Lit's nodes nest it under `auth_context` (LIT_RESOURCE_KEY_RAC); the devnet writes it bare.
      const entry = raw.auth_context ?? raw;
      return {
        actionIpfsIdStack: Array.isArray(entry.actionIpfsIdStack)
          ? entry.actionIpfsIdStack.filter((x): x is string => typeof x === 'string')
          : [],
        authMethodContexts: Array.isArray(entry.authMethodContexts)
          ? entry.authMethodContexts.filter(
              (c): c is ResolvedAuthContext['authMethodContexts'][number] =>
                !!c && typeof c.userId === 'string' && typeof c.authMethodType === 'number',
            )
          : [],
      };
    }
  } catch {
    // Not a capability with recaps: nothing resolved.
  }
  return EMPTY;
}

/** A wallet address permitted on the PKP (`isPermitted` is false for anything not an address). */
function walletPermitted(pkps: PkpRegistry, publicKey: string, address: string): boolean {
  return ethers.utils.isAddress(address) && pkps.isPermitted(publicKey, address);
}

/**
 * `check_pkp_auth`: whether any of the auth methods, actions or the session address the request
 * brings is permitted on the PKP now.
 */
export function checkPkpAuth(
  pkps: PkpRegistry,
  publicKey: string,
  opts: {
    context: ResolvedAuthContext;
    /** The action running now (signEcdsa inside executeJs) or just run (sign_session_key). */
    actionIpfsId?: string;
    /** The address of the session / auth sig the request carries. */
    sessionAddress?: string;
  },
): boolean {
  const { context, actionIpfsId, sessionAddress } = opts;
  if (
    context.authMethodContexts.some(
      (c) => c.authMethodType === AUTH_METHOD_TYPE_ETH_WALLET && walletPermitted(pkps, publicKey, c.userId),
    )
  ) {
    return true;
  }
  if (context.actionIpfsIdStack.some((id) => pkps.isPermittedAction(publicKey, id))) return true;
  if (actionIpfsId && pkps.isPermittedAction(publicKey, actionIpfsId)) return true;
  return sessionAddress !== undefined && walletPermitted(pkps, publicKey, sessionAddress);
}
