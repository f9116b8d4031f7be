/**
 * Runs Lit Action code for the devnet's `executeJs` (POST `/web/execute/v1`) and for Lit Action
 * auth of PKP sessions (POST `/web/sign_session_key/v1` with `code` / `litActionIpfsId`).
 *
 * How a run ends — the rules of Lit's nodes, and where they come from. Lit's Lit Actions runtime
 * (LIT-Protocol/lit-peer, rust/lit-actions/server/runtime.rs `execute_js`) runs the code with
 * Deno's `execute_script` and then polls `worker.run_event_loop(false)` until it completes, raced
 * against a controller thread that terminates the isolate at the time or memory limit. Deno's
 * event loop completes only when no op (host call) and no promise job is pending, and reports an
 * unhandled promise rejection as an error. The node side (rust/lit-node/lit-node/src/functions/
 * action_client.rs `handle_op`) records each op as it is answered. Hence, enforced here:
 *
 * 1. Un-awaited work is waited for. The documented shape `(async () => { … })();` returns at once;
 *    the run goes on until every host call and promise job the action started has settled
 *    (bounded by the time limit). Shares (`signEcdsa`), `setResponse` and logs of every call that
 *    completed count. Lit's own runtime tests use exactly this shape (lit-peer
 *    rust/lit-actions/tests/it.rs: `sign_ecdsa`, `async_await`).
 * 2. An exception inside un-awaited code fails the run: a promise rejected with no handler by
 *    the end of its tick ends the run at once with NodeJsExecutionError, message
 *    `Uncaught (in promise) Error: …` (it.rs `throw_error`: `(async () => { throw new
 *    Error("boom") })()` → "Uncaught (in promise) Error: boom"); a synchronous throw gives
 *    `Uncaught Error: …`. Host calls still in flight are dropped, as Deno drops its pending ops.
 *    A host refusal (e.g. NodePKPNotAuthorized from signEcdsa) that the action does not catch
 *    keeps its own code (devnet choice; Lit's node answers the error text with status 400).
 * 3. `setResponse` called twice: the last call wins (action_client.rs: `self.state.response =
 *    response`). A response over 100 KB (`DEFAULT_MAX_RESPONSE_LENGTH = 1024 * 100`) is refused
 *    inside the action: `setResponse` throws "Response is too long. Max length is 102400 bytes"
 *    (uncaught, the run fails). Logs likewise stop at 100 KB in all
 *    (`DEFAULT_MAX_CONSOLE_LOG_LENGTH`): `console.log` throws.
 * 4. Limits: out of time → NodeJsTimeoutError "Your function exceeded the maximum runtime of
 *    N ms and was terminated."; out of memory → NodeJsMemoryLimitError "Your function exceeded the
 *    maximum memory of N MB and was terminated." (runtime.rs; lit-node web_client.rs maps them
 *    with `timeout_err_code(…, EC::NodeJsTimeoutError)` / `memory_limit_err_code(…,
 *    EC::NodeJsMemoryLimitError)`). Lit's defaults are 30 s and 256 MB; the devnet's are smaller
 *    (DEFAULT_LIT_ACTION_TIMEOUT_MS in endpoints/node-context.ts, DEFAULT_LIT_ACTION_MEMORY_MB here)
 *    so tests of the limits run fast.
 * 5. Devnet extensions, not Lit's: the code is wrapped in an async function, so top-level `await`
 *    works (Lit runs a classic script, where it is a SyntaxError); a top level still awaiting
 *    when nothing is left that could settle it is refused with NodeJsExecutionError (on Lit an
 *    un-awaited promise that never settles simply ends with the event loop, and so it does here).
 * 6. `Lit.Actions.ethPersonalSignMessageEcdsa({ message, publicKey, sigName })`: Lit's action
 *    SDK (lit-peer rust/lit-actions/ext/js/02_litActionsSDK.js) turns `message` into bytes with
 *    `uint8arrayFromString`, i.e. the UTF-8 bytes of its text (01_uint8arrays.js `fromString`
 *    builds the text with a template literal, so the bytes 1, 2, 3 — which the SDK's
 *    `normalizeJsParams` sends as an array — are signed as "1,2,3"); the op
 *    (ext/bindings.rs `op_sign_ecdsa_eth_personal_sign_message`) refuses empty bytes ("toSign
 *    must not be empty") and a blank publicKey / sigName ("… must not be blank", ext/macros.rs);
 *    the node (action_client.rs, `SignEcdsa` with `eth_personal_sign`) prefixes
 *    "\x19Ethereum Signed Message:\n" + length, hashes with keccak256 and signs that hash with
 *    the same `sign_helper` as `signEcdsa` (scope SignPersonalMessage instead of SignAnything;
 *    the devnet does not model scopes). So here the hash is `ethers.utils.hashMessage(bytes)`
 *    and the share is the host's `signEcdsa` share of it, `dataSigned` the hash: the SDK 7.4.0
 *    combines it as any action share (`getSignatures`: sigType K256, verified over
 *    `dataSigned`) and the signature verifies with `ethers.utils.verifyMessage(text, sig)`.
 * 7. `Lit.Actions.runOnce({ waitForResponse, name }, fn)` (02_litActionsSDK.js `runOnce`;
 *    action_client.rs `IsLeader`, `P2pBroadcast`, `P2pCollectFromLeader`): one node of the
 *    request, the leader, runs `fn`; its answer is `String` of what `fn` resolved to, "[ERROR]"
 *    if `fn` threw (logged "Error running function: …"), "" if it has no `toString` (logged);
 *    with `waitForResponse` the leader broadcasts it under the request id and `name` (default
 *    "default_bc_id") and the others wait for it, without it the others answer undefined at
 *    once. Lit picks the leader by a hash of the request id (`X-Request-Id`) over the node set;
 *    the devnet's nodes share one process and one pool, so the leader is the first run of the
 *    request (`LitActionHost.requestId`, given by endpoints/execute.ts) to reach that
 *    runOnce (lit-action-run-once.ts). Either way exactly one node executes `fn` and every node
 *    gets its answer; which node it is cannot be seen in the SDK's result. A run with no request
 *    id leads all its runOnce calls. The leader asked again under the same name runs `fn` again
 *    (Lit's leader is fixed per request); the devnet's followers keep its first answer. If the
 *    leader's run ends without broadcasting, the waiting runs' `runOnce` rejects (on Lit their
 *    collect fails).
 *
 * Sandbox: every run happens in a `worker_threads` Worker (a small pool, `LitActionPool`; its
 * program is lit-action-worker.ts) with V8 `resourceLimits`, inside a fresh `node:vm` context of that worker (so the action sees only
 * the Lit globals, not the worker's `require` / `process`; every promise and error it receives is
 * made in its own realm). The time limit is a timer on the node's thread that calls
 * `worker.terminate()`, which stops a synchronous loop and an endless chain of promise jobs
 * alike. A worker is reused only after a run that ended idle (rules 1 and 5: nothing of the run
 * can execute any more); after an uncaught error, a time-out, running out of memory or a crash
 * it is terminated and replaced, and the worker's own `unhandledRejection` / `uncaughtException`
 * handlers end the run instead of the thread — so no run can kill, wedge or poison a worker for
 * the runs after it (test/devnet/lit-action-sandbox.test.ts). Measured on the 2-core dev machine:
 * a run in a pooled worker takes a median 0.5 ms, one in a worker started for it 20 ms.
 *
 * Why worker threads and not isolated-vm: isolated-vm is a native addon that would have to be
 * built on this machine, while `resourceLimits` + `terminate()` give both limits with Node alone.
 * Neither is a security boundary here — the code is the devnet operator's own test input.
 *
 * The action sees `Lit.Actions` / `LitActions` with `setResponse`, `signEcdsa`,
 * `ethPersonalSignMessageEcdsa`, `runOnce`, `getRpcUrl`, `checkConditions`, `decryptAndCombine`
 * (not Lit's `fetch`, `ethers` or `signAndCombineEcdsa`), `Lit.Auth` (the auth context, see
 * `LitActionAuth`), a `console` whose output becomes `logs`, and `jsParams` both as `jsParams`
 * and as globals. Everything that needs the node (signing shares, access control conditions,
 * decryption, the RPC URL, runOnce's leader and answer) is a message to the node's thread,
 * answered asynchronously.
 *
 * Sources read for rules 6 and 7: LIT-Protocol/lit-peer at 1a469b7e8675 (Naga-era code; its Lit
 * Actions JS and ops for these two calls are what Lit published) and the SDK 7.4.0 in
 * node_modules (lit-node-client-nodejs `executeJs`, `normalizeJsParams`, `getSignatures`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { sha256 } from '@noble/hashes/sha2';
import { ethers } from 'ethers';
import { RunOnceBoard } from './lit-action-run-once';
import type { LitActionWorkerData, ToWorkerMessage, WorkerMessage } from './lit-action-worker';
import { isLitErrorCode, LitNodeError, litError } from './lit-errors';

export type LitActionErrorCode = 'NodeJsExecutionError' | 'NodeJsTimeoutError' | 'NodeJsMemoryLimitError';

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
  signEcdsa(req: {
    toSign: Uint8Array;
    publicKey: string;
    sigName: string;
  }): ActionSignatureShare | Promise<ActionSignatureShare>;
  /** The RPC URL of `chain`, if the node knows one. */
  rpcUrl(chain: string): string | undefined;
  /** `Lit.Actions.checkConditions`: whether the conditions hold (default: refused, NodeNotAuthorized). */
  checkConditions?(req: CheckConditionsRequest): boolean | Promise<boolean>;
  /** `Lit.Actions.decryptAndCombine`: the plaintext (default: refused, NodeNotAuthorized). */
  decryptAndCombine?(req: DecryptAndCombineRequest): string | Promise<string>;
  timeoutMs: number;
  /** The worker pool to run in (default: a process-wide pool with default limits). */
  pool?: LitActionPool;
  /**
   * The request this run serves (the SDK's `X-Request-Id`, the same at every node): the runs of
   * one request in one pool share `Lit.Actions.runOnce` (rule 7). Without it the run is alone.
   */
  requestId?: string;
}

