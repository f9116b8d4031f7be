/**
 * The codec server's UI gateway (`--ui-upstream`, docker-compose.yml's codec-server): it serves the
 * Web UI and the UI's codec endpoint (`/codec`) on one origin behind one sign-in (HTTP Basic, the
 * token as password; Bearer for the CLI), never passes the credential on to the UI, serves only the
 * host names it is configured for, and keeps every refusal of the codec server.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../../src/codec/aes-gcm-codec';
import { type CodecServer, startCodecServer } from '../../src/codec/codec-server';
import { CodecConfigError } from '../../src/codec/keys';
import { payloadFromJson, payloadToJson } from '../../src/codec/payload-json';
import { freePort } from '../../src/temporal/dev-server';
import { keyring, newKey } from './helpers';

const TOKEN = 'gateway-token-0123456789abcdef';
const ring = keyring(['k1', newKey()]);
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const seen: Seen[] = [];
let ui: http.Server;
let uiUrl: string;
let gateway: CodecServer;
let port: number;
let origin: string;

before(async () => {
  ui = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'Content-Type': 'text/html', 'Set-Cookie': '_csrf=abc; Path=/' });
      res.end(`<html>ui ${req.method} ${req.url}</html>`);
    });
  });
  await new Promise<void>((resolve) => ui.listen(0, '127.0.0.1', resolve));
  uiUrl = `http://127.0.0.1:${(ui.address() as AddressInfo).port}`;
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  gateway = await startCodecServer({
    keyring: ring,
    port,
    token: TOKEN,
    origins: [origin, `http://localhost:${port}`],
    uiUpstream: uiUrl,
  });
});

after(async () => {
  await gateway.close();
  await new Promise((r) => ui.close(r));
});

/** A raw request, so the Host header can be anything. */
function request(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers: { Host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

async function encrypted(value: unknown) {
  const [p] = await new AesGcmPayloadCodec(ring).encode([defaultPayloadConverter.toPayload(value)!]);
  return payloadToJson(p);
}

describe('UI gateway', () => {
  test('asks the browser to sign in (401, Basic) before serving the UI; a wrong password is refused', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: basic('keeper', 'wrong-password-0123456789') },
    ];
    for (const headers of attempts) {
      const res = await request('GET', '/namespaces/default/workflows', headers);
      assert.equal(res.status, 401);
      assert.match(res.headers['www-authenticate'] ?? '', /^Basic realm="session-keeper"/);
    }
    assert.equal(seen.length, 0, 'nothing reached the UI');
  });

  test('proxies the UI (method, path, query, body, cookies) and never passes the credential on', async () => {
    const get = await request('GET', '/namespaces/default/workflows?query=a%20b', {
      Authorization: basic('anyone', TOKEN),
      Cookie: 'x=1',
    });
    assert.equal(get.status, 200);
    assert.equal(get.body, '<html>ui GET /namespaces/default/workflows?query=a%20b</html>');
    assert.deepEqual(get.headers['set-cookie'], ['_csrf=abc; Path=/']);
    const post = await request(
      'POST',
      '/api/v1/namespaces/default/workflows/x/terminate',
      { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', Origin: origin },
      '{"reason":"r"}',
    );
    assert.equal(post.status, 200);
    const [first, second] = seen.slice(-2);
    assert.equal(first.headers.authorization, undefined);
    assert.equal(first.headers.cookie, 'x=1');
    assert.equal(first.headers['x-forwarded-host'], `127.0.0.1:${port}`);
    assert.equal(first.headers.host, `127.0.0.1:${port}`, 'the UI sees the host the browser asked for');
    assert.equal(second.method, 'POST');
    assert.equal(second.body, '{"reason":"r"}');
    assert.equal(second.headers.authorization, undefined);
  });

  test('decodes at /codec/decode for the signed-in browser (same origin) and the CLI (Bearer)', async () => {
    const body = JSON.stringify({ payloads: [await encrypted({ agentId: 'gw-1' })] });
    const before = seen.length;
    const callers: Record<string, string>[] = [
      { Authorization: basic('keeper', TOKEN), Origin: origin },
      { Authorization: `Bearer ${TOKEN}` },
    ];
    for (const headers of callers) {
      const res = await request(
        'POST',
        '/codec/decode',
        { ...headers, 'Content-Type': 'application/json', 'X-Namespace': 'default' },
        body,
      );
      assert.equal(res.status, 200, res.body);
      const [p] = JSON.parse(res.body).payloads;
      assert.deepEqual(defaultPayloadConverter.fromPayload(payloadFromJson(p, 'p')), { agentId: 'gw-1' });
    }
    assert.equal(seen.length, before, 'codec requests are answered here, not by the UI');
  });

  test('the codec path keeps the codec server refusals: no sign-in, another origin, plain text', async () => {
    const body = JSON.stringify({ payloads: [] });
    const json = { 'Content-Type': 'application/json' };
    const noAuth = await request('POST', '/codec/decode', { ...json, Origin: origin }, body);
    assert.equal(noAuth.status, 401);
    const foreign = await request(
      'POST',
      '/codec/decode',
      { ...json, Origin: 'https://evil.example', Authorization: basic('k', TOKEN) },
      body,
    );
    assert.equal(foreign.status, 403);
    const text = await request(
      'POST',
      '/codec/decode',
      { 'Content-Type': 'text/plain', Authorization: basic('k', TOKEN) },
      body,
    );
    assert.equal(text.status, 415);
  });

  test('serves only the host names of its origins (a rebound DNS name gets 421)', async () => {
    const before = seen.length;
    for (const path of ['/', '/codec/decode']) {
      const res = await request('GET', path, {
        Host: `evil.example:${port}`,
        Authorization: basic('k', TOKEN),
      });
      assert.equal(res.status, 421);
    }
    const localhost = await request('GET', '/', {
      Host: `localhost:${port}`,
      Authorization: basic('k', TOKEN),
    });
    assert.equal(localhost.status, 200);
    assert.equal(seen.length, before + 1);
  });

  test('answers 502 when the UI does not', async () => {
    const down = await freePort();
    const g = await startCodecServer({
      keyring: ring,
      port: 0,
      token: TOKEN,
      origins: ['http://127.0.0.1:1'],
      uiUpstream: `http://127.0.0.1:${down}`,
    });
    try {
      const res = await fetch(`${g.url}/`, {
        headers: { Host: '127.0.0.1:1', Authorization: `Bearer ${TOKEN}` },
      });
      // fetch sets its own Host; the gateway refuses it as a host it does not serve.
      assert.equal(res.status, 421);
      const raw = await new Promise<number>((resolve, reject) => {
        const u = new URL(g.url);
        http
          .request(
            {
              host: u.hostname,
              port: u.port,
              path: '/',
              headers: { Host: '127.0.0.1:1', Authorization: `Bearer ${TOKEN}` },
            },
            (r) => {
              r.resume();
              resolve(r.statusCode ?? 0);
            },
          )
          .once('error', reject)
          .end();
      });
      assert.equal(raw, 502);
    } finally {
      await g.close();
    }
  });

  test('without a token the gateway runs on loopback only; a bad upstream or codec path is refused', async () => {
    await assert.rejects(
      startCodecServer({ keyring: ring, port: 0, host: '0.0.0.0', token: null, uiUpstream: uiUrl }),
      CodecConfigError,
    );
    await assert.rejects(
      startCodecServer({ keyring: ring, port: 0, token: TOKEN, uiUpstream: 'temporal-ui:8080' }),
      CodecConfigError,
    );
    await assert.rejects(
      startCodecServer({ keyring: ring, port: 0, token: TOKEN, uiUpstream: uiUrl, uiCodecPath: '/' }),
      CodecConfigError,
    );
  });
});

test('a Web UI that never answers: the gateway gives up at its idle deadline with 502, naming the UI', async () => {
  const silent = http.createServer(() => {
    // accepts the request and never answers
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const silentPort = await freePort();
  const hungGateway = await startCodecServer({
    keyring: ring,
    port: silentPort,
    token: TOKEN,
    origins: [`http://127.0.0.1:${silentPort}`],
    uiUpstream: silentUrl,
    uiUpstreamIdleTimeoutMs: 300,
  });
  try {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: silentPort,
          path: '/namespaces/default/workflows',
          headers: { Host: `127.0.0.1:${silentPort}`, Authorization: basic('me', TOKEN) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(answer.status, 502);
    assert.match(
      answer.body,
      new RegExp(`the Web UI at ${silentUrl} does not answer \\(no data for 300 ms\\)`),
    );
  } finally {
    await hungGateway.close();
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
  }
});
