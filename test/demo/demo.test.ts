/**
 * The demo for real, started as the README writes it (run 1 `npm start -- …`, run 2
 * `npx session-keeper demo …`), headless and in line mode (its stdout is a pipe): Temporal dev server, devnet, worker, four agents and the agent-held one. Every wait reads the demo's own
 * output lines (bounded by a deadline); nothing sleeps to synchronise.
 *
 * Run 1: every agent becomes fresh, one agent's generation advances (TTL 1m: the refresh comes
 * about 40 s after the first mint), the agent-held agent decrypts with per-node sigs it made itself
 * from its capability, SIGINT stops it with exit code 0 and no process left behind.
 * Run 2 on the same data folder: the same agents are found running (not restarted) and their
 * generations go on from run 1, the agent-held agent keeps its session key file and decrypts
 * again; SIGINT stops it cleanly again.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { freePort } from '../../src/temporal/dev-server';
import { freePortRange } from '../ports';

const REPO = join(__dirname, '..', '..');

/** The README's two ways to run the demo, exactly as written there. */
const LAUNCHERS = {
  'npm start': (args: string[]) => ['npm', ['start', '--', ...args]] as const,
  'npx session-keeper demo': (args: string[]) => ['npx', ['session-keeper', 'demo', ...args]] as const,
};

type DemoEvent = Record<string, any> & { event: string };

interface DemoRun {
  child: ChildProcess;
  events: DemoEvent[];
  /** Latest status line per agent. */
  latest: Map<string, DemoEvent>;
  /** First status line per agent. */
  first: Map<string, DemoEvent>;
  stderr(): string;
  /** Resolves when `check` holds after some output line; rejects at the deadline or on exit. */
  until<T>(what: string, check: () => T | undefined | false, timeoutMs: number): Promise<T>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
const serverPids = new Set<number>();
let dataDir: string;

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(TEMPORAL_|LIT_NETWORKS|SESSION_KEEPER_)/.test(k)) delete env[k];
  }
  return env;
}

function startDemo(launcher: keyof typeof LAUNCHERS, args: string[]): DemoRun {
  const [command, argv] = LAUNCHERS[launcher](args);
  const child = spawn(command, argv, {
    cwd: REPO,
    // Its own process group, as a terminal's foreground job: Ctrl-C reaches all of it.
    detached: true,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const events: DemoEvent[] = [];
  const latest = new Map<string, DemoEvent>();
  const first = new Map<string, DemoEvent>();
  const listeners = new Set<() => void>();
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const rl = createInterface({ input: child.stdout! });
  let npmBanner = launcher === 'npm start';
  rl.on('line', (line) => {
    // `npm start` prints its own banner ("> pkg@version start", "> exec …", a blank line) first.
    if (npmBanner && (line.startsWith('> ') || line === '')) return;
    npmBanner = false;
    let e: DemoEvent;
    try {
      e = JSON.parse(line);
    } catch {
      throw new Error(`the demo printed a line that is not JSON: ${line}`);
    }
    events.push(e);
    if (e.event === 'temporal' && typeof e.pid === 'number') serverPids.add(e.pid);
    if (e.event === 'status') {
      latest.set(e.agentId, e);
      if (!first.has(e.agentId)) first.set(e.agentId, e);
    }
    for (const l of listeners) l();
  });
  rl.on('close', () => {
    ended = true;
    for (const l of listeners) l();
  });
  return {
    child,
    events,
    latest,
    first,
    stderr: () => err,
    exited,
    until<T>(what: string, check: () => T | undefined | false, timeoutMs: number): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const done = (fn: () => void) => {
          clearTimeout(timer);
          listeners.delete(probe);
          fn();
        };
        const probe = () => {
          const v = check();
          if (v !== undefined && v !== false) done(() => resolve(v as T));
          else if (ended)
            done(() => reject(new Error(`the demo ended before ${what}; stderr:\n${err.slice(-3000)}`)));
        };
        const timer = setTimeout(
          () =>
            done(() =>
              reject(
                new Error(
                  `no ${what} within ${timeoutMs} ms; last lines:\n${events
                    .slice(-8)
                    .map((e) => JSON.stringify(e))
                    .join('\n')}\nstderr:\n${err.slice(-3000)}`,
                ),
              ),
            ),
          timeoutMs,
        );
        listeners.add(probe);
        probe();
      });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Processes (other than `ps` itself) whose command line mentions the test's data folder. */
function processesUsing(dir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(dir))
    .map((l) => l.trim());
}

/**
 * Stops the demo as Ctrl-C in a terminal does (SIGINT to the whole foreground process group: npm
 * or npx, and the demo under them) and checks it exits 0 leaving no process behind.
 */
async function interruptAndCheck(run: DemoRun, serverPid: number): Promise<void> {
  process.kill(-(run.child.pid as number), 'SIGINT');
  await run.until('the "stopped" line', () => run.events.find((e) => e.event === 'stopped'), 60_000);
  const { code, signal } = await run.exited;
  // npm (behind both `npm start` and `npx`) re-raises the SIGINT it was sent once its child has
  // exited, as it does in a terminal; anything else (an error code, another signal) is the demo's.
  assert.ok(
    (code === 0 && signal === null) || (code === null && signal === 'SIGINT'),
    `exit code ${code}, signal ${signal}; stderr:\n${run.stderr()}`,
  );
  assert.equal(isAlive(serverPid), false, `the Temporal dev server (pid ${serverPid}) is still running`);
  assert.deepEqual(processesUsing(dataDir), [], 'processes still use the data folder');
}

function allFresh(run: DemoRun): Map<string, DemoEvent> | undefined {
  const agents = run.events.filter((e) => e.event === 'agent').map((e) => e.agentId as string);
  if (agents.length === 0 || !run.events.some((e) => e.event === 'ready')) return undefined;
  const fresh = agents.every((id) => run.latest.get(id)?.state === 'fresh');
  return fresh ? new Map(run.latest) : undefined;
}

/** The agent-held agent's latest successful decrypt, if it has made one. */
function heldDecrypted(run: DemoRun): () => DemoEvent['lastUse'] | undefined {
  return () => {
    const use = run.latest.get('demo-agent-held')?.lastUse;
    return use?.op === 'decrypt' && use.ok === true ? use : undefined;
  };
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'session-keeper-demo-'));
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of serverPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

