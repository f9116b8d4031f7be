/**
 * Runs Lit Action code for the devnet's `executeJs` (POST `/web/execute/v1`) and for Lit Action
 * auth of PKP sessions (POST `/web/sign_session_key/v1` with `code` / `litActionIpfsId`).
 *
 * Sandbox: `node:vm`, a fresh context per run, with a time limit (vm `timeout`, which with
 * `microtaskMode: 'afterEvaluate'` also covers the promise jobs the action queues). Chosen over
 * isolated-vm because it needs no native addon, and the code it runs is the devnet operator's own
 * test input, not hostile code: node:vm is no security boundary (the context can reach the host
 * through prototype tricks) and it cannot cap memory. It also runs on the node's (the devnet
 * process's) thread, so an action blocks every node for up to the time limit.
 *
 * Known Node 20 limit: when the time limit strikes while the action's promise jobs run (an endless
 * `while (true) await null`) in a process with async hooks enabled (AsyncLocalStorage users such
 * as the `node:test` runner), Node aborts on an async-hook stack assertion. The devnet process
 * alone has none and answers NodeJsTimeoutError; a worker thread per run would avoid it.
 *
 * The action sees `Lit.Actions` / `LitActions` with `setResponse`, `signEcdsa`, `getRpcUrl`,
 * `Lit.Auth` (the auth context, see `LitActionAuth`), a `console` whose output becomes `logs`,
 * and `jsParams` both as `jsParams` and as globals. Host
 * operations run synchronously; the action's promises all settle within the run, so an action
 * still pending when the run ends awaits something that never comes, and is refused.
 */
import { format } from 'node:util';
import vm from 'node:vm';
import { sha256 } from '@noble/hashes/sha2';
import { ethers } from 'ethers';
import { LitNodeError } from './lit-errors';

export type LitActionErrorCode = 'NodeJsExecutionError' | 'NodeJsTimeoutError';

/** An action that failed: a `LitNodeError` (codes in lit-errors.ts) that also carries the action's logs. */
export class LitActionError extends LitNodeError {
  readonly logs: string;
  constructor(code: LitActionErrorCode, message: string, logs: string) {
    super(code, message);
    this.name = 'LitActionError';
    this.logs = logs;
  }
}

/** One node's share of a signature the action asked for, as the SDK's `getSignatures` reads it. */
export interface ActionSignatureShare {
  sigType: 'K256';
  signatureShare: string;
  shareIndex: number;
  bigR: string;
  publicKey: string;
  dataSigned: string;
  sigName: string;
}

/** One auth method the node resolved for the request, as Lit's `Lit.Auth.authMethodContexts` lists it. */
export interface AuthMethodContext {
  userId: string;
  appId: string;
  authMethodType: number;
  usedForSignSessionKeyRequest: boolean;
}

/**
 * `Lit.Auth` as Lit's node hands it to an action: the IPFS ids of the running action(s), the
 * auth methods the request proved, and the address of the session (or auth sig) that called it.
 */
export interface LitActionAuth {
  actionIpfsIds: string[];
  authMethodContexts: AuthMethodContext[];
  authSigAddress: string | null;
  resources: string[];
  customAuthResource: string;
}

export interface LitActionHost {
  jsParams: Record<string, unknown>;
  /** What the action sees as `Lit.Auth` (default: an empty context). */
  auth?: LitActionAuth;
  /** The node's share for `toSign` by the PKP `publicKey`; throws a `LitNodeError` to refuse. */
  signEcdsa(req: { toSign: Uint8Array; publicKey: string; sigName: string }): ActionSignatureShare;
  /** The RPC URL of `chain`, if the node knows one. */
  rpcUrl(chain: string): string | undefined;
  timeoutMs: number;
}

export interface LitActionResult {
  response: string;
  logs: string;
  signedData: Record<string, ActionSignatureShare>;
}

const EMPTY_AUTH: LitActionAuth = {
  actionIpfsIds: [],
  authMethodContexts: [],
  authSigAddress: null,
  resources: [],
  customAuthResource: '',
};

const UNIXFS_CHUNK = 262_144;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/**
 * The IPFS CID (v0, `Qm…`) of `code` as the SDK's `getIpfsId` (ipfs-only-hash defaults) and Lit's
 * node derive it: a single dag-pb node holding a UnixFS file. Code above one 256 KiB chunk would
 * need the chunked DAG, which the devnet does not build.
 */
export function ipfsCidOf(code: string): string {
  const bytes = new TextEncoder().encode(code);
  if (bytes.length === 0 || bytes.length > UNIXFS_CHUNK) {
    throw new RangeError('the devnet derives IPFS ids only for 1 byte to 256 KiB of code');
  }
  const unixfs = [0x08, 0x02, 0x12, ...varint(bytes.length), ...bytes, 0x18, ...varint(bytes.length)];
  const node = Uint8Array.from([0x0a, ...varint(unixfs.length), ...unixfs]);
  return ethers.utils.base58.encode(Uint8Array.from([0x12, 0x20, ...sha256(node)]));
}

