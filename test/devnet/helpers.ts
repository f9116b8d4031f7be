/**
 * Shared helpers of the devnet tests: build a stock SDK client for a devnet, run the two session
 * flows exactly as the project's activities will, and encrypt/decrypt through the SDK.
 */
import {
  createSiweMessage,
  generateAuthSig,
  LitAccessControlConditionResource,
  LitPKPResource,
} from '@lit-protocol/auth-helpers';
import { LIT_ABILITY } from '@lit-protocol/constants';
import { generateSessionKeyPair } from '@lit-protocol/crypto';
import { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import type { AccessControlConditions } from '@lit-protocol/types';
import { ed25519 } from '@noble/curves/ed25519';
import { ethers } from 'ethers';
import { type CustomNetworkConfig, litNodeClientConfigFor } from '../../src/lit/custom-network';
import { trackStakingListeners } from '../../src/lit/lit-client-lifecycle';

export type SessionSigs = Record<
  string,
  { sig: string; derivedVia: string; signedMessage: string; address: string; algo?: string }
>;

export const DECRYPT_ANY = () => [
  {
    resource: new LitAccessControlConditionResource('*'),
    ability: LIT_ABILITY.AccessControlConditionDecryption,
  },
];

/** `pkp-signing` on one PKP (by token id) or, by default, on every PKP. */
export const PKP_SIGNING = (tokenId = '*') => [
  { resource: new LitPKPResource(tokenId), ability: LIT_ABILITY.PKPSigning },
];

export type ResourceAbilityRequests = ReturnType<typeof DECRYPT_ANY> | ReturnType<typeof PKP_SIGNING>;

export function newClient(
  network: CustomNetworkConfig,
  overrides: { connectTimeout?: number } = {},
): LitNodeClientNodeJs {
  const setup = litNodeClientConfigFor(network, overrides);
  return trackStakingListeners(setup.applyTo(new LitNodeClientNodeJs(setup.config)));
}

export async function connected(
  network: CustomNetworkConfig,
  overrides: { connectTimeout?: number } = {},
): Promise<LitNodeClientNodeJs> {
  const client = newClient(network, overrides);
  await client.connect();
  return client;
}

export function inMs(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

/** EOA flow: SIWE with the latest blockhash as nonce, signed by the wallet. */
export async function eoaSessionSigs(
  client: LitNodeClientNodeJs,
  wallet: ethers.Wallet,
  opts: {
    expiration?: string;
    sessionKey?: ReturnType<typeof generateSessionKeyPair>;
    resourceAbilityRequests?: ResourceAbilityRequests;
    /** The capability SIWE's nonce; by default the SDK's latest blockhash. */
    nonce?: string;
  } = {},
): Promise<SessionSigs> {
  const sessionKey = opts.sessionKey ?? generateSessionKeyPair();
  return (await client.getSessionSigs({
    chain: 'ethereum',
    expiration: opts.expiration ?? inMs(3600_000),
    resourceAbilityRequests: opts.resourceAbilityRequests ?? DECRYPT_ANY(),
    sessionKey,
    authNeededCallback: async ({ uri, expiration, resourceAbilityRequests }) => {
      const toSign = await createSiweMessage({
        uri: uri!,
        expiration: expiration!,
        resources: resourceAbilityRequests!,
        walletAddress: wallet.address,
        nonce: opts.nonce ?? (await client.getLatestBlockhash()),
        litNodeClient: client,
      });
      return generateAuthSig({ signer: wallet, toSign });
    },
  })) as SessionSigs;
}

/** The EthWallet auth method proving control of `wallet` (authMethodType 1). */
export async function ethWalletAuthMethod(client: LitNodeClientNodeJs, wallet: ethers.Wallet) {
  const toSign = await createSiweMessage({
    walletAddress: wallet.address,
    nonce: await client.getLatestBlockhash(),
    expiration: inMs(600_000),
    litNodeClient: client,
  });
  const authSig = await generateAuthSig({ signer: wallet, toSign });
  return { authMethodType: 1, accessToken: JSON.stringify(authSig) };
}

/** PKP flow: the nodes sign the session key with the network's BLS key. */
export async function pkpSessionSigs(
  client: LitNodeClientNodeJs,
  controller: ethers.Wallet,
  pkpPublicKey: string,
  opts: {
    expiration?: string;
    resourceAbilityRequests?: ResourceAbilityRequests;
    sessionKey?: ReturnType<typeof generateSessionKeyPair>;
  } = {},
): Promise<SessionSigs> {
  return (await client.getPkpSessionSigs({
    pkpPublicKey,
    authMethods: [await ethWalletAuthMethod(client, controller)],
    resourceAbilityRequests: opts.resourceAbilityRequests ?? DECRYPT_ANY(),
    expiration: opts.expiration ?? inMs(3600_000),
    sessionKey: opts.sessionKey ?? generateSessionKeyPair(),
  })) as SessionSigs;
}

export function userAddressCondition(address: string): AccessControlConditions {
  return [
    {
      contractAddress: '',
      standardContractType: '',
      chain: 'ethereum',
      method: '',
      parameters: [':userAddress'],
      returnValueTest: { comparator: '=', value: address },
    },
  ];
}

export async function encryptFor(client: LitNodeClientNodeJs, address: string, text: string) {
  const accessControlConditions = userAddressCondition(address);
  const { ciphertext, dataToEncryptHash } = await client.encrypt({
    accessControlConditions,
    dataToEncrypt: new TextEncoder().encode(text),
  });
  return { ciphertext, dataToEncryptHash, accessControlConditions };
}

export async function decryptWith(
  client: LitNodeClientNodeJs,
  sessionSigs: SessionSigs,
  encrypted: Awaited<ReturnType<typeof encryptFor>>,
): Promise<string> {
  const { decryptedData } = await client.decrypt({
    ...encrypted,
    chain: 'ethereum',
    sessionSigs: sessionSigs as any,
  });
  return new TextDecoder().decode(decryptedData);
}

/** Re-signs every session sig after `mutate` edits its signed message, as a client could. */
export function resign(
  sigs: SessionSigs,
  secretKeyHex: string,
  mutate: (message: Record<string, any>) => void,
): SessionSigs {
  // The SDK's secret key is nacl's 64 bytes: the ed25519 seed followed by the public key.
  const seed = Buffer.from(secretKeyHex, 'hex').subarray(0, 32);
  const out: SessionSigs = {};
  for (const [url, s] of Object.entries(sigs)) {
    const message = JSON.parse(s.signedMessage);
    mutate(message);
    const signedMessage = JSON.stringify(message);
    const sig = Buffer.from(ed25519.sign(new TextEncoder().encode(signedMessage), seed)).toString('hex');
    out[url] = { ...s, signedMessage, sig };
  }
  return out;
}

/** Resolves with the next `event` of `emitter` that satisfies `predicate`. */
export function nextEvent<T>(
  emitter: {
    on(event: string, fn: (e: T) => void): unknown;
    off(event: string, fn: (e: T) => void): unknown;
  },
  event: string,
  predicate: (e: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const listener = (e: T) => {
      if (!predicate(e)) return;
      emitter.off(event, listener);
      resolve(e);
    };
    emitter.on(event, listener);
  });
}

/** Settles `promise`, returning the rejection (fails the test if it resolved). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export { ethers };
