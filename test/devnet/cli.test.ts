/** `npx session-keeper devnet` as a user (or a chaos-test harness) runs it: a child process. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { freePortRange } from '../ports';

const BIN = join(__dirname, '..', '..', 'bin', 'session-keeper.js');
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Run {
  child: ChildProcess;
  firstLine: Promise<string>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const firstLine = new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => resolve(line));
    exited.then(() => reject(new Error(`devnet exited before printing a line; stderr: ${err}`)));
  });
  // Runs that are expected to fail never read the line.
  firstLine.catch(() => {});
  return { child, firstLine, stdout: () => out, stderr: () => err, exited };
}

test('devnet --help lists its options', async () => {
  const r = run(['devnet', '--help']);
  const { code } = await r.exited;
  assert.equal(code, 0);
  for (const flag of [
    '--nodes',
    '--threshold',
    '--block-time',
    '--port',
    '--write-config',
    '--network-name',
    '--lit-action-memory',
  ]) {
    assert.ok(r.stdout().includes(flag), `help mentions ${flag}`);
  }
  for (const route of [
    'POST /pkps ',
    'POST /lit-actions',
    'POST /pkps/permitted-actions',
    'POST /faults',
    'POST /chain-faults',
    'POST /epoch',
    'POST /clock',
    'GET  /stats',
  ]) {
    assert.ok(r.stdout().includes(route), `help lists the admin route ${route}`);
  }
});

describe('devnet', () => {
  test('prints one JSON line, serves, writes the config, and exits 0 on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'devnet-cli-'));
    const configFile = join(dir, 'networks.json');
    await writeFile(configFile, JSON.stringify({ networks: { other: { rpcUrl: 'http://x' } }, keep: true }));
    const r = run([
      'devnet',
      '--nodes',
      '4',
      '--threshold',
      '3',
      '--block-time',
      '200ms',
      '--write-config',
      configFile,
      '--network-name',
      'local',
    ]);
    const info = JSON.parse(await r.firstLine);
    assert.deepEqual(Object.keys(info).sort(), [
      'adminUrl',
      'blockIndexerUrl',
      'networkPublicKey',
      'nodeUrls',
      'rpcUrl',
      'stakingAddress',
    ]);
    assert.equal(info.nodeUrls.length, 4);
    assert.match(info.networkPublicKey, /^[0-9a-f]{96}$/);

    const stats: any = await (await fetch(`${info.adminUrl}/stats`)).json();
    assert.equal(stats.threshold, 3);
    const chainId: any = await (
      await fetch(info.rpcUrl, {
        method: 'POST',
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      })
    ).json();
    assert.equal(chainId.result, '0x7a69');
    const block: any = await (await fetch(info.blockIndexerUrl)).json();
    assert.match(block.blockhash, /^0x[0-9a-f]{64}$/);

    const config = JSON.parse(await readFile(configFile, 'utf8'));
    assert.deepEqual(config.networks.local, {
      rpcUrl: info.rpcUrl,
      stakingAddress: info.stakingAddress,
      blockIndexerUrl: info.blockIndexerUrl,
      minNodeCount: 3,
    });
    assert.deepEqual(config.networks.other, { rpcUrl: 'http://x' }, 'other networks are kept');
    assert.equal(config.keep, true);

    r.child.kill('SIGTERM');
    const { code } = await r.exited;
    assert.equal(code, 0);
    assert.equal(r.stdout().trim().split('\n').length, 1, 'stdout holds exactly one line');
    assert.match(r.stderr(), /devnet started/, 'logs go to stderr');
    await assert.rejects(fetch(`${info.adminUrl}/stats`), 'the servers are gone');
  });

  test('SIGINT stops it too, and --port pins consecutive ports', async () => {
    const base = await freePortRange(6);
    const r = run(['devnet', '--port', String(base), '--block-time', '1s']);
    const info = JSON.parse(await r.firstLine);
    assert.equal(info.rpcUrl, `http://127.0.0.1:${base}`);
    assert.equal(info.blockIndexerUrl, `http://127.0.0.1:${base + 1}/get_most_recent_valid_block`);
    assert.equal(info.adminUrl, `http://127.0.0.1:${base + 2}`);
    assert.deepEqual(
      info.nodeUrls,
      [3, 4, 5].map((i) => `http://127.0.0.1:${base + i}`),
    );
    r.child.kill('SIGINT');
    assert.equal((await r.exited).code, 0);
  });

  const bad: [string, string[]][] = [
    ['zero nodes', ['--nodes', '0']],
    ['a threshold above the node count', ['--nodes', '2', '--threshold', '3']],
    ['a block time that is not a duration', ['--block-time', 'often']],
    ['an invalid network name', ['--network-name', 'My Net']],
  ];
  for (const [name, args] of bad) {
    test(`refuses ${name} with a one-line error and a non-zero exit`, async () => {
      const r = run(['devnet', ...args]);
      const { code } = await r.exited;
      assert.notEqual(code, 0);
      assert.equal(r.stdout(), '');
      assert.match(r.stderr(), /error/);
    });
  }
});