/** `Lit.Actions.checkConditions({ conditions, authSig?, chain })`, as the action passed it. */
export interface CheckConditionsRequest {
  conditions: unknown;
  authSig?: unknown;
  chain: unknown;
}

/**
 * `Lit.Actions.decryptAndCombine({ accessControlConditions, ciphertext, dataToEncryptHash, chain,
 * authSig })`, as the action passed it (`authSig: null`: the session that runs the action).
 */
export interface DecryptAndCombineRequest {
  accessControlConditions: unknown;
  ciphertext: unknown;
  dataToEncryptHash: unknown;
  chain: unknown;
  authSig?: unknown;
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

/** Lit's `DEFAULT_MAX_RESPONSE_LENGTH` (action_client.rs): 100 KB. */
export const MAX_RESPONSE_BYTES = 1024 * 100;
/** Lit's `DEFAULT_MAX_CONSOLE_LOG_LENGTH` (action_client.rs): 100 KB of logs per run. */
export const MAX_LOG_BYTES = 1024 * 100;

/** Strips TypeScript's types: the `transformSync` of the esbuild that tsx brings. */
type TransformSync = (
  code: string,
  options: { loader: 'ts'; format: 'cjs'; target: string; sourcefile: string },
) => { code: string };

let workerSource: string | undefined;

/**
 * The JavaScript of the worker's program, lit-action-worker.ts, evaluated in each worker (`eval`:
 * no loader in the worker, whatever runs the devnet). Beside the compiled runner (dist/, the
 * packed package) it is tsc's output; beside the TypeScript sources (tsx) it is the file with its
 * types stripped by the esbuild tsx runs on, once per process, when the first pool is made.
 */
export function litActionWorkerSource(): string {
  if (workerSource !== undefined) return workerSource;
  const compiled = path.join(__dirname, 'lit-action-worker.js');
  if (!__filename.endsWith('.ts') && fs.existsSync(compiled)) {
    workerSource = fs.readFileSync(compiled, 'utf8');
    return workerSource;
  }
  const source = path.join(__dirname, 'lit-action-worker.ts');
  let transformSync: TransformSync;
  try {
    const tsx = path.dirname(require.resolve('tsx/package.json'));
    transformSync = require(require.resolve('esbuild', { paths: [tsx] })).transformSync;
  } catch (e) {
    throw new Error(
      `the devnet runs from its TypeScript sources but cannot strip the types of ${source} (${(e as Error).message}): run it with tsx (npm ci), or build it (npm run build)`,
    );
  }
  workerSource = transformSync(fs.readFileSync(source, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcefile: source,
  }).code;
  return workerSource;
}

export interface LitActionPoolOptions {
  /** Workers running actions at once; further runs wait for one (default 4). */
  maxWorkers?: number;
  /** V8 old-generation heap limit of each worker, MB (default DEFAULT_LIT_ACTION_MEMORY_MB). */
  maxOldGenerationSizeMb?: number;
  /** V8 young-generation heap limit of each worker, MB (default 16). */
  maxYoungGenerationSizeMb?: number;
}

/** Heap limit of one Lit Action's worker unless the devnet sets another. */
export const DEFAULT_LIT_ACTION_MEMORY_MB = 64;
export const DEFAULT_LIT_ACTION_WORKERS = 4;

/** Pure: the pool's limits, defaults applied; a RangeError names a limit out of range. */
export function litActionPoolLimits(opts: LitActionPoolOptions = {}): Required<LitActionPoolOptions> {
  const maxWorkers = opts.maxWorkers ?? DEFAULT_LIT_ACTION_WORKERS;
  const maxOldGenerationSizeMb = opts.maxOldGenerationSizeMb ?? DEFAULT_LIT_ACTION_MEMORY_MB;
  const maxYoungGenerationSizeMb = opts.maxYoungGenerationSizeMb ?? 16;
  if (!Number.isInteger(maxWorkers) || maxWorkers < 1) {
    throw new RangeError(`maxWorkers must be a positive integer, got ${maxWorkers}`);
  }
  for (const [name, v] of [
    ['maxOldGenerationSizeMb', maxOldGenerationSizeMb],
    ['maxYoungGenerationSizeMb', maxYoungGenerationSizeMb],
  ] as const) {
    if (!Number.isFinite(v) || v < 1) throw new RangeError(`${name} must be at least 1 MB, got ${v}`);
  }
  return { maxWorkers, maxOldGenerationSizeMb, maxYoungGenerationSizeMb };
}

/**
 * The workers Lit Actions run in: up to `maxWorkers` at once, each reused after a run that ended
 * by itself, discarded after a time-out, out-of-memory or crash. Idle workers do not keep the
 * process alive. `close()` ends them all (the devnet's `close` does).
 */
export class LitActionPool {
  readonly maxWorkers: number;
  readonly maxOldGenerationSizeMb: number;
  readonly maxYoungGenerationSizeMb: number;
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private readonly waiting: ((w: Worker) => void)[] = [];
  private busy = 0;
  private closed = false;
  /** Workers started so far (a measure of how often the pool had to replace one). */
  spawned = 0;
  /** `runOnce` leaders and their answers, per request, for every node running in this pool. */
  readonly runOnceBoard = new RunOnceBoard();

