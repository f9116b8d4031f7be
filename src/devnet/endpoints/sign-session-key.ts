/**
 * `sign_session_key`: the nodes' BLS shares of a PKP session's capability, after Lit's checks of
 * the SIWE, the auth methods and, for Lit Action auth, the action's answer (pkp-auth.ts decides).
 */
import { ethers } from 'ethers';
import { SiweMessage } from 'siwe';
import { litSessionSigningHash, signShare } from '../bls-threshold';
import { type AuthMethodContext, runLitAction } from '../lit-action-runner';
import { litError } from '../lit-errors';
import { AUTH_METHOD_TYPE_ETH_WALLET, checkPkpAuth } from '../pkp-auth';
import { type Attenuations, encodeRecap, extractRecaps, mergeAttenuations, recapStatement } from '../recap';
import {
  checkNonceBlock,
  checkSessionSiweTimes,
  parseSiwe,
  verifyEthWalletAccessToken,
} from '../siwe-checks';
import { actionCheckConditions, actionSource, jsParamsOf } from './lit-action-request';
import { DEFAULT_LIT_ACTION_TIMEOUT_MS, type NodeContext } from './node-context';

/** Lit's node adds the resolved auth context to PKP session SIWEs under this resource. */
const RESOLVED_AUTH_CONTEXT_RESOURCE = 'lit-resolvedauthcontext://*';

/** A Lit Action named by a `sign_session_key` request. */
interface SessionAction {
  source: string;
  ipfsId: string;
  jsParams: Record<string, unknown>;
}

/**
 * `sign_session_key` (SDK 7.4.0: POST `/web/sign_session_key/v1` with `{sessionKey, authMethods,
 * pkpPublicKey, siweMessage, curveType, epoch}`, and for Lit Action auth — `getLitActionSessionSigs`
 * or `getPkpSessionSigs` with `litActionCode` / `litActionIpfsId` — also `code` (base64) or
 * `litActionIpfsId`, and `jsParams`). A Lit Action, if given, runs and must answer "true"
 * (`authoriseByAction`); then the session is signed when a presented auth method or the action
 * is permitted on the PKP (decision table in pkp-auth.ts).
 */
export async function signSessionKey(
  node: NodeContext,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const now = node.now();
  const { sessionKey, authMethods, pkpPublicKey, siweMessage, curveType } = body;
  if (typeof sessionKey !== 'string' || typeof siweMessage !== 'string' || !Array.isArray(authMethods)) {
    throw litError('NodeBadInput', 'sign_session_key needs sessionKey, siweMessage and authMethods');
  }
  if (typeof pkpPublicKey !== 'string') {
    throw litError('NodeBadInput', 'the devnet needs pkpPublicKey (it does not look PKPs up by auth method)');
  }
  if (curveType !== 'BLS')
    throw litError('NodeInvalidCurveType', `curveType must be BLS, got ${String(curveType)}`);
  const action = sessionAction(node, body);
  const siwe = parseSiwe(siweMessage);
  if (siwe.statement?.includes('lit-resolvedauthcontext')) {
    throw litError('NodeInvalidAuthContextResource', "Can't define Auth Context resources in capability");
  }

  const controllers = authMethods.map((m) => resolveAuthMethod(m, now));

  let pkpEthAddress: string;
  try {
    pkpEthAddress = ethers.utils.computeAddress(
      pkpPublicKey.startsWith('0x') ? pkpPublicKey : `0x${pkpPublicKey}`,
    );
  } catch {
    throw litError('NodeBadInput', 'pkpPublicKey is not a secp256k1 public key');
  }
  if (siwe.address.toLowerCase() !== pkpEthAddress.toLowerCase()) {
    throw litError(
      'NodeSIWEMessageError',
      `Address in SIWE message ${siwe.address} does not match PKP ETH address ${pkpEthAddress}`,
    );
  }
  if (siwe.uri !== sessionKey) {
    throw litError(
      'NodeSIWEMessageError',
      `URI in SIWE message ${siwe.uri} does not match URI in request ${sessionKey}`,
    );
  }
  checkSessionSiweTimes(siwe, now);
  const block = node.deps.clock.byHash(siwe.nonce);
  checkNonceBlock(siwe.nonce, block, now);

  const authMethodContexts = controllers.map((userId) => ({
    appId: 'lit',
    authMethodType: AUTH_METHOD_TYPE_ETH_WALLET,
    usedForSignSessionKeyRequest: true,
    userId,
  }));
  const notAuthorized = () =>
    litError('NodePKPNotAuthorized', `You are not authorized to sign using this PKP: ${pkpPublicKey}`);
  // Without an action nothing can change the decision: refuse before the capability checks.
  // Also the answer to a request with neither an auth method nor a Lit Action.
  if (
    !action &&
    !checkPkpAuth(node.deps.pkps, pkpPublicKey, { context: { authMethodContexts, actionIpfsIdStack: [] } })
  ) {
    throw notAuthorized();
  }

  let userAtt: Attenuations;
  try {
    const recaps = extractRecaps(siwe);
    userAtt = recaps[recaps.length - 1].att;
  } catch (e) {
    throw litError(
      'NodeSIWECapabilityInvalid',
      `Unable to extract and verify user's capability object: ${(e as Error).message}`,
    );
  }
  if (Object.keys(userAtt).some((r) => r.startsWith('lit-resolvedauthcontext'))) {
    throw litError('NodeInvalidAuthContextResource', "Can't define Auth Context resources in capability");
  }
  // Last, after every cheap check: running the action is the expensive part. As on Lit's nodes
  // (pkp-auth.ts) the action runs first, permitted or not, then check_pkp_auth decides.
  const customAuthResource = action
    ? await authoriseByAction(node, action, pkpPublicKey, authMethodContexts)
    : '';
  const context = { authMethodContexts, actionIpfsIdStack: action ? [action.ipfsId] : [] };
  if (!checkPkpAuth(node.deps.pkps, pkpPublicKey, { context, actionIpfsId: action?.ipfsId })) {
    throw action
      ? litError(
          'NodePKPNotAuthorized',
          `You are not authorized to sign using this PKP: ${pkpPublicKey} (Lit Action ${action.ipfsId} is not a permitted action of it and no auth method presented is permitted)`,
        )
      : notAuthorized();
  }
  // Every node must build the identical message, or the shares would not combine: the auth
  // context therefore holds nothing node-specific and no clock reading.
  const authContext = {
    actionIpfsIdStack: context.actionIpfsIdStack,
    authMethodContexts,
    authSigAddress: null,
    customAuthResource,
  };
  const att = mergeAttenuations(
    { [RESOLVED_AUTH_CONTEXT_RESOURCE]: { 'Auth/Auth': [authContext] } },
    userAtt,
  );
  const statement = `${siwe.statement ? `${siwe.statement} ` : ''}${recapStatement(att)}`;
  const toSign = new SiweMessage({
    domain: siwe.domain,
    address: ethers.utils.getAddress(pkpEthAddress),
    statement,
    uri: siwe.uri,
    version: siwe.version,
    chainId: siwe.chainId,
    nonce: block.hash,
    issuedAt: new Date(block.timestamp * 1000).toISOString(),
    expirationTime: siwe.expirationTime,
    notBefore: siwe.notBefore,
    requestId: siwe.requestId,
    resources: [encodeRecap({ att, prf: [] })],
  }).prepareMessage();
  const dataSigned = litSessionSigningHash(toSign);
  return {
    result: 'success',
    signatureShare: { ProofOfPossession: signShare(node.share, dataSigned) },
    shareIndex: node.share.index,
    curveType: 'BLS',
    siweMessage: toSign,
    dataSigned: Buffer.from(dataSigned).toString('hex'),
    blsRootPubkey: node.share.publicKeyHex,
  };
}

