/**
 * Right after `authNeededCallback` returns the wallet's SIWE signature, the SDK checks whether it
 * must ask for it again (`checkNeedToResignSessionKey`): it parses the SIWE message with an ABNF
 * parser and recovers the signer with pure-JS secp256k1, about a third of the worker CPU of an EOA
 * mint. When the callback is ours, the wallet signed that message microseconds earlier from the
 * SDK's own parameters (session key URI, resources), so the answer is always "no"; and were it
 * "yes", the SDK would only call the same callback again. The check is skipped for exactly those
 * signatures, recognised by object identity and the URI they were made for. Every other one
 * (a node-signed PKP capability above all, which nothing else verifies) still goes through the
 * SDK's check.
 */
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';

/** Signatures our callback produced -> the session key URI each was signed for. */
const ownAuthSigs = new WeakMap<object, string>();
const installed = new WeakSet<object>();

/** Marks a wallet signature made by our own `authNeededCallback` for `sessionKeyUri`. */
export function markOwnAuthSig<T extends object>(authSig: T, sessionKeyUri: string | undefined): T {
  if (sessionKeyUri) ownAuthSigs.set(authSig, sessionKeyUri);
  return authSig;
}

export interface ResignCheck {
  authSig: { algo?: string; sig?: string };
  sessionKeyUri: string;
}

/** Pure: whether the SDK's re-check can be skipped for this call. */
export function isOwnFreshAuthSig(params: ResignCheck): boolean {
  const uri = ownAuthSigs.get(params.authSig);
  return uri !== undefined && uri === params.sessionKeyUri && params.authSig.algo === undefined;
}

/** Makes `client` skip its re-check of signatures our callback just made (idempotent). */
export function skipRecheckOfOwnAuthSigs<C extends LitNodeClientNodeJs>(client: C): C {
  const sdk = client as any;
  const check = sdk.checkNeedToResignSessionKey;
  if (typeof check !== 'function' || installed.has(client)) return client;
  installed.add(client);
  sdk.checkNeedToResignSessionKey = async (params: ResignCheck) =>
    isOwnFreshAuthSig(params) ? false : check(params);
  return client;
}
