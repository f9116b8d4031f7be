/**
 * `npm run cluster -- --workers 3`, exactly as the README shows it: it must bring up PostgreSQL,
 * the Temporal server and three workers with the devnet, print what runs where and how to use it;
 * an agent started with the printed environment (`npx session-keeper agent start`) gets sigs from
 * those workers; Ctrl-C (SIGINT to its process group) stops everything with exit code 0.
 * Run twice on the same data directory (the default, `.cluster/`): the second run finds the
 * database and the agent from the first.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { ethers } from 'ethers';
import { runCli } from '../client/harness';

const REPO = path.resolve(__dirname, '..', '..');
const AGENT = 'cluster-command-1';
const wallet = ethers.Wallet.createRandom();
const children: ChildProcess[] = [];

after(() => {
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
});

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(TEMPORAL_|LIT_NETWORKS|SESSION_KEEPER_)/.test(k)) delete env[k];
  return env;
}

interface Run {
  child: ChildProcess;
  lines: string[];
  /** The `Use it:` line's variables. */
  useIt: Promise<Record<string, string>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startCluster(): Run {
  const child = spawn('npm', ['run', 'cluster', '--', '--workers', '3'], {
    cwd: REPO,
    detached: true, // its own process group, as a terminal's foreground job
    // The workers inherit the environment: the agent's key reaches them as env:CLUSTER_COMMAND_KEY.
    env: { ...cleanEnv(), CLUSTER_COMMAND_KEY: wallet.privateKey },
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
  const useIt = new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "Use it" line within 600 s:\n${lines.join('\n')}\n${stderr}`)),
      600_000,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('Use it: ')) {
        clearTimeout(timer);
        resolve(Object.fromEntries([...line.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]])));
      }
    });
    void exited.then(({ code }) =>
      reject(
        new Error(`npm run cluster exited (${code}) before it was ready:\n${lines.join('\n')}\n${stderr}`),
      ),
    );
  });
  return { child, lines, useIt, exited };
}

function pidsIn(lines: string[]): number[] {
  return lines.flatMap((l) => [...l.matchAll(/pid (\d+)/g)].map((m) => Number(m[1])));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function stop(run: Run): Promise<void> {
  process.kill(-run.child.pid!, 'SIGINT');
  const { code, signal } = await run.exited;
  // npm passes Ctrl-C to the script and then re-raises it on itself.
  assert.ok(code === 0 || signal === 'SIGINT', `exit code ${code}, signal ${signal}`);
  const left = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(path.join(REPO, '.cluster')) && !l.includes('ps -eo'));
  assert.deepEqual(left, [], 'no PostgreSQL or Temporal server left running');
  for (const pid of pidsIn(run.lines)) assert.equal(alive(pid), false, `worker pid ${pid} still runs`);
}

test('npm run cluster -- --workers 3: an agent gets sigs from its workers; Ctrl-C stops everything', {
  timeout: 900_000,
}, async () => {
  const run = startCluster();
  // The user's shell has the key the workers inherited: the CLI checks the reference resolves.
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    CLUSTER_COMMAND_KEY: wallet.privateKey,
    ...(await run.useIt),
  };
  assert.ok(
    env.TEMPORAL_ADDRESS && env.LIT_NETWORKS_FILE && env.SESSION_KEEPER_CODEC_KEYS_FILE,
    JSON.stringify(env),
  );
  const out = run.lines.join('\n');
  for (const part of ['PostgreSQL', 'Temporal server 1.', 'Lit devnet', 'worker 1', 'worker 2', 'worker 3']) {
    assert.ok(out.includes(part), `the table names ${part}:\n${out}`);
  }
  const started = await runCli(
    [
      'agent',
      'start',
      AGENT,
      '--network',
      'devnet',
      '--mode',
      'eoa',
      '--signer',
      'env:CLUSTER_COMMAND_KEY',
      '--ttl',
      '1h',
    ],
    env,
  );
  assert.equal(started.code, 0, started.stderr);
  const sigs = await runCli(['agent', 'sigs', AGENT, '--wait', '2m'], env);
  assert.equal(sigs.code, 0, sigs.stderr);
  const parsed = JSON.parse(sigs.stdout) as Record<string, { address: string; signedMessage: string }>;
  assert.ok(Object.keys(parsed).length >= 2, 'one sig per devnet node');
  assert.ok(
    Object.values(parsed)[0].signedMessage.includes(wallet.address),
    'the sigs carry the agent wallet',
  );
  await stop(run);
});

test('a second run on the same data directory finds the agent of the first', {
  timeout: 900_000,
}, async () => {
  const run = startCluster();
  const env = { ...cleanEnv(), ...(await run.useIt) };
  const status = await runCli(['agent', 'status', AGENT, '-o', 'json'], env);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).agentId, AGENT);
  const stopped = await runCli(['agent', 'stop', AGENT, '--wait'], env);
  assert.equal(stopped.code, 0, stopped.stderr);
  await stop(run);
});
