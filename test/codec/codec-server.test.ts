import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCODING_ENCRYPTED } from '../../src/codec/aes-gcm-codec';
import { type CodecServer, loadCodecServerToken, startCodecServer } from '../../src/codec/codec-server';
import { CodecConfigError } from '../../src/codec/keys';
import { payloadFromJson, payloadToJson } from '../../src/codec/payload-json';
import { keyring, newKey } from './helpers';

const TOKEN = 'test-token-0123456789abcdef';
const UI = 'http://localhost:8233';
const ring = keyring(['k1', newKey()]);
let server: CodecServer;

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
const auth = { Authorization: `Bearer ${TOKEN}` };
const sig = { sig: 'f00d'.repeat(32) };
const plainJson = () => payloadToJson(defaultPayloadConverter.toPayload(sig)!);

before(async () => {
  server = await startCodecServer({ keyring: ring, port: 0, token: TOKEN });
});
after(async () => {
  await server.close();
});

describe('codec server', () => {
  test('rejects requests without a token or with a wrong one (401)', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong-token-0123456789' },
      { Authorization: TOKEN },
      { Authorization: `Basic ${TOKEN}` },
    ];
    for (const headers of attempts) {
      const res = await post('/decode', { payloads: [] }, headers);
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.deepEqual(await res.json(), { error: 'missing or wrong bearer token' });
    }
  });

  test('encodes and decodes payloads in the JSON format of the Web UI and CLI', async () => {
    const enc = await post('/encode', { payloads: [plainJson(), plainJson()] }, auth);
    assert.equal(enc.status, 200);
    const encoded = (await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(encoded.payloads.length, 2);
    assert.equal(Buffer.from(encoded.payloads[0].metadata.encoding, 'base64').toString(), ENCODING_ENCRYPTED);
    assert.notEqual(encoded.payloads[0].data, encoded.payloads[1].data);
    // What the server encodes, the workers' codec decodes (same keys), and vice versa.
    const [viaWorker] = await new AesGcmPayloadCodec(ring).decode([payloadFromJson(encoded.payloads[0])]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(viaWorker), sig);

    const [fromWorker] = await new AesGcmPayloadCodec(ring).encode([defaultPayloadConverter.toPayload(sig)!]);
    const dec = await post('/default/decode', { payloads: [payloadToJson(fromWorker), plainJson()] }, auth);
    assert.equal(dec.status, 200);
    const decoded = (await dec.json()) as { payloads: unknown[] };
    assert.deepEqual(decoded.payloads, [plainJson(), plainJson()]);
    assert.equal(dec.headers.get('cache-control'), 'no-store');

    const empty = await post('/decode', {}, auth);
    assert.deepEqual(await empty.json(), { payloads: [] });
  });

  test('answers the CORS preflight for an allowed origin, and the request that follows', async () => {
    const pre = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: UI,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), UI);
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    const allowed = (pre.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const h of ['authorization', 'content-type', 'x-namespace']) assert.ok(allowed.includes(h), h);
    assert.match(pre.headers.get('vary') ?? '', /Origin/);
    assert.equal(pre.headers.get('access-control-allow-private-network'), null);

    // A UI on a public origin calling a codec server on localhost (Chrome's Private Network Access).
    const cloud = await startCodecServer({
      keyring: ring,
      port: 0,
      token: TOKEN,
      origins: ['https://cloud.temporal.io'],
    });
    try {
      const pna = await fetch(`${cloud.url}/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://cloud.temporal.io',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Private-Network': 'true',
        },
      });
      assert.equal(pna.status, 204);
      assert.equal(pna.headers.get('access-control-allow-origin'), 'https://cloud.temporal.io');
      assert.equal(pna.headers.get('access-control-allow-private-network'), 'true');
    } finally {
      await cloud.close();
    }

    const res = await post('/decode', { payloads: [plainJson()] }, { ...auth, Origin: UI });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), UI);
    const unauth = await post('/decode', { payloads: [] }, { Origin: UI });
    assert.equal(unauth.status, 401);
    assert.equal(unauth.headers.get('access-control-allow-origin'), UI, 'the UI can read the 401');
  });

  test('refuses other browser origins, preflight included (403, no CORS headers)', async () => {
    const pre = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(pre.status, 403);
    assert.equal(pre.headers.get('access-control-allow-origin'), null);
    const res = await post(
      '/decode',
      { payloads: [plainJson()] },
      { ...auth, Origin: 'https://evil.example' },
    );
    assert.equal(res.status, 403);
  });

  test('bad requests get clear errors', async () => {
    assert.equal((await fetch(`${server.url}/decode`, { headers: auth })).status, 405);
    assert.equal((await post('/other', { payloads: [] }, auth)).status, 404);
    assert.equal((await post('/decode', '{"payloads": [', auth)).status, 400);
    const notB64 = await post('/decode', { payloads: [{ metadata: { encoding: '%%%' } }] }, auth);
    assert.equal(notB64.status, 400);
    assert.match(
      ((await notB64.json()) as { error: string }).error,
      /payloads\[0\]\.metadata\.encoding must be a base64 string/,
    );
    const textPlain = await post('/decode', { payloads: [] }, { ...auth, 'Content-Type': 'text/plain' });
    assert.equal(textPlain.status, 415);

    const other = keyring(['k-unknown', newKey()]);
    const [foreign] = await new AesGcmPayloadCodec(other).encode([defaultPayloadConverter.toPayload(1)!]);
    const unknown = await post('/decode', { payloads: [payloadToJson(foreign)] }, auth);
    assert.equal(unknown.status, 400);
    assert.match(
      ((await unknown.json()) as { error: string }).error,
      /key id "k-unknown", which is not configured/,
    );
  });

  test('caps the body size', async () => {
    const small = await startCodecServer({ keyring: ring, port: 0, token: TOKEN, maxBodyBytes: 1024 });
    try {
      const res = await fetch(`${small.url}/decode`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...auth },
        body: JSON.stringify({ payloads: [{ data: 'A'.repeat(4096) }] }),
      });
      assert.equal(res.status, 413);
    } finally {
      await small.close();
    }
  });

  test('runs without a token only on a loopback host; a token must be long enough', async () => {
    const open = await startCodecServer({ keyring: ring, port: 0, token: null });
    try {
      const res = await post('/decode', { payloads: [] });
      assert.equal(res.status, 401, 'the shared server still wants its token');
      const direct = await fetch(`${open.url}/decode`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"payloads":[]}',
      });
      assert.equal(direct.status, 200);
    } finally {
      await open.close();
    }
    await assert.rejects(
      startCodecServer({ keyring: ring, port: 0, host: '0.0.0.0', token: null }),
      /refusing to run the codec server without a token on 0\.0\.0\.0/,
    );
    await assert.rejects(startCodecServer({ keyring: ring, port: 0, token: 'short' }), CodecConfigError);
    await assert.rejects(
      startCodecServer({ keyring: ring, port: 0, token: TOKEN, origins: ['not a url'] }),
      /is not a URL/,
    );
  });
});

describe('loadCodecServerToken', () => {
  test('required by default, with the fix in the message', () => {
    assert.throws(
      () => loadCodecServerToken({}),
      /SESSION_KEEPER_CODEC_SERVER_TOKEN is not set.*openssl rand -hex 32/,
    );
    assert.throws(() => loadCodecServerToken({ SESSION_KEEPER_CODEC_SERVER_TOKEN: 'abc' }), /at least 16/);
    assert.equal(loadCodecServerToken({ SESSION_KEEPER_CODEC_SERVER_TOKEN: TOKEN }), TOKEN);
    assert.equal(loadCodecServerToken({}, true), null);
  });
});
