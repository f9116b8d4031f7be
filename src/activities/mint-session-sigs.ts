/**
 * The mint: one fresh session key pair, one fresh blockhash nonce, one SIWE capability (signed by
 * the agent's wallet for `eoa`, by the Lit network for `pkp` — authorised by the controller's
 * wallet signature or by a Lit Action), wrapped per node by the session key.
 * Everything secret (the wallet, the session key pair) lives and dies inside this function.
 *
 * Agent-held mode (`sessionPublicKey` in the spec): only the capability for the agent's own
 * session public key, the same SIWE the SDK's `getSessionSigs`/`getPkpSessionSigs` would ask its
 * `authNeededCallback` for, and no per-node sigs and no session secret: what the keeper returns
 * cannot act without the agent's secret half.
 */
import { createSiweMessage, generateAuthSig, parseLitResource } from '@lit-protocol/auth-helpers';
import { generateSessionKeyPair } from '@lit-protocol/crypto';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import type { AuthSig, LitResourceAbilityRequest } from '@lit-protocol/types';
import type { ethers } from 'ethers';
import { computeAddress } from 'ethers/lib/utils';
import { TypedActivityError } from '../lit/error-classification';
import type { PooledClient } from '../lit/lit-client-pool';
import {
  fetchLatestBlock,
  type LatestBlock,
  type LatestBlockSource,
  type NonceOptions,
} from '../lit/nonce-source';
import { markOwnAuthSig } from '../lit/own-auth-sig';
import type {
  LitActionAuthSpec,
  MintRequest,
  MintResult,
  ResourceAbility,
  SessionCapability,
  SessionSigsMap,
} from '../shared/types';
import { resolveSigner, type SignerEnvironment } from './signer-reference';

/** What `lit:session:` URIs start with (the SDK's LIT_SESSION_KEY_URI). */
const LIT_SESSION_KEY_URI = 'lit:session:';
/** The capability's statement for a PKP (the SDK prefixes its own). */
const PKP_CAPABILITY_STATEMENT = 'lit-session-keeper: capability for an agent-held session key';

/** Lit's auth method type for an Ethereum wallet signature. */
const AUTH_METHOD_ETH_WALLET = 1;
/** The controller's auth sig only has to live through the node round trip. */
const CONTROLLER_AUTH_SIG_TTL_MS = 10 * 60_000;

export interface MintDeps {
  acquire: (network: string) => Promise<PooledClient>;
  nonce: NonceOptions;
  /** Where the latest block comes from (default: one request per mint). */
  latestBlock?: LatestBlockSource;
  signerEnvironment?: SignerEnvironment;
  /** Upper bound on the node round trips of one mint; hung nodes must not hold the activity. */
  mintTimeoutMs: number;
  now?: () => number;
}

/** Pure: serialisable resource requests → the SDK's resource objects. */
export function toSdkResourceRequests(requests: ResourceAbility[]): LitResourceAbilityRequest[] {
  return requests.map((r) => {
    try {
      return { resource: parseLitResource(r.resource), ability: r.ability } as LitResourceAbilityRequest;
    } catch (err) {
      throw new TypedActivityError('InvalidResource', `resource "${r.resource}": ${(err as Error).message}`);
    }
  });
}

/** Pure: the issue time the SDK wrote into the per-node signed messages. */
export function issuedAtOf(sigs: SessionSigsMap, fallback: string): string {
  const first = Object.values(sigs)[0];
  if (!first) return fallback;
  try {
    const parsed = JSON.parse(first.signedMessage) as { issuedAt?: string };
    return parsed.issuedAt ?? fallback;
  } catch {
    return fallback;
  }
}

/**
 * The SDK reads its cached blockhash (refreshed every 30 s, silently kept when the indexer fails).
 * We hand it the hash we fetched and checked ourselves, so the PKP flow signs with exactly that one.
 */
