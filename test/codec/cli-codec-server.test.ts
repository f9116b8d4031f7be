import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { describe, test } from 'node:test';
import { newKey } from './helpers';

const BIN = path.resolve(__dirname, '../../bin/session-keeper.js');
const TOKEN = 'cli-test-token-0123456789';

function run(args: string[], extraEnv: Record<string, string>): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, SESSION_KEEPER_FROM_SOURCE: '1', ...extraEnv };
  for (const k of Object.keys(env)) {
    if (k.startsWith('SESSION_KEEPER_CODEC') && !(k in extraEnv)) delete env[k];
  }
  return spawn(process.execPath, [BIN, 'codec-server', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function fails(args: string[], env: Record<string, string>): Promise<string> {
  const child = run(args, env);
  let stderr = '';
  child.stderr!.on('data', (c) => {
    stderr += c;
  });
  const [code] = await once(child, 'exit');
  assert.equal(code, 1);
  return stderr;
}

describe('session-keeper codec-server', () => {
  test('refuses to start without a token, without keys, or without auth on a public host', async () => {
    const keys = { SESSION_KEEPER_CODEC_KEYS: `k1:${newKey()}` };
    const [noToken, noKeys, publicNoAuth] = await Promise.all([
      fails(['--port', '0'], keys),
      fails(['--port', '0'], { SESSION_KEEPER_CODEC_SERVER_TOKEN: TOKEN }),
      fails(['--port', '0', '--no-auth', '--host', '0.0.0.0'], keys),
    ]);
    assert.match(noToken, /^error: SESSION_KEEPER_CODEC_SERVER_TOKEN is not set/);
    assert.match(noKeys, /^error: the codec server needs the codec keys: set SESSION_KEEPER_CODEC_KEYS/);
    assert.match(publicNoAuth, /^error: refusing to run the codec server without a token on 0\.0\.0\.0/);
  });

  test('serves /decode with the token and stops on SIGTERM', async () => {
    const child = run(['--port', '0', '--origin', 'https://ui.example.com'], {
      SESSION_KEEPER_CODEC_KEYS: `k1:${newKey()}`,
      SESSION_KEEPER_CODEC_SERVER_TOKEN: TOKEN,
    });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (c) => {
          out += c;
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      assert.match(out, /bearer token required/);
      assert.match(out, /CORS origins https:\/\/ui\.example\.com/);
      assert.ok(!out.includes(TOKEN), 'the token is never printed');
      const body = JSON.stringify({
        payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'MQ==' }],
      });
      const ok = await fetch(`${url}/decode`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
        body,
      });
      assert.equal(ok.status, 200);
      const denied = await fetch(`${url}/decode`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });
      assert.equal(denied.status, 401);
      const pre = await fetch(`${url}/decode`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://ui.example.com', 'Access-Control-Request-Method': 'POST' },
      });
      assert.equal(pre.headers.get('access-control-allow-origin'), 'https://ui.example.com');
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
