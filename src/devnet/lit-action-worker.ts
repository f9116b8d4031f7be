/**
 * The program of a Lit Action worker thread (lit-action-runner.ts starts it; its run rules are
 * written there). It takes `run` jobs one at a time and answers `log`, `call` (a host operation)
 * and finally `done` or `failed`, each with `reusable`: whether the worker is known to be idle
 * (nothing of the run left that could still execute) and may take the next run.
 *
 * Run semantics: the run ends when the action's code has returned and nothing it started is
 * pending — no host call outstanding and no promise jobs left (checked with setImmediate, which
 * runs only once the microtask queue is empty; the sandbox has no timers or I/O of its own). An
 * uncaught error — a throw, a rejected top level, a promise rejected with no handler by the end of
 * its tick (unhandledRejection) — ends it at once.
 *
 * Self-contained: it imports only Node's modules, because the runner evaluates its JavaScript in
 * the worker (`eval`), whether that is tsc's output in dist/ or, from the TypeScript sources, the
 * same file with its types stripped. `litGlobals` runs inside the action's `vm` context, from its
 * source text: it must use nothing of this module.
 */

import { format } from 'node:util';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';

/** The limits the runner gives the worker (`workerData`). */
export interface LitActionWorkerData {
  /** Lit's `DEFAULT_MAX_RESPONSE_LENGTH`. */
  maxResponseBytes: number;
  /** Lit's `DEFAULT_MAX_CONSOLE_LOG_LENGTH`, for all logs of one run. */
  maxLogBytes: number;
}

/** A Lit error a host call answered: the run's failure keeps its code when the action does not catch it. */
export interface HostLitError {
  code: string;
  message: string;
  details: string[];
}

/** Node → worker. */
export type ToWorkerMessage =
  | { type: 'run'; id: number; code: string; authJson: string; jsParamsJson: string }
  | { type: 'reply'; id: number; callId: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; callId: number; ok: false; error: HostLitError };

/** Worker → node. */
export type WorkerMessage =
  | { type: 'log'; id: number; text: string }
  | { type: 'call'; id: number; callId: number; op: string; args: Record<string, unknown> }
  | { type: 'done'; id: number; response: string; reusable: boolean }
  | {
      type: 'failed';
      id: number;
      kind: 'uncaught' | 'never-settled';
      reusable: boolean;
      text?: string;
      lit?: HostLitError;
    };

/** The host object `litGlobals` finds as `globalThis.__litHost` (and removes). */
interface LitHost {
  authJson: string;
  jsParamsJson: string;
  /** '' or the error to throw in the action. */
  setResponse(text: string): string;
  call(
    op: string,
    argsJson: string,
    resolve: (json: string | undefined) => void,
    reject: (message: string, callId: number) => void,
  ): void;
  tag(e: Error, callId: number): void;
  /** '' or the error to throw in the action. */
  log(...args: unknown[]): string;
}

/**
 * Runs inside the action's context, from its source text (`litGlobals.toString()`): sets up
 * `Lit.Actions` / `LitActions`, `Lit.Auth`, `jsParams` (also as globals) and `console` on top of
 * the host object. Every promise and error the action sees is of its own realm: host answers come
 * back through resolve/reject functions made here, so no worker-realm object reaches the action.
 */
