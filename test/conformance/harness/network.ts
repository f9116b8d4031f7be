/**
 * The network the published examples run against: the devnet a test started, reached the way
 * the examples reach Lit's networks, only through the stand-ins (stand-ins/*.ts). The stand-ins
 * read it from here, so a test sets it once (`useDevnet`) before it loads an example.
 *
 * What replaces what:
 * - `new LitNodeClient({ litNetwork: LIT_NETWORK.DatilTest | DatilDev | Datil, ... })` connects
 *   to this devnet (litNetwork `custom`, its chain RPC and Staking contract, its block indexer);
 * - the contracts (`LitContracts`): a PKP minted by the signer is minted through the devnet's admin
 *   API (`POST /pkps`) with the signer as its controller, `addPermittedAction` goes to
 *   `POST /pkps/permitted-actions`, a capacity credit is a token id the stand-in numbers (the devnet
 *   does not meter requests);
 * - `LIT_RPC.CHRONICLE_YELLOWSTONE`, the chain the examples' wallets are connected to, is the
 *   devnet's chain RPC.
 */
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import type { Devnet, PkpInfo } from '../../../src/devnet';
import { disposeLitClient } from '../../../src/lit/lit-client-lifecycle';

let devnet: Devnet | undefined;
const clients = new Set<LitNodeClientNodeJs>();
const minted: PkpInfo[] = [];
const litNetworksAsked: string[] = [];

export function useDevnet(d: Devnet): void {
  devnet = d;
}

export function currentDevnet(): Devnet {
  if (!devnet)
    throw new Error('conformance harness: no devnet; call useDevnet(devnet) before loading an example');
  return devnet;
}

/** A client an example constructed (so the test can dispose of it even if the example did not). */
export function recordClient(client: LitNodeClientNodeJs, litNetwork: unknown): void {
  clients.add(client);
  litNetworksAsked.push(String(litNetwork));
}

/** The `litNetwork` values the examples asked for, in order (each one replaced by the devnet). */
export function litNetworksRequested(): readonly string[] {
  return litNetworksAsked;
}

export async function disposeExampleClients(): Promise<void> {
  await Promise.all([...clients].map((c) => disposeLitClient(c)));
  clients.clear();
}

/** What an example's `executeJs` was asked (`jsParams` as the SDK sent them) and what it returned. */
export interface ExecuteJsCall {
  params: { jsParams?: Record<string, unknown>; [key: string]: unknown };
  result: { signatures?: unknown; response?: unknown; logs?: unknown; [key: string]: unknown };
}

const executeJsCalls: ExecuteJsCall[] = [];

export function recordExecuteJs(params: unknown, result: unknown): void {
  executeJsCalls.push({ params, result } as ExecuteJsCall);
}

/** The examples' `executeJs` calls that returned, oldest first. */
export function executeJsResults(): readonly ExecuteJsCall[] {
  return executeJsCalls;
}

/** POST to the devnet's admin API; throws with the API's error text on a non-2xx answer. */
export async function adminPost<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${currentDevnet().adminUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`devnet admin ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Mints a PKP controlled by `owner` through the admin API and remembers it. */
export async function mintPkpFor(owner: string): Promise<PkpInfo> {
  const pkp = await adminPost<PkpInfo>('/pkps', { permittedAddresses: [owner] });
  minted.push(pkp);
  return pkp;
}

/** The PKPs the examples minted, oldest first. */
export function mintedPkps(): readonly PkpInfo[] {
  return minted;
}

export function mintedPkpByTokenId(tokenId: unknown): PkpInfo {
  const id = String(tokenId).toLowerCase();
  const pkp = minted.find((p) => p.tokenId.toLowerCase() === id);
  if (!pkp) throw new Error(`conformance harness: no PKP with token id ${String(tokenId)} was minted here`);
  return pkp;
}
