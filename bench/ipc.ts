/**
 * Request/response over Node's IPC channel between the bench orchestrator and its child processes
 * (the devnet, the workers). Children run in their own processes so that their CPU and memory can
 * be measured on their own, and so that the Lit network does not share an event loop with the
 * client it serves.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';

interface RequestMessage {
  kind: 'req';
  id: number;
  type: string;
  payload?: unknown;
}

interface ResponseMessage {
  kind: 'res';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

interface ReadyMessage {
  kind: 'ready';
  result: unknown;
}

type Message = RequestMessage | ResponseMessage | ReadyMessage;

function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The orchestrator's handle on one child. */
export class BenchChild<Ready = unknown> {
  readonly ready: Promise<Ready>;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    this.ready = new Promise<Ready>((resolve, reject) => {
      proc.on('message', (m: Message) => {
        if (m.kind === 'ready') resolve(m.result as Ready);
        else if (m.kind === 'res') {
          const p = this.pending.get(m.id);
          if (!p) return;
          this.pending.delete(m.id);
          if (m.ok) p.resolve(m.result);
          else p.reject(new Error(`${name}: ${m.error}`));
        }
      });
      proc.once('exit', (code, signal) => {
        const err = new Error(
          `${name} exited (code ${code}, signal ${signal}); last lines of ${logFile}:\n${tail(logFile)}`,
        );
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
    });
    // A child that dies later must not leave an unhandled rejection behind.
    this.ready.catch(() => undefined);
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  request<T>(type: string, payload?: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.proc.connected) {
        reject(new Error(`${this.name} is not running`));
        return;
      }
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ kind: 'req', id, type, payload } satisfies RequestMessage);
    });
  }

  /** Asks the child to shut down cleanly (so --cpu-prof profiles get written); kills it after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    try {
      await this.request('shutdown').catch(() => undefined);
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface ForkOptions {
  /** Extra node flags (e.g. --expose-gc, --cpu-prof). `--import tsx` is always there. */
  execArgv?: string[];
  env?: Record<string, string>;
  /** Where the child's stdout and stderr go. */
  logFile: string;
}

export function forkChild<Ready = unknown>(
  name: string,
  script: string,
  opts: ForkOptions,
): BenchChild<Ready> {
  const log = fs.openSync(opts.logFile, 'a');
  const proc = fork(script, [], {
    execArgv: ['--import', 'tsx', ...(opts.execArgv ?? [])],
    env: { ...process.env, ...(opts.env ?? {}) },
    stdio: ['ignore', log, log, 'ipc'],
  });
  fs.closeSync(log);
  return new BenchChild<Ready>(name, proc, opts.logFile);
}

// ---- child side -------------------------------------------------------------------------------

export type Handlers = Record<string, (payload: any) => unknown>;

/** Serves the parent's requests; `shutdown` runs `onShutdown`, answers, then exits. */
export function serveParent(handlers: Handlers, onShutdown: () => Promise<void>): void {
  if (!process.send) throw new Error('this script runs as a child of bench/run.ts');
  process.on('message', async (m: Message) => {
    if (m.kind !== 'req') return;
    const reply = (msg: ResponseMessage, then?: () => void) =>
      process.send!(msg, undefined, {}, () => then?.());
    if (m.type === 'shutdown') {
      await onShutdown().catch((err) => console.error('shutdown failed', err));
      reply({ kind: 'res', id: m.id, ok: true }, () => process.exit(0));
      return;
    }
    const handler = handlers[m.type];
    try {
      if (!handler) throw new Error(`no handler for ${m.type}`);
      reply({ kind: 'res', id: m.id, ok: true, result: await handler(m.payload) });
    } catch (err) {
      reply({ kind: 'res', id: m.id, ok: false, error: (err as Error).stack ?? String(err) });
    }
  });
  // Without the parent there is nothing left to do.
  process.on('disconnect', () => {
    void onShutdown()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  });
}

export function announceReady(result: unknown): void {
  process.send!({ kind: 'ready', result } satisfies ReadyMessage);
}
