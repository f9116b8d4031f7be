/**
 * The README's two set-up commands in its own order, in this checkout (issue 17, item 8):
 * `npm start` (the demo keeps its state in `.data/`, which it makes owner-only: it holds the
 * agents' keys and, without codec keys, sigs in plaintext), Ctrl-C, then
 * `npm run cluster -- --workers 3` as the README writes it, which must reach ready and stop on
 * Ctrl-C. As root (CI) the cluster runs PostgreSQL as the postgres user, which must reach its data
 * directory through this checkout: it failed here while that was `.data/cluster` under the demo's
 * owner-only `.data/`; it is `.cluster/` now. Then `npm start` again (the other order: the cluster
 * first, then the demo): the demo resumes its agents and `.data/` and the keys are still
 * owner-only. Every wait reads the commands' own output (bounded by a deadline).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { freePort } from '../../src/temporal/dev-server';
import { freePortRange } from '../ports';

const REPO = path.resolve(__dirname, '..', '..');
/** The demo's data folder in this checkout (the README's `npm start` keeps its state there). */
const DEMO_DATA = path.join(REPO, '.data');
const demoDataExisted = fs.existsSync(DEMO_DATA);
const children: ChildProcess[] = [];

after(() => {
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
  // The demo's state this file made (a checkout that had none before gets none back).
  if (!demoDataExisted) fs.rmSync(DEMO_DATA, { recursive: true, force: true });
});

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(TEMPORAL_|LIT_NETWORKS|SESSION_KEEPER_)/.test(k)) delete env[k];
  return env;
}

type DemoEvent = Record<string, any> & { event: string };

/** `npm start -- …` in this checkout (line mode: its stdout is a pipe), in its own process group. */
function startDemo(args: string[]) {
  const child = spawn('npm', ['start', '--', ...args], {
    cwd: REPO,
    detached: true, // its own process group, as a terminal's foreground job
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const events: DemoEvent[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waiters = new Set<() => void>();
  let ended = false;
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    if (line.startsWith('{')) events.push(JSON.parse(line)); // npm's banner lines are not JSON
    for (const w of waiters) w();
  });
  rl.on('close', () => {
    ended = true;
    for (const w of waiters) w();
  });
  /** Resolves when `check` holds after an output line; rejects when the demo ends or at the deadline. */
  const until = <T>(what: string, check: () => T | undefined, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        waiters.delete(probe);
        fn();
      };
      const probe = () => {
        const v = check();
        if (v !== undefined) finish(() => resolve(v));
        else if (ended) finish(() => reject(new Error(`the demo ended before ${what}:\n${stderr}`)));
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `no ${what} within ${timeoutMs} ms:\n${events
                  .slice(-8)
                  .map((e) => JSON.stringify(e))
                  .join('\n')}\n${stderr}`,
              ),
            ),
          ),
        timeoutMs,
      );
      waiters.add(probe);
      probe();
    });
  return { child, events, exited, until };
}

let demoPorts: { temporal: number; devnet: number } | undefined;

/**
 * The README's `npm start` until every demo agent is fresh, then Ctrl-C; returns the agents'
 * outcomes ('started' on a new `.data/`, 'already-running' on one a run before left).
 */
async function runDemoUntilFresh(): Promise<string[]> {
  // Free ports, not the defaults others may hold; the same for both runs (the devnet must come
  // back on the ports it was saved with).
  demoPorts ??= { temporal: await freePort(), devnet: await freePortRange(6) };
  const demo = startDemo([
    '--headless',
    '--agents',
    '2',
    '--temporal-port',
    String(demoPorts.temporal),
    '--devnet-port',
    String(demoPorts.devnet),
  ]);
  await demo.until(
    'every demo agent fresh',
    () => {
      const agents = demo.events.filter((e) => e.event === 'agent').map((e) => e.agentId as string);
      if (!demo.events.some((e) => e.event === 'ready') || agents.length === 0) return undefined;
      const latest = new Map(
        demo.events.filter((e) => e.event === 'status').map((e) => [e.agentId, e.state] as const),
      );
      return agents.every((id) => latest.get(id) === 'fresh') ? true : undefined;
    },
    240_000,
  );
  process.kill(-demo.child.pid!, 'SIGINT');
  await demo.until('the "stopped" line', () => demo.events.find((e) => e.event === 'stopped'), 60_000);
  const { code, signal } = await demo.exited;
  // npm re-raises the SIGINT it was sent once its child has exited, as in a terminal.
  assert.ok(code === 0 || signal === 'SIGINT', `demo: exit code ${code}, signal ${signal}`);
  return demo.events.filter((e) => e.event === 'agent').map((e) => e.outcome as string);
}

/** What the demo keeps private stays private: `.data/` 0700, the agents' keys 0600. */
function assertDemoDataPrivate(): void {
  assert.equal((fs.statSync(DEMO_DATA).mode & 0o777).toString(8), '700', '.data/');
  for (const file of ['keys.json', 'agent-held.session-key.json']) {
    const keys = path.join(DEMO_DATA, 'demo', file);
    assert.equal((fs.statSync(keys).mode & 0o777).toString(8), '600', keys);
  }
}

/** `npm run cluster -- --workers 3` as the README writes it, until its `Use it:` line; then Ctrl-C. */
async function runClusterUntilReady(): Promise<void> {
  const child = spawn('npm', ['run', 'cluster', '--', '--workers', '3'], {
    cwd: REPO,
    detached: true, // its own process group, as a terminal's foreground job
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    // The first run on a machine builds the Temporal server from Go (2-4 minutes; more on a busy one).
    const timer = setTimeout(
      () => reject(new Error(`no "Use it" line within 900 s:\n${lines.join('\n')}\n${stderr}`)),
      900_000,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('Use it: ')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `npm run cluster exited (${code ?? signal}) before it was ready:\n${lines.join('\n')}\n${stderr}`,
        ),
      );
    });
  });
  const out = lines.join('\n');
  for (const part of ['PostgreSQL', 'Temporal server 1.', 'worker 1', 'worker 2', 'worker 3'])
    assert.ok(out.includes(part), `the table names ${part}:\n${out}`);
  assert.ok(out.includes(path.join(REPO, '.cluster')), `the cluster's data is in .cluster/:\n${out}`);

  process.kill(-child.pid!, 'SIGINT');
  const { code, signal } = await exited;
  assert.ok(code === 0 || signal === 'SIGINT', `cluster: exit code ${code}, signal ${signal}`);
  const left = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(path.join(REPO, '.cluster')) && !l.includes('ps -eo'));
  assert.deepEqual(left, [], 'no PostgreSQL or Temporal server left running');
}

test('the README order: npm start, Ctrl-C, then npm run cluster -- --workers 3 reaches ready', {
  timeout: 1_200_000,
}, async () => {
  // The mode the demo gives `.data/` in a fresh checkout (an older layout may have left it looser).
  if (demoDataExisted) fs.chmodSync(DEMO_DATA, 0o700);
  const outcomes = await runDemoUntilFresh();
  // `--agents 2` delivered-mode agents, and the demo's agent-held one besides.
  assert.equal(outcomes.length, 3, JSON.stringify(outcomes));
  assertDemoDataPrivate();

  await runClusterUntilReady();
  assertDemoDataPrivate();
});

test('npm start again after the cluster: the demo resumes its agents, .data/ still owner-only', {
  timeout: 600_000,
}, async () => {
  assert.deepEqual(await runDemoUntilFresh(), ['already-running', 'already-running', 'already-running']);
  assertDemoDataPrivate();
});