function litGlobals(): void {
  const g = globalThis as any;
  const host: LitHost = g.__litHost;
  delete g.__litHost;
  const call = (op: string, args?: Record<string, unknown>): Promise<any> =>
    new Promise((resolve, reject) =>
      host.call(
        op,
        JSON.stringify(args ?? {}),
        (json) => resolve(json === undefined ? undefined : JSON.parse(json)),
        (message, id) => {
          const e = new Error(message);
          host.tag(e, id);
          reject(e);
        },
      ),
    );
  const fail = (message: string) => {
    if (message) throw new Error(message);
  };
  const Actions = Object.freeze({
    setResponse: ({ response }: { response?: unknown } = {}) =>
      fail(host.setResponse(typeof response === 'string' ? response : JSON.stringify(response))),
    signEcdsa: ({
      toSign,
      publicKey,
      sigName,
    }: {
      toSign?: ArrayLike<number>;
      publicKey?: unknown;
      sigName?: unknown;
    } = {}) => call('signEcdsa', { toSign: Array.from(toSign ?? []), publicKey, sigName }),
    getRpcUrl: ({ chain }: { chain?: unknown } = {}) => call('getRpcUrl', { chain }),
    checkConditions: ({ conditions, authSig, chain }: Record<string, unknown> = {}) =>
      call('checkConditions', { conditions, authSig, chain }),
    decryptAndCombine: ({
      accessControlConditions,
      ciphertext,
      dataToEncryptHash,
      chain,
      authSig,
    }: Record<string, unknown> = {}) =>
      call('decryptAndCombine', { accessControlConditions, ciphertext, dataToEncryptHash, chain, authSig }),
    // Rule 6: the message is taken as text (a string as it is, anything else as String() makes it
    // of it, as a template literal would) and its UTF-8 bytes are what the node hashes and signs.
    ethPersonalSignMessageEcdsa: async ({ message, publicKey, sigName }: Record<string, unknown> = {}) => {
      if (typeof message === 'symbol') throw new TypeError('Cannot convert a Symbol value to a string');
      return call('ethPersonalSignMessageEcdsa', { message: String(message), publicKey, sigName });
    },
    // Rule 7: the first run of the request to ask leads and runs fn; the others get its answer.
    runOnce: async (
      { waitForResponse, name }: { waitForResponse?: unknown; name?: string } = {},
      fn: () => unknown,
    ) => {
      const key = name || 'default_bc_id';
      if (await call('runOnceClaim', { name: key })) {
        let response: any = '';
        try {
          response = await fn();
        } catch (e) {
          console.error('Error running function:', e);
          response = '[ERROR]';
        }
        try {
          response = response.toString();
        } catch (e) {
          console.error('Error converting response to string:', e);
          response = '';
        }
        if (waitForResponse) call('runOnceBroadcast', { name: key, value: response });
        return response;
      }
      if (waitForResponse) return call('runOnceCollect', { name: key });
      return undefined;
    },
  });
  // Parsed inside the context so the action gets plain objects of its own realm.
  const freeze = (v: any): any => {
    if (v && typeof v === 'object') for (const k of Object.keys(v)) freeze(v[k]);
    return Object.freeze(v);
  };
  const Auth = freeze(JSON.parse(host.authJson));
  const params = JSON.parse(host.jsParamsJson);
  for (const k of Object.keys(params)) g[k] = params[k];
  g.jsParams = params;
  g.Lit = Object.freeze({ Actions, Auth });
  g.LitActions = Actions;
  const log = (...args: unknown[]) => fail(host.log(...args));
  g.console = Object.freeze({ log, info: log, warn: log, error: log, debug: log });
}

/** The script that sets up an action's context. */
const BOOTSTRAP = `'use strict';\n(${litGlobals.toString()})();\n`;

interface Job {
  id: number;
  code: string;
  authJson: string;
  jsParamsJson: string;
  calls: Map<
    number,
    { resolve: (json: string | undefined) => void; reject: (m: string, id: number) => void }
  >;
  /** Host errors of the run's calls, by call id, and the action-realm errors that carry them. */
  litErrors: Map<number, HostLitError>;
  hostErrors: WeakMap<object, HostLitError>;
  top: 'pending' | 'settled';
  logBytes: number;
  response?: string;
  idleCheck?: boolean;
}

if (!parentPort)
  throw new Error('lit-action-worker runs in a worker thread (lit-action-runner.ts starts it)');
const port = parentPort;
const { maxResponseBytes, maxLogBytes } = workerData as LitActionWorkerData;
const post = (m: WorkerMessage) => port.postMessage(m);

let current: Job | null = null;

function errorText(e: unknown): string {
  try {
    return e && typeof e === 'object' && 'stack' in e ? String(e.stack) : String(e);
  } catch {
    return 'an error that cannot be shown';
  }
}

function finish(job: Job, message: WorkerMessage): void {
  if (current !== job) return;
  current = null;
  // Host calls still in flight are dropped, never rejected: a rejection would be one more
  // unhandled promise. The run's context is unreachable from here on.
  job.calls.clear();
  post(message);
}

