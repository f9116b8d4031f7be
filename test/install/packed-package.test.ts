/**
 * The package as users install it: `npm pack`, then `npm install ./lit-session-keeper-*.tgz` into an
 * empty folder, then the installed `npx session-keeper` (compiled JavaScript, no tsx in the
 * install) runs --help, refuses a bogus command, runs the devnet and a worker that mints real
 * session sigs for an agent started through the installed CLI; `require` and `import` of the
 * client library work.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Wallet } from 'ethers';
import { startDevnet } from '../../src/devnet';
import { type DevServer, freePort, startDevServer } from '../../src/temporal/dev-server';
import { until } from '../polling';

const REPO = path.resolve(__dirname, '..', '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'packed-'));
const children: ChildProcess[] = [];

function npx(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync('npx', ['--no-install', 'session-keeper', ...args], { cwd: dir, env, encoding: 'utf8' });
}

/** Starts a long-running installed command in its own process group (npx, sh and node). */
function npxServe(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn('npx', ['--no-install', 'session-keeper', ...args], {
    cwd: dir,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  return { child, output: () => out };
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
    return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return Promise.resolve();
  }
  return exited;
}

before(() => {
  // prepack builds dist/ (tsc) first, so the tarball holds what the sources say now.
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
    cwd: REPO,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop() as string;
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"packed-consumer","private":true}\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', `./${tarball}`], { cwd: dir, stdio: 'ignore' });
});

after(async () => {
  for (const child of children) await stopGroup(child);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the packed package installed into an empty folder', () => {
  test('ships compiled JavaScript only, and no tsx', () => {
    const installed = path.join(dir, 'node_modules', 'lit-session-keeper');
    assert.ok(fs.existsSync(path.join(installed, 'dist', 'cli', 'main.js')));
    assert.ok(fs.existsSync(path.join(installed, 'dist', 'index.d.ts')));
    assert.equal(fs.existsSync(path.join(installed, 'src')), false);
    assert.equal(fs.existsSync(path.join(dir, 'node_modules', 'tsx')), false);
  });

  test('npx session-keeper --help prints the usage; a bogus command and no command fail', () => {
    const help = npx(['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Usage: session-keeper/);
    assert.match(help.stdout, /worker/);
    const bogus = npx(['bogus']);
    assert.equal(bogus.status, 1);
    assert.equal(bogus.stderr.trim().split('\n').length, 1, bogus.stderr);
    assert.match(bogus.stderr, /unknown command 'bogus'/);
    const none = npx([]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no command given/);
  });

  test('require() and import of the client library', () => {
    const cjs = spawnSync(
      process.execPath,
      [
        '-e',
        "const k=require('lit-session-keeper');console.log(typeof k.createKeeperClient,k.workflowIdFor('a'))",
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(cjs.stdout.trim(), 'function lit-session/a', cjs.stderr);
    const esm = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import {parseAgentSpec} from 'lit-session-keeper';console.log(typeof parseAgentSpec)",
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(esm.stdout.trim(), 'function', esm.stderr);
  });

  test('npx session-keeper devnet --port P prints its JSON line', async () => {
    const port = await freePort();
    const devnet = npxServe(['devnet', '--port', String(port)], process.env);
    const line = await until(
      'the devnet JSON line',
      () =>
        devnet
          .output()
          .split('\n')
          .find((l) => l.startsWith('{"rpcUrl"')),
      {
        timeoutMs: 60_000,
      },
    );
    const info = JSON.parse(line) as { rpcUrl: string; nodeUrls: string[] };
    assert.equal(info.rpcUrl, `http://127.0.0.1:${port}`);
    assert.equal(info.nodeUrls.length, 3);
    await stopGroup(devnet.child);
  });

  describe('the installed worker and CLI against a real dev server and the devnet', () => {
    let server: DevServer;
    let devnet: Awaited<ReturnType<typeof startDevnet>>;
    before(async () => {
      server = await startDevServer();
      devnet = await startDevnet({ blockTimeMs: 500 });
    });
    after(async () => {
      for (const child of children) await stopGroup(child);
      await server?.stop();
      await devnet?.close();
    });

    test('an agent started with the installed CLI gets sigs minted by the installed worker', async () => {
      const wallet = Wallet.createRandom();
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: server.address,
        LIT_NETWORKS: JSON.stringify({ networks: { devnet: devnet.networkConfig() } }),
        SESSION_KEEPER_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
        PACKED_AGENT_KEY: wallet.privateKey,
      };
      const worker = npxServe(['worker'], env);
      const start = npx(
        [
          'agent',
          'start',
          'packed-1',
          '--network',
          'devnet',
          '--mode',
          'eoa',
          '--signer',
          'env:PACKED_AGENT_KEY',
          '--ttl',
          '10m',
        ],
        env,
      );
      assert.equal(start.status, 0, start.stderr);
      const sigs = await until(
        'sigs from the installed worker',
        () => {
          const res = npx(['agent', 'sigs', 'packed-1'], env);
          return res.status === 0
            ? (JSON.parse(res.stdout) as Record<string, { address: string }>)
            : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 1_000 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nworker output:\n${worker.output().slice(-2000)}`);
      });
      assert.deepEqual(Object.keys(sigs).sort(), [...devnet.nodeUrls].sort());
      assert.equal(
        worker.output().includes(wallet.privateKey.slice(2)),
        false,
        'the key never reaches the logs',
      );
    });
  });
});
