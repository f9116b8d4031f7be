/**
 * The CLI runs whichever way its bin is reached. npm 11's `npx session-keeper` runs it from a link
 * in npm's own cache (~/.npm/_npx/<hash>/node_modules/.bin), a global install and a dependency's
 * node_modules/.bin through other links; none of them is `bin/session-keeper.js` in argv[1], and
 * each once printed nothing and exited 0. These run the README's commands as written, from the
 * repository root.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort } from '../../src/temporal/dev-server';
import { until } from '../polling';

const REPO = path.resolve(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entry-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function npx(args: string[]) {
  return spawnSync('npx', ['session-keeper', ...args], { cwd: REPO, encoding: 'utf8' });
}

describe('npx session-keeper from the repository root', () => {
  test('--help prints the usage with every command and exits 0', () => {
    const res = npx(['--help']);
    assert.equal(res.status, 0, res.stderr);
    for (const command of ['agent', 'rotate', 'setup', 'worker', 'devnet', 'demo', 'codec-server']) {
      assert.match(res.stdout, new RegExp(`\\n  ${command}\\b`), `${command} in the usage`);
    }
  });

  test('--version prints the package version', () => {
    const res = npx(['--version']);
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    assert.equal(res.stdout.trim(), version);
  });

  test('a bogus command exits non-zero with a one-line error', () => {
    const res = npx(['bogus']);
    assert.equal(res.status, 1);
    assert.equal(res.stdout, '');
    assert.deepEqual(res.stderr.trim().split('\n'), [
      "error: unknown command 'bogus' (see `session-keeper --help`)",
    ]);
  });

  test("a bad option names its own command's help", () => {
    const res = npx(['devnet', '--bogus']);
    assert.equal(res.status, 1);
    assert.match(
      res.stderr.trim(),
      /^error: unknown option '--bogus' \(see `session-keeper devnet --help`\)$/,
    );
  });

  test('no command exits non-zero with the usage', () => {
    const res = npx([]);
    assert.equal(res.status, 1);
    assert.match(res.stderr, /Usage: session-keeper/);
    assert.match(res.stderr, /error: no command given/);
    const group = npx(['agent']);
    assert.equal(group.status, 1, 'a command group without its sub-command fails too');
  });

  test('devnet --port P prints its JSON line', async () => {
    const port = await freePort();
    const child = spawn('npx', ['session-keeper', 'devnet', '--port', String(port)], {
      cwd: REPO,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const line = await until('the JSON line', () => out.split('\n').find((l) => l.startsWith('{')), {
        timeoutMs: 60_000,
      });
      const info = JSON.parse(line) as { rpcUrl: string; adminUrl: string };
      assert.equal(info.rpcUrl, `http://127.0.0.1:${port}`);
      assert.equal(info.adminUrl, `http://127.0.0.1:${port + 2}`);
    } finally {
      // npx, its shell and the CLI are one process group: stop them together.
      process.kill(-(child.pid as number), 'SIGTERM');
      await exited;
    }
  });

  test('through a symlink elsewhere (as a global install links it), the CLI still runs', () => {
    const link = path.join(tmp, 'session-keeper');
    fs.symlinkSync(path.join(REPO, 'bin', 'session-keeper.js'), link);
    const res = spawnSync(link, ['--help'], { cwd: tmp, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /Usage: session-keeper/);
    const bogus = spawnSync(link, ['bogus'], { cwd: tmp, encoding: 'utf8' });
    assert.equal(bogus.status, 1);
  });
});