/** An uncaught error of the run: it ends now, and the worker is not trusted with another run. */
function uncaught(job: Job, e: unknown, inPromise: boolean): void {
  if (current !== job) return;
  let lit: HostLitError | undefined;
  try {
    lit = e && typeof e === 'object' ? job.hostErrors.get(e) : undefined;
  } catch {}
  const text = (inPromise ? 'Uncaught (in promise) ' : 'Uncaught ') + errorText(e);
  finish(job, { type: 'failed', id: job.id, kind: 'uncaught', text, lit, reusable: false });
}

/** Ends the run if nothing of it is pending any more (see the rules above). */
function checkIdle(job: Job): void {
  if (job.idleCheck) return;
  job.idleCheck = true;
  setImmediate(() => {
    job.idleCheck = false;
    if (current !== job || job.calls.size > 0) return;
    if (job.top === 'pending') {
      // Only the devnet's top-level await can get here: it awaits something nothing can settle.
      finish(job, { type: 'failed', id: job.id, kind: 'never-settled', reusable: true });
    } else {
      finish(job, { type: 'done', id: job.id, response: job.response ?? '', reusable: true });
    }
  });
}

process.on('unhandledRejection', (reason) => {
  if (current) uncaught(current, reason, true);
});
process.on('uncaughtException', (e) => {
  if (current) uncaught(current, e, false);
});

function run(m: Extract<ToWorkerMessage, { type: 'run' }>): void {
  const job: Job = {
    id: m.id,
    code: m.code,
    authJson: m.authJson,
    jsParamsJson: m.jsParamsJson,
    calls: new Map(),
    litErrors: new Map(),
    hostErrors: new WeakMap(),
    top: 'pending',
    logBytes: 0,
  };
  current = job;
  let nextCall = 1;
  const host: LitHost = {
    authJson: job.authJson,
    jsParamsJson: job.jsParamsJson,
    setResponse: (text) => {
      if (current !== job) return '';
      const bytes = Buffer.byteLength(String(text));
      if (bytes > maxResponseBytes) {
        return `Response is too long. Max length is ${maxResponseBytes} bytes`;
      }
      job.response = String(text);
      return '';
    },
    call: (op, argsJson, resolve, reject) => {
      if (current !== job) return;
      const id = nextCall++;
      job.calls.set(id, { resolve, reject });
      post({ type: 'call', id: job.id, callId: id, op, args: JSON.parse(argsJson) });
    },
    tag: (e, id) => {
      const lit = job.litErrors.get(id);
      if (lit) job.hostErrors.set(e, lit);
    },
    log: (...args) => {
      if (current !== job) return '';
      const text = format(...args);
      job.logBytes += Buffer.byteLength(text) + 1;
      if (job.logBytes > maxLogBytes) {
        return `Console.log is printing something that is too long. Max length for all logs in a single request is ${maxLogBytes} bytes`;
      }
      post({ type: 'log', id: job.id, text });
      return '';
    },
  };
  let promise: unknown;
  try {
    const context = vm.createContext(
      { __litHost: host },
      { name: 'lit-action', codeGeneration: { strings: false, wasm: false } },
    );
    vm.runInContext(BOOTSTRAP, context);
    // Wrapped in an async function so that top-level await works (a devnet extension; Lit runs
    // the code as a classic script). Lit's documented shape, an un-awaited async IIFE, returns
    // at once here and the run goes on until its work has settled.
    const wrapped = `(async () => {\n${job.code}\n})()`;
    promise = vm.runInContext(wrapped, context, { filename: 'lit-action.js' });
  } catch (e) {
    uncaught(job, e, false);
    return;
  }
  Promise.resolve(promise).then(
    () => {
      if (current !== job) return;
      job.top = 'settled';
      checkIdle(job);
    },
    (e) => uncaught(job, e, false),
  );
  checkIdle(job);
}

port.on('message', (m: ToWorkerMessage) => {
  if (m.type === 'run') run(m);
  else if (m.type === 'reply') {
    const job = current;
    if (!job || job.id !== m.id) return;
    const c = job.calls.get(m.callId);
    if (!c) return;
    job.calls.delete(m.callId);
    if (m.ok) c.resolve(m.value === undefined ? undefined : JSON.stringify(m.value));
    else {
      if (m.error.code) job.litErrors.set(m.callId, m.error);
      c.reject(m.error.message, m.callId);
    }
    checkIdle(job);
  }
});