test('the demo runs, refreshes, stops cleanly on SIGINT and resumes the same agents', {
  timeout: 240_000,
}, async () => {
  const args = [
    '--headless',
    '--data-dir',
    dataDir,
    '--temporal-port',
    String(await freePort()),
    '--devnet-port',
    String(await freePortRange(6)),
    '--agents',
    '4',
    '--ttl',
    '1m',
  ];

  // Run 1: a new data folder.
  const run1 = startDemo('npm start', args);
  const temporal1 = await run1.until('first line', () => run1.events[0], 60_000);
  assert.equal(temporal1.event, 'temporal', 'the first line names Temporal');
  assert.match(temporal1.address, /^127\.0\.0\.1:\d+$/);
  assert.equal(temporal1.uiUrl, null, 'headless: no UI');
  assert.equal(typeof temporal1.pid, 'number');
  const fresh1 = await run1.until('every agent fresh', () => allFresh(run1), 120_000);
  assert.deepEqual(
    run1.events.filter((e) => e.event === 'agent').map((e) => [e.agentId, e.mode, e.outcome]),
    [
      ['demo-eoa-1', 'eoa', 'started'],
      ['demo-pkp-2', 'pkp', 'started'],
      ['demo-eoa-3', 'eoa', 'started'],
      ['demo-pkp-4', 'pkp', 'started'],
      ['demo-agent-held', 'agent-held', 'started'],
    ],
  );
  const devnet1 = run1.events.find((e) => e.event === 'devnet')!;
  assert.equal(devnet1.restored, false);
  for (const s of fresh1.values()) {
    // The agent-held agent gets no sigs from the keeper (only a capability): it makes its own.
    assert.equal(s.nodes, s.mode === 'agent-held' ? 0 : 3, `${s.agentId}: sigs for every node`);
    assert.ok(!('sessionSigs' in s), 'status lines carry no sigs');
  }
  const advanced = await run1.until(
    'a refresh (generation advancing)',
    () =>
      [...run1.latest.values()].find(
        (s) => s.state === 'fresh' && s.generation > (fresh1.get(s.agentId)?.generation ?? 0),
      ),
    90_000,
  );
  // PKP agents use their sigs for pkpSign with every generation, and each use verified; EOA agents
  // (decrypt-only sigs) are not used.
  const pkpAdvanced = await run1.until(
    'a PKP agent using its second generation for pkpSign',
    () =>
      run1.events.find(
        (e) =>
          e.event === 'status' && e.mode === 'pkp' && e.lastUse?.ok === true && e.lastUse.generation >= 2,
      ),
    120_000,
  );
  const uses = run1.events
    .filter((e) => e.event === 'status' && e.agentId === pkpAdvanced.agentId && e.lastUse)
    .map((e) => e.lastUse);
  const usedGenerations = [...new Set(uses.map((u) => u.generation as number))];
  assert.deepEqual(
    usedGenerations,
    Array.from({ length: pkpAdvanced.lastUse.generation }, (_, i) => i + 1),
    'every generation used once, in order',
  );
  for (const u of uses) {
    assert.equal(u.op, 'pkpSign');
    assert.equal(u.ok, true, `generation ${u.generation}: ${u.detail}`);
    assert.match(u.detail, /^0x[0-9a-fA-F]{40}$/, 'the recovered PKP address');
  }
  assert.ok(!run1.events.some((e) => e.mode === 'eoa' && e.lastUse), 'EOA agents are not used for pkpSign');
  // The agent-held agent: a decrypt with the per-node sigs it made itself (AgentSessionSigner).
  const heldUse1 = await run1.until(
    'the agent-held agent decrypting with its own sigs',
    heldDecrypted(run1),
    60_000,
  );
  assert.match(heldUse1.detail, /^own sigs for 3 nodes /);
  assert.ok(
    !run1.events.some((e) => e.agentId === 'demo-agent-held' && e.lastUse && !e.lastUse.ok),
    'no failed use of the agent-held sigs',
  );
  await interruptAndCheck(run1, temporal1.pid);
  const sessionKeyFile = join(dataDir, 'demo', 'agent-held.session-key.json');
  assert.equal(fs.statSync(sessionKeyFile).mode & 0o777, 0o600, 'the session key file is owner-only');
  const sessionKey1 = JSON.parse(fs.readFileSync(sessionKeyFile, 'utf8')) as {
    publicKey: string;
    secretKey: string;
  };
  const generations1 = new Map([...run1.latest].map(([id, s]) => [id, s.generation as number]));

  // Keys stay out of Temporal (specs carry env: references) and are kept owner-only.
  const keysFile = join(dataDir, 'demo', 'keys.json');
  assert.equal(fs.statSync(keysFile).mode & 0o777, 0o600);
  const keys = JSON.parse(fs.readFileSync(keysFile, 'utf8')).agents as { privateKey: string }[];
  assert.equal(keys.length, 4);
  const history = fs
    .readdirSync(dataDir)
    .filter((f) => f.startsWith('temporal.db'))
    .map((f) => fs.readFileSync(join(dataDir, f)).toString('latin1'))
    .join('');
  assert.ok(history.includes('env:DEMO_AGENT_1_KEY'), 'the history holds the signer reference');
  for (const k of keys) {
    assert.ok(!history.toLowerCase().includes(k.privateKey.slice(2).toLowerCase()), 'a key reached Temporal');
  }
  assert.ok(history.includes(sessionKey1.publicKey), 'the history holds the session public key');
  assert.ok(!history.includes(sessionKey1.secretKey.slice(0, 64)), 'the session secret key reached Temporal');

  // Run 2: the same data folder resumes the same agents.
  const run2 = startDemo('npx session-keeper demo', args);
  const temporal2 = await run2.until('first line', () => run2.events[0], 60_000);
  assert.equal(temporal2.event, 'temporal');
  await run2.until('the ready line', () => run2.events.find((e) => e.event === 'ready'), 120_000);
  assert.deepEqual(
    run2.events.filter((e) => e.event === 'agent').map((e) => e.outcome),
    ['already-running', 'already-running', 'already-running', 'already-running', 'already-running'],
  );
  assert.equal(run2.events.find((e) => e.event === 'devnet')?.restored, true);
  await run2.until('every agent fresh again', () => allFresh(run2), 90_000);
  for (const [agentId, before] of generations1) {
    const firstSeen = run2.first.get(agentId)!;
    assert.ok(
      firstSeen.generation >= before,
      `${agentId} came back at generation ${firstSeen.generation}, it was ${before}`,
    );
  }
  assert.ok(run2.first.get(advanced.agentId)!.generation > 1, 'generations go on, not from 1');
  // The same session key (the file kept, not made again), and its sigs still serve.
  assert.deepEqual(JSON.parse(fs.readFileSync(sessionKeyFile, 'utf8')), sessionKey1);
  await run2.until('the agent-held agent decrypting again', heldDecrypted(run2), 60_000);
  await interruptAndCheck(run2, temporal2.pid);
});