  constructor(opts: LitActionPoolOptions = {}) {
    const limits = litActionPoolLimits(opts);
    this.maxWorkers = limits.maxWorkers;
    this.maxOldGenerationSizeMb = limits.maxOldGenerationSizeMb;
    this.maxYoungGenerationSizeMb = limits.maxYoungGenerationSizeMb;
    // The worker's program is read (from the sources: its types stripped) now, not in a run's way.
    litActionWorkerSource();
  }

  /** Starts `n` idle workers ahead of need (capped at maxWorkers). */
  warm(n = 1): void {
    while (!this.closed && this.all.size < Math.min(n, this.maxWorkers)) {
      const w = this.spawn();
      w.unref();
      this.idle.push(w);
    }
  }

  /** @internal a worker for one run; give it back with `release`. */
  acquire(): Promise<Worker> {
    if (this.closed) return Promise.reject(new Error('the Lit Action pool is closed'));
    const ready = this.idle.pop();
    if (ready) return Promise.resolve(this.take(ready));
    if (this.all.size < this.maxWorkers) return Promise.resolve(this.take(this.spawn()));
    return new Promise((resolve) => this.waiting.push((w) => resolve(this.take(w))));
  }

  /** @internal `reusable` false: the worker was terminated or is broken. */
  release(worker: Worker, reusable: boolean): void {
    this.busy--;
    if (!reusable || this.closed) {
      this.all.delete(worker);
      void worker.terminate();
      if (!this.closed && this.waiting.length) this.waiting.shift()!(this.spawn());
      return;
    }
    const next = this.waiting.shift();
    if (next) {
      next(worker);
      return;
    }
    worker.unref();
    this.idle.push(worker);
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.allSettled(workers.map((w) => w.terminate()));
  }