/** Returns the wallet address an auth method proves control of. */
function resolveAuthMethod(method: unknown, now: number): string {
  const m = (method ?? {}) as { authMethodType?: unknown; accessToken?: unknown };
  if (m.authMethodType !== AUTH_METHOD_TYPE_ETH_WALLET) {
    throw litError(
      'NodeAuthFailed',
      `the devnet supports only EthWallet auth methods (authMethodType 1), got ${JSON.stringify(m.authMethodType)}`,
    );
  }
  return verifyEthWalletAccessToken(m.accessToken, now);
}

/** The Lit Action a `sign_session_key` request names (`code` or `litActionIpfsId`), if any. */
function sessionAction(node: NodeContext, body: Record<string, unknown>): SessionAction | undefined {
  const { code, litActionIpfsId, jsParams } = body;
  const given = (v: unknown) => typeof v === 'string' && v !== '';
  if (!given(code) && !given(litActionIpfsId)) return undefined;
  const { source, actionId } = actionSource(node, code, litActionIpfsId);
  return { source, ipfsId: actionId, jsParams: jsParamsOf(jsParams) };
}

/**
 * Runs the Lit Action of a `sign_session_key` request and answers its response, which the
 * session's auth context keeps as `customAuthResource`, as Lit's node does. It must contain
 * "true" (Lit's node: `execution_state.response.contains("true")`, web_client.rs) — an action
 * that answers otherwise ("false", nothing) is refused with NodeAuthFailed (Lit's node:
 * NodeLitActionsSessionSigAuthenticationFailed; see pkp-auth.ts); one that throws or runs out
 * of time or memory with NodeJsExecutionError / NodeJsTimeoutError / NodeJsMemoryLimitError.
 * It runs whether or not it is a permitted action of the PKP: whether the session may be
 * signed is decided afterwards (`checkPkpAuth`). The action sees `Lit.Auth` with its own IPFS
 * id and the auth methods the request proved, which need not be permitted controllers.
 */
async function authoriseByAction(
  node: NodeContext,
  action: SessionAction,
  pkpPublicKey: string,
  authMethodContexts: AuthMethodContext[],
): Promise<string> {
  if (!node.deps.pkps.get(pkpPublicKey)) {
    throw litError('NodeInvalidPKPAddress', `No PKP with public key ${pkpPublicKey} on this network`);
  }
  const result = await runLitAction(action.source, {
    pool: node.deps.litActionPool,
    jsParams: action.jsParams,
    auth: {
      actionIpfsIds: [action.ipfsId],
      authMethodContexts,
      authSigAddress: null,
      resources: [],
      customAuthResource: '',
    },
    timeoutMs: node.deps.litActionTimeoutMs ?? DEFAULT_LIT_ACTION_TIMEOUT_MS,
    rpcUrl: () => node.deps.rpcUrl?.(),
    // There is no session yet whose owner could be checked against the PKP's permissions.
    signEcdsa: () => {
      throw litError(
        'NodeNotAuthorized',
        'signEcdsa is not available to a Lit Action that authorises a session',
      );
    },
    // Conditions on a wallet the action names (an auth sig in jsParams); there is no session owner.
    checkConditions: (req) => actionCheckConditions(node, req, undefined),
  });
  if (!result.response.includes('true')) {
    throw litError(
      'NodeAuthFailed',
      `Authentication failed for session_sig signing via Lit Action ${action.ipfsId}: its response must contain "true" (Lit.Actions.setResponse({ response: "true" })), it was ${JSON.stringify(result.response)}`,
      result.logs ? [`logs: ${result.logs}`] : [],
    );
  }
  return result.response;
}
