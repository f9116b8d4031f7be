/**
 * `--profile` / `--config-file` (and TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE) through the real CLI
 * (`npx session-keeper …`) against a real Temporal dev server: the profile's address is the only
 * place the server's address is given.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { executableOption } from '../../src/temporal/binaries';
import { runCli } from '../client/harness';

describe('temporal.toml profiles in the CLI', () => {
  let env: TestWorkflowEnvironment;
  let childEnv: NodeJS.ProcessEnv;
  let dir: string;
  let configFile: string;

  before(async () => {
    env = await TestWorkflowEnvironment.createLocal({ server: { executable: executableOption('temporal') } });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-profile-'));
    configFile = path.join(dir, 'temporal.toml');
    // The default profile points at a closed port: only selecting "keeper" reaches the server.
    fs.writeFileSync(
      configFile,
      `[profile.default]\naddress = "127.0.0.1:1"\n\n[profile.keeper]\naddress = "${env.address}"\nnamespace = "default"\n`,
    );
    childEnv = { ...process.env };
    for (const k of Object.keys(childEnv))
      if (/^(TEMPORAL_|LIT_NETWORKS|SESSION_KEEPER_)/.test(k)) delete childEnv[k];
    childEnv.HOME = dir; // no temporal.toml at the default location
    childEnv.SESSION_KEEPER_CODEC_KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
  });
  after(async () => {
    await env?.teardown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('--profile selects the profile whose address is the dev server', async () => {
    const r = await runCli(
      ['setup', '--profile', 'keeper', '--config-file', configFile, '-o', 'json'],
      childEnv,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Array.isArray(JSON.parse(r.stdout).searchAttributes));
  });

  test('TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE do the same', async () => {
    const r = await runCli(['setup'], {
      ...childEnv,
      TEMPORAL_PROFILE: 'keeper',
      TEMPORAL_CONFIG_FILE: configFile,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /already has every search attribute; nothing to do/);
  });

  test('a wrong profile name exits non-zero with a one-line error naming the flag and the fix', async () => {
    const r = await runCli(['setup', '--profile', 'nope', '--config-file', configFile], childEnv);
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /^error: Temporal profile "nope" \(--profile\) is not in .*temporal\.toml \(profiles there: default, keeper\); add a \[profile\.nope\] table/,
    );
  });

  test('a --config-file that does not exist exits non-zero with a one-line error', async () => {
    const r = await runCli(['setup', '--config-file', path.join(dir, 'missing.toml')], childEnv);
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: Temporal config file .*missing\.toml \(--config-file\) does not exist/);
  });
});
