/**
 * The dependency tree `npm ci` installs from the committed lock (issue 17, item 9):
 * - ethers 5 (which signs with agents' keys, also inside the Lit SDK) is 5.8.0 or newer everywhere,
 *   with the whole @ethersproject family, and elliptic is 6.6.1 or newer (GHSA-vjh7-7g9h-fjfh and
 *   two more advisories are fixed there; ethers 5.7.2 brought 6.5.4);
 * - every package in the lock with an install script has an allowScripts decision in package.json,
 *   checked offline by npm itself: `npm ci --dry-run --strict-allow-scripts` on the committed
 *   package.json and lock with an empty cache.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

const REPO = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const lock = JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deps-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** [name, version, lock path] of every package the lock installs. */
function lockPackages(): Array<[string, string, string]> {
  return Object.entries(lock.packages as Record<string, { version?: string; name?: string }>)
    .filter(([where, meta]) => where !== '' && meta.version)
    .map(([where, meta]) => [
      meta.name ?? where.slice(where.lastIndexOf('node_modules/') + 13),
      meta.version!,
      where,
    ]);
}

function compare(a: string, b: string): number {
  const [x, y] = [a, b].map((v) => v.split(/[-+]/)[0].split('.').map(Number));
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

describe('the locked ethers 5 and elliptic', () => {
  const all = lockPackages();

  test('every ethers 5 and @ethersproject package is >= 5.8.0, all one version', () => {
    const ethers5 = all.filter(
      ([n, v]) => (n === 'ethers' && v.startsWith('5.')) || n.startsWith('@ethersproject/'),
    );
    assert.ok(
      ethers5.some(([n]) => n === 'ethers'),
      'the lock has ethers 5',
    );
    const old = ethers5.filter(([, v]) => compare(v, '5.8.0') < 0).map(([n, v, w]) => `${n}@${v} (${w})`);
    assert.deepEqual(old, [], 'ethers 5 below 5.8.0');
    const ethersVersions = new Set(ethers5.filter(([n]) => n === 'ethers').map(([, v]) => v));
    assert.equal(ethersVersions.size, 1, `one ethers 5 in the tree: ${[...ethersVersions].join(', ')}`);
  });

  test('every elliptic is >= 6.6.1', () => {
    const elliptic = all.filter(([n]) => n === 'elliptic');
    assert.ok(elliptic.length > 0, 'the lock has elliptic (through @ethersproject/signing-key)');
    const old = elliptic.filter(([, v]) => compare(v, '6.6.1') < 0).map(([n, v, w]) => `${n}@${v} (${w})`);
    assert.deepEqual(old, [], 'elliptic below 6.6.1');
  });

  test('the installed tree is the locked one: ethers and the elliptic it signs with', () => {
    const ethersDir = path.dirname(require.resolve('ethers/package.json', { paths: [REPO] }));
    assert.ok(compare(require(path.join(ethersDir, 'package.json')).version, '5.8.0') >= 0);
    const signingKey = path.dirname(
      require.resolve('@ethersproject/signing-key/package.json', { paths: [ethersDir] }),
    );
    const elliptic = require.resolve('elliptic/package.json', { paths: [signingKey] });
    assert.ok(compare(require(elliptic).version, '6.6.1') >= 0, elliptic);
  });
});

describe('install scripts', () => {
  /** `npm ci --dry-run --strict-allow-scripts`, offline with an empty cache, on this package.json. */
  function strictDryRun(manifest: unknown, name: string) {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
    fs.copyFileSync(path.join(REPO, 'package-lock.json'), path.join(dir, 'package-lock.json'));
    return spawnSync(
      'npm',
      [
        'ci',
        '--dry-run',
        '--strict-allow-scripts',
        '--offline',
        '--cache',
        path.join(dir, '.npm-cache'),
        '--no-audit',
        '--no-fund',
      ],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, npm_config_allow_scripts: undefined } },
    );
  }

  test('npm (offline, --strict-allow-scripts) finds none in the lock without a decision', () => {
    const r = strictDryRun(pkg, 'committed');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /not covered by allowScripts|ESTRICTALLOWSCRIPTS/);
  });

  test('the check is real: without allowScripts the same dry run fails, naming the packages', () => {
    const { allowScripts: _, ...bare } = pkg;
    const r = strictDryRun(bare, 'bare');
    assert.notEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /ESTRICTALLOWSCRIPTS/);
    for (const name of Object.keys(pkg.allowScripts)) assert.match(r.stderr, new RegExp(`${name}@`));
  });

  test('each decision is recorded and is a decision (true or false), for a package the lock installs', () => {
    const installed = new Set(lockPackages().map(([n]) => n));
    for (const [key, decision] of Object.entries(pkg.allowScripts as Record<string, unknown>)) {
      assert.equal(typeof decision, 'boolean', key);
      const name = key.replace(/(?!^)@.*$/, '');
      assert.ok(installed.has(name), `${key}: not in the lock (npm install-scripts prune)`);
    }
  });
});