const BOOTSTRAP = `
'use strict';
(() => {
  const host = globalThis.__litHost;
  delete globalThis.__litHost;
  const Actions = Object.freeze({
    setResponse: ({ response } = {}) => host.setResponse(response),
    signEcdsa: async ({ toSign, publicKey, sigName } = {}) =>
      host.signEcdsa(Array.from(toSign ?? []), publicKey, sigName),
    getRpcUrl: async ({ chain } = {}) => host.getRpcUrl(chain),
  });
  // Parsed inside the context so the action gets plain objects of its own realm.
  const freeze = (v) => {
    if (v && typeof v === 'object') for (const k of Object.keys(v)) freeze(v[k]);
    return Object.freeze(v);
  };
  const Auth = freeze(JSON.parse(host.authJson));
  globalThis.Lit = Object.freeze({ Actions, Auth });
  globalThis.LitActions = Actions;
  const log = (...args) => host.log(...args);
  globalThis.console = Object.freeze({ log, info: log, warn: log, error: log, debug: log });
})();
`;

/** Runs `code` (already decoded) with the host's Lit.Actions; throws `LitActionError` or `LitNodeError`. */
export function runLitAction(code: string, host: LitActionHost): LitActionResult {
  const logs: string[] = [];
  const signedData: Record<string, ActionSignatureShare> = {};
  let response = '';
  const outcome: { state: 'pending' | 'ok' | 'failed'; error?: unknown } = { state: 'pending' };
  const sandbox: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(host.jsParams)) sandbox[k] = v;
  sandbox.jsParams = host.jsParams;
  sandbox.__litHost = {
    authJson: JSON.stringify(host.auth ?? EMPTY_AUTH),
    setResponse: (value: unknown) => {
      response = typeof value === 'string' ? value : JSON.stringify(value);
    },
    signEcdsa: (toSign: number[], publicKey: unknown, sigName: unknown) => {
      if (typeof publicKey !== 'string' || typeof sigName !== 'string' || !sigName) {
        throw new TypeError('signEcdsa needs toSign, publicKey (hex) and sigName');
      }
      if (Object.hasOwn(signedData, sigName)) throw new TypeError(`signEcdsa: sigName ${sigName} used twice`);
      signedData[sigName] = host.signEcdsa({ toSign: Uint8Array.from(toSign), publicKey, sigName });
      return 'success';
    },
    getRpcUrl: (chain: unknown) => {
      const url = host.rpcUrl(String(chain ?? ''));
      if (!url) throw new Error(`getRpcUrl: no RPC URL for chain ${String(chain)} on this devnet`);
      return url;
    },
    log: (...args: unknown[]) => {
      logs.push(format(...args));
    },
  };
  sandbox.__litOutcome = outcome;
  const context = vm.createContext(sandbox, {
    name: 'lit-action',
    codeGeneration: { strings: false, wasm: false },
    microtaskMode: 'afterEvaluate',
  });
  const logsText = () => (logs.length ? `${logs.join('\n')}\n` : '');
  try {
    vm.runInContext(BOOTSTRAP, context, { timeout: host.timeoutMs });
    // Wrapped in an async function so the action may use top-level await; its settlement is
    // recorded from inside the context, as the context's promise jobs run before runInContext returns.
    const wrapped = `(async () => {\n${code}\n})().then(() => { __litOutcome.state = 'ok'; }, (e) => { __litOutcome.state = 'failed'; __litOutcome.error = e; });`;
    vm.runInContext(wrapped, context, { timeout: host.timeoutMs, filename: 'lit-action.js' });
  } catch (e) {
    if ((e as { code?: unknown })?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new LitActionError(
        'NodeJsTimeoutError',
        `Lit Action ran past the time limit of ${host.timeoutMs} ms`,
        logsText(),
      );
    }
    outcome.state = 'failed';
    outcome.error = e;
  }
  if (outcome.state === 'failed') {
    const err = outcome.error;
    if (err instanceof LitNodeError) throw err;
    const text =
      err && typeof err === 'object' && 'stack' in err ? String((err as Error).stack) : String(err);
    throw new LitActionError('NodeJsExecutionError', `Error executing JS: ${text}`, logsText());
  }
  if (outcome.state === 'pending') {
    throw new LitActionError(
      'NodeJsExecutionError',
      'Error executing JS: the action awaited something that never settled',
      logsText(),
    );
  }
  return { response, logs: logsText(), signedData };
}