  stats(): { workers: number; idle: number; busy: number; spawned: number } {
    return { workers: this.all.size, idle: this.idle.length, busy: this.busy, spawned: this.spawned };
  }

  private take(worker: Worker): Worker {
    this.busy++;
    worker.ref();
    return worker;
  }

  private spawn(): Worker {
    const worker = new Worker(`'use strict';\n${litActionWorkerSource()}`, {
      eval: true,
      workerData: {
        maxResponseBytes: MAX_RESPONSE_BYTES,
        maxLogBytes: MAX_LOG_BYTES,
      } satisfies LitActionWorkerData,
      // Not the parent's flags (a TypeScript loader such as tsx would load into every worker).
      execArgv: [],
      env: {},
      stdout: true,
      stderr: true,
      resourceLimits: {
        maxOldGenerationSizeMb: this.maxOldGenerationSizeMb,
        maxYoungGenerationSizeMb: this.maxYoungGenerationSizeMb,
      },
    });
    // A worker error with no run listening (an idle worker dying) must not crash the devnet.
    worker.on('error', () => undefined);
    // The action cannot reach the worker's stdio (its console is ours); drop anything else.
    worker.stdout.resume();
    worker.stderr.resume();
    worker.once('exit', () => {
      this.all.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
    });
    this.all.add(worker);
    this.spawned++;
    return worker;
  }
}

let defaultPool: LitActionPool | undefined;

/** The process-wide pool runs use when their host names none (created on first use). */
export function defaultLitActionPool(): LitActionPool {
  defaultPool ??= new LitActionPool();
  return defaultPool;
}

let nextRun = 1;

function plainError(e: unknown): { code: string; message: string; details: string[] } {
  if (e instanceof LitNodeError) return { code: e.code, message: e.message, details: e.details };
  return { code: '', message: e instanceof Error ? e.message : String(e), details: [] };
}

/**
 * Runs `code` (already decoded) in a worker of `host.pool` with the host's Lit.Actions; rejects
 * with `LitActionError` (the action failed, ran too long or out of memory) or `LitNodeError` (a
 * host refusal the action did not catch, with its own code).
 */
export async function runLitAction(code: string, host: LitActionHost): Promise<LitActionResult> {
  const pool = host.pool ?? defaultLitActionPool();
  const worker = await pool.acquire();
  const id = nextRun++;
  const logs: string[] = [];
  const signedData: Record<string, ActionSignatureShare> = {};
  const logsText = () => (logs.length ? `${logs.join('\n')}\n` : '');
  let finished = false;

  /** The node's share of `toSign`, kept under `sigName` for the response's `signedData`. */
  const sign = async (op: string, toSign: Uint8Array, publicKey: string, sigName: string) => {
    if (Object.hasOwn(signedData, sigName)) throw new TypeError(`${op}: sigName ${sigName} used twice`);
    const share = await host.signEcdsa({ toSign, publicKey, sigName });
    if (!finished) signedData[sigName] = share;
    return 'success';
  };
  const requestId = host.requestId;
  const board = pool.runOnceBoard;
  if (requestId !== undefined) board.join(requestId, id);

  const hostCall = async (op: string, args: Record<string, unknown>): Promise<unknown> => {
    switch (op) {
      case 'signEcdsa': {
        const { toSign, publicKey, sigName } = args;
        if (typeof publicKey !== 'string' || typeof sigName !== 'string' || !sigName) {
          throw new TypeError('signEcdsa needs toSign, publicKey (hex) and sigName');
        }
        if (!Array.isArray(toSign) || !toSign.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
          throw new TypeError('signEcdsa: toSign must be bytes');
        }
        return sign(op, Uint8Array.from(toSign), publicKey, sigName);
      }
      case 'ethPersonalSignMessageEcdsa': {
        // Rule 6: Lit's checks (in this order, with these messages), then the EIP-191 hash.
        const { message, publicKey, sigName } = args;
        const bytes = new TextEncoder().encode(String(message));
        if (bytes.length === 0) throw new RangeError('toSign must not be empty');
        if (typeof publicKey !== 'string' || !publicKey.trim()) {
          throw new RangeError('publicKey must not be blank');
        }
        if (typeof sigName !== 'string' || !sigName.trim()) throw new RangeError('sigName must not be blank');
        return sign(op, ethers.utils.arrayify(ethers.utils.hashMessage(bytes)), publicKey, sigName);
      }
      case 'runOnceClaim':
        // Without a request id the run is alone: it leads every runOnce.
        return requestId === undefined || board.claim(requestId, id, String(args.name));
      case 'runOnceBroadcast':
        if (requestId !== undefined) board.broadcast(requestId, id, String(args.name), String(args.value));
        return undefined;
      case 'runOnceCollect':
        if (requestId === undefined) throw new Error('runOnce: no leader to collect from');
        return board.collect(requestId, String(args.name));
      case 'getRpcUrl': {
        const url = host.rpcUrl(String(args.chain ?? ''));
        if (!url) throw new Error(`getRpcUrl: no RPC URL for chain ${String(args.chain)} on this devnet`);
        return url;
      }
      case 'checkConditions':
        if (!host.checkConditions) {
          throw litError('NodeNotAuthorized', 'checkConditions is not available to this Lit Action');
        }
        return Boolean(
          await host.checkConditions({
            conditions: args.conditions,
            authSig: args.authSig,
            chain: args.chain,
          }),
        );
      case 'decryptAndCombine':
        if (!host.decryptAndCombine) {
          throw litError('NodeNotAuthorized', 'decryptAndCombine is not available to this Lit Action');
        }
        return await host.decryptAndCombine({
          accessControlConditions: args.accessControlConditions,
          ciphertext: args.ciphertext,
          dataToEncryptHash: args.dataToEncryptHash,
          chain: args.chain,
          authSig: args.authSig,
        });
      default:
        throw new Error(`unknown Lit.Actions operation ${op}`);
    }
  };

  const send = (m: ToWorkerMessage) => worker.postMessage(m);
  try {
    return await new Promise<LitActionResult>((resolve, reject) => {
      let memoryExceeded = false;
      const end = (reusable: boolean) => {
        finished = true;
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        pool.release(worker, reusable);
      };
      const timer = setTimeout(() => {
        if (finished) return;
        end(false);
        reject(
          new LitActionError(
            'NodeJsTimeoutError',
            `Your function exceeded the maximum runtime of ${host.timeoutMs}ms and was terminated.`,
            logsText(),
          ),
        );
      }, host.timeoutMs);
      const onError = (e: unknown) => {
        if ((e as { code?: unknown })?.code === 'ERR_WORKER_OUT_OF_MEMORY') memoryExceeded = true;
      };
      const onExit = () => {
        if (finished) return;
        end(false);
        reject(
          memoryExceeded
            ? new LitActionError(
                'NodeJsMemoryLimitError',
                `Your function exceeded the maximum memory of ${pool.maxOldGenerationSizeMb} MB and was terminated.`,
                logsText(),
              )
            : new LitActionError(
                'NodeJsExecutionError',
                'Error executing JS: the Lit Action sandbox stopped unexpectedly',
                logsText(),
              ),
        );
      };
      const onMessage = (m: WorkerMessage) => {
        if (finished || m.id !== id) return;
        if (m.type === 'log') {
          logs.push(m.text);
        } else if (m.type === 'call') {
          hostCall(m.op, m.args).then(
            (value) => {
              if (!finished) send({ type: 'reply', id, callId: m.callId, ok: true, value });
            },
            (e: unknown) => {
              if (!finished) send({ type: 'reply', id, callId: m.callId, ok: false, error: plainError(e) });
            },
          );
        } else if (m.type === 'done') {
          end(m.reusable);
          resolve({ response: m.response, logs: logsText(), signedData });
        } else {
          end(m.reusable);
          if (m.lit && isLitErrorCode(m.lit.code)) {
            reject(new LitNodeError(m.lit.code, m.lit.message, m.lit.details));
          } else if (m.kind === 'never-settled') {
            reject(
              new LitActionError(
                'NodeJsExecutionError',
                'Error executing JS: the action awaited something that never settled',
                logsText(),
              ),
            );
          } else {
            reject(new LitActionError('NodeJsExecutionError', `Error executing JS: ${m.text}`, logsText()));
          }
        }
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      send({
        type: 'run',
        id,
        code,
        authJson: JSON.stringify(host.auth ?? EMPTY_AUTH),
        jsParamsJson: JSON.stringify(host.jsParams),
      });
    });
  } finally {
    finished = true;
    if (requestId !== undefined) board.leave(requestId, id);
  }
}