function useNonce(client: LitNodeClientNodeJs, block: LatestBlock, nowMs: number): void {
  // the SDK keeps the cached hash in private fields.
  const core = client as any;
  core.latestBlockhash = block.blockhash;
  core.lastBlockHashRetrieved = nowMs;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TypedActivityError('NodeTimeout', `${what} took longer than ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function mintSessionSigs(req: MintRequest, deps: MintDeps): Promise<MintResult> {
  // Resolve everything local first: a bad key or resource must fail before any network call.
  const litAction = req.mode === 'pkp' ? req.litAction : undefined;
  if (req.signer === undefined && !litAction) {
    throw new TypedActivityError(
      'InvalidSigner',
      'no signer: only a mode "pkp" agent with litAction may mint without a key reference',
    );
  }
  const wallet = req.signer !== undefined ? resolveSigner(req.signer, deps.signerEnvironment) : undefined;
  const resourceAbilityRequests = toSdkResourceRequests(req.resourceAbilityRequests);
  const delegationOwner = req.capacityDelegation
    ? resolveSigner(req.capacityDelegation.signer, deps.signerEnvironment)
    : undefined;

  const pooled = await deps.acquire(req.network);
  try {
    return await mintWith(pooled, req, deps, { wallet, resourceAbilityRequests, delegationOwner });
  } finally {
    pooled.release();
  }
}

async function mintWith(
  pooled: PooledClient,
  req: MintRequest,
  deps: MintDeps,
  local: {
    wallet: ethers.Wallet | undefined;
    resourceAbilityRequests: LitResourceAbilityRequest[];
    delegationOwner?: ethers.Wallet;
  },
): Promise<MintResult> {
  const now = deps.now ?? Date.now;
  const { wallet, resourceAbilityRequests, delegationOwner } = local;
  const { client } = pooled;
  const block = await (deps.latestBlock ?? fetchLatestBlock)(pooled.blockIndexerUrl, deps.nonce);
  useNonce(client, block, now());

  const expiration = new Date(now() + req.sessionTtlMs).toISOString();
  const delegateeAddress = req.mode === 'pkp' ? computeAddress(req.pkpPublicKey!) : wallet!.address;

  let capacityDelegationAuthSig: AuthSig | undefined;
  let capacityDelegationExpiresAt: string | undefined;
  if (delegationOwner && req.capacityDelegation) {
    capacityDelegationExpiresAt = new Date(now() + req.capacityDelegation.ttlMs).toISOString();
    ({ capacityDelegationAuthSig } = await client.createCapacityDelegationAuthSig({
      dAppOwnerWallet: delegationOwner,
      delegateeAddresses: [delegateeAddress],
      capacityTokenId: req.capacityDelegation.capacityTokenId,
      expiration: capacityDelegationExpiresAt,
    }));
  }

  if (req.sessionPublicKey !== undefined) {
    const capability = await withTimeout(
      mintCapability(
        { client, block, expiration, resourceAbilityRequests, nowMs: now() },
        req,
        req.sessionPublicKey,
        wallet,
      ),
      deps.mintTimeoutMs,
      'minting the session capability',
    );
    return {
      sessionSigs: {},
      capability: {
        ...capability,
        ...(capacityDelegationAuthSig ? { capacityDelegationAuthSig } : {}),
      },
      issuedAt: new Date(now()).toISOString(),
      expiresAt: capability.expiresAt,
      nodeUrls: [...client.connectedNodes].sort(),
      epoch: pooled.epoch,
      ...(capacityDelegationExpiresAt ? { capacityDelegationExpiresAt } : {}),
    };
  }

  const session: SessionRequest = {
    client,
    block,
    sessionKey: generateSessionKeyPair(),
    expiration,
    resourceAbilityRequests,
    capacityDelegationAuthSig,
    nowMs: now(),
  };
  const mint =
    req.mode === 'eoa'
      ? mintEoa(session, wallet!)
      : req.litAction
        ? mintPkpByLitAction(session, req.litAction, wallet, req.pkpPublicKey!)
        : mintPkp(session, wallet!, req.pkpPublicKey!);
  const sessionSigs = (await withTimeout(mint, deps.mintTimeoutMs, 'minting session sigs')) as SessionSigsMap;
  if (Object.keys(sessionSigs).length === 0) {
    throw new TypedActivityError(
      'NotEnoughNodes',
      'the Lit client produced no session sigs (no connected nodes)',
    );
  }
  return {
    sessionSigs,
    issuedAt: issuedAtOf(sessionSigs, new Date(now()).toISOString()),
    expiresAt: expiration,
    nodeUrls: Object.keys(sessionSigs),
    epoch: pooled.epoch,
    ...(capacityDelegationExpiresAt ? { capacityDelegationExpiresAt } : {}),
  };
}

/** What every kind of mint asks the nodes for: the session key, its lifetime and abilities. */
interface SessionRequest {
  client: LitNodeClientNodeJs;
  block: LatestBlock;
  sessionKey: ReturnType<typeof generateSessionKeyPair>;
  expiration: string;
  resourceAbilityRequests: LitResourceAbilityRequest[];
  capacityDelegationAuthSig: AuthSig | undefined;
  nowMs: number;
}

/** The session fields the SDK's three session-sig calls take alike. */
function sessionParams(r: SessionRequest) {
  return {
    resourceAbilityRequests: r.resourceAbilityRequests,
    expiration: r.expiration,
    sessionKey: r.sessionKey,
    ...(r.capacityDelegationAuthSig ? { capacityDelegationAuthSig: r.capacityDelegationAuthSig } : {}),
  };
}

async function mintEoa(r: SessionRequest, wallet: ethers.Wallet) {
  const { client, block } = r;
  return client.getSessionSigs({
    chain: 'ethereum',
    ...sessionParams(r),
    authNeededCallback: async ({ uri, expiration: exp, resourceAbilityRequests: ras }) => {
      const toSign = await createSiweMessage({
        uri,
        expiration: exp,
        resources: ras,
        walletAddress: wallet.address,
        nonce: block.blockhash,
        litNodeClient: client,
      });
      return markOwnAuthSig(await generateAuthSig({ signer: wallet, toSign }), uri);
    },
  });
}

/** The controller proves control of the PKP with a short-lived wallet signature (EthWallet auth). */
async function ethWalletAuthMethod(
  client: LitNodeClientNodeJs,
  controller: ethers.Wallet,
  block: LatestBlock,
  nowMs: number,
) {
  const controllerSiwe = await createSiweMessage({
    walletAddress: controller.address,
    nonce: block.blockhash,
    expiration: new Date(nowMs + CONTROLLER_AUTH_SIG_TTL_MS).toISOString(),
    statement: 'lit-session-keeper: authorise a PKP session',
    litNodeClient: client,
  });
  const controllerAuthSig = await generateAuthSig({ signer: controller, toSign: controllerSiwe });
  return { authMethodType: AUTH_METHOD_ETH_WALLET, accessToken: JSON.stringify(controllerAuthSig) };
}

async function mintPkp(r: SessionRequest, controller: ethers.Wallet, pkpPublicKey: string) {
  return r.client.getPkpSessionSigs({
    pkpPublicKey,
    authMethods: [await ethWalletAuthMethod(r.client, controller, r.block, r.nowMs)],
    ...sessionParams(r),
  });
}

/**
 * Lit Action auth: the nodes run the action (a permitted action of the PKP) and sign the session
 * only when it answers "true". No controller key is needed; the SDK still sends an `authMethods`
 * list (empty, or the optional signer's wallet signature, which the action sees in
 * `Lit.Auth.authMethodContexts`). The SDK takes inline code base64-encoded and requires
 * `jsParams`, so an action without parameters gets `{}`.
 */
async function mintPkpByLitAction(
  r: SessionRequest,
  action: LitActionAuthSpec,
  controller: ethers.Wallet | undefined,
  pkpPublicKey: string,
) {
  return r.client.getLitActionSessionSigs({
    pkpPublicKey,
    ...(action.code !== undefined
      ? { litActionCode: Buffer.from(action.code, 'utf8').toString('base64') }
      : { litActionIpfsId: action.ipfsId ?? '' }),
    jsParams: action.jsParams ?? {},
    authMethods: controller ? [await ethWalletAuthMethod(r.client, controller, r.block, r.nowMs)] : [],
    ...sessionParams(r),
  });
}

/**
 * Agent-held mode: the capability for the agent's session public key, exactly as the SDK's
 * `getSessionSigs` would take it from its `authNeededCallback` for that key: the SIWE names
 * `lit:session:<key>`, carries the recap of the requested abilities and the blockhash nonce, and
 * expires with the session TTL. EOA: the wallet signs it. PKP: the network signs it
 * (`signSessionKey`, which uses only the public half of the key; authorised by the controller's
 * wallet or by the Lit Action, as `getPkpSessionSigs`/`getLitActionSessionSigs` would).
 */
async function mintCapability(
  r: Omit<SessionRequest, 'sessionKey' | 'capacityDelegationAuthSig'>,
  req: MintRequest,
  sessionPublicKey: string,
  wallet: ethers.Wallet | undefined,
): Promise<Omit<SessionCapability, 'capacityDelegationAuthSig'>> {
  const { client, block, expiration, resourceAbilityRequests } = r;
  const uri = `${LIT_SESSION_KEY_URI}${sessionPublicKey}`;
  let authSig: AuthSig;
  if (req.mode === 'eoa') {
    const toSign = await createSiweMessage({
      uri,
      expiration,
      resources: resourceAbilityRequests,
      walletAddress: wallet!.address,
      nonce: block.blockhash,
      litNodeClient: client,
    });
    authSig = await generateAuthSig({ signer: wallet!, toSign });
  } else {
    const action = req.litAction;
    const authMethods = wallet ? [await ethWalletAuthMethod(client, wallet, block, r.nowMs)] : [];
    const signed = await client.signSessionKey({
      // Only the public half is used (the SIWE's URI); the secret never exists here.
      sessionKey: { publicKey: sessionPublicKey, secretKey: '' },
      statement: PKP_CAPABILITY_STATEMENT,
      authMethods,
      pkpPublicKey: req.pkpPublicKey!,
      expiration,
      chainId: 1,
      resourceAbilityRequests,
      // As getPkpSessionSigs passes them (signSessionKey builds the recap from the requests).
      resources: [
        (
          await client.generateSessionCapabilityObjectWithWildcards(
            resourceAbilityRequests.map((ra) => ra.resource),
          )
        ).encodeAsSiweResource(),
      ],
      ...(action?.code !== undefined
        ? { litActionCode: Buffer.from(action.code, 'utf8').toString('base64') }
        : {}),
      ...(action?.ipfsId !== undefined ? { litActionIpfsId: action.ipfsId } : {}),
      ...(action ? { jsParams: action.jsParams ?? {} } : {}),
    });
    authSig = signed.authSig;
  }
  if (!authSig?.sig || !authSig.signedMessage) {
    throw new TypedActivityError('NotEnoughNodes', 'the Lit client produced no capability');
  }
  return {
    sessionPublicKey,
    authSig: {
      sig: authSig.sig,
      derivedVia: authSig.derivedVia,
      signedMessage: authSig.signedMessage,
      address: authSig.address,
      ...(authSig.algo ? { algo: authSig.algo } : {}),
    },
    expiresAt: expiration,
  };
}
