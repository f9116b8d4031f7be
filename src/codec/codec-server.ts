/**
 * Codec server: lets the Temporal Web UI and CLI show decrypted payloads without the keys ever
 * reaching the Temporal service. Speaks Temporal's codec server protocol:
 *
 *   POST {endpoint}/decode and POST {endpoint}/encode (also /{namespace}/decode for CLI templating)
 *   Content-Type: application/json, X-Namespace: <namespace>, Authorization: Bearer <token>
 *   body and answer: {"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}
 *
 * Safe by default: binds to 127.0.0.1, requires a bearer token (compared in constant time), answers
 * CORS only for the configured origins and refuses requests from any other browser origin (so a
 * web page cannot use it, DNS rebinding included), requires a JSON content type (forcing a CORS
 * preflight) and caps the body size. Running without a token is possible only on a loopback host.
 *
 * UI gateway (`uiUpstream`): the Web UI sends no credentials to a codec server (it has no place for
 * a static token), so a token-protected codec server cannot decode for it. With `uiUpstream` this
 * server also serves the Web UI itself: every request is proxied to the UI, except
 * `{uiCodecPath}/decode` and `/encode` (the UI's codec endpoint, set to the relative `/codec`),
 * which it answers here. UI and codec then share one origin and one credential: the browser
 * authenticates once with HTTP Basic (any user name, the token as password; a Bearer header works
 * too, for the Temporal CLI), keeps it in its own credential store and sends it on every
 * same-origin request; the UI's code and configuration never hold the token, the UI server never
 * sees it (the header is removed before proxying), and no codec port is exposed of its own. Only
 * requests whose Host is one of the configured origins are served, so a rebound DNS name cannot
 * reach the UI either.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { AesGcmPayloadCodec, PayloadDecryptionError } from './aes-gcm-codec';
import { CodecConfigError, type CodecKeyring } from './keys';
import { PayloadJsonError, payloadFromJson, payloadToJson } from './payload-json';
import { isLoopbackHost } from './policy';

export const CODEC_SERVER_TOKEN_ENV = 'SESSION_KEEPER_CODEC_SERVER_TOKEN';
export const DEFAULT_CODEC_SERVER_HOST = '127.0.0.1';
export const DEFAULT_CODEC_SERVER_PORT = 8888;
/** The dev server's bundled UI (`temporal server start-dev`) and the self-hosted UI's default port. */
export const DEFAULT_UI_ORIGINS: readonly string[] = [
  'http://localhost:8233',
  'http://127.0.0.1:8233',
  'http://localhost:8080',
  'http://127.0.0.1:8080',
];
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
export const MIN_TOKEN_LENGTH = 16;
/** The UI gateway gives up on a Web UI request idle this long. */
export const UI_UPSTREAM_IDLE_TIMEOUT_MS = 60_000;
/** The UI gateway's codec path: the UI's codec endpoint (`TEMPORAL_CODEC_ENDPOINT=/codec`). */
export const DEFAULT_UI_CODEC_PATH = '/codec';

export interface CodecServerOptions {
  keyring: CodecKeyring;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8888; 0 picks a free port. */
  port?: number;
  /** Browser origins allowed to call (the Web UI's origin). Default `DEFAULT_UI_ORIGINS`. */
  origins?: readonly string[];
  /** Bearer token every request must carry; `null` disables auth (loopback hosts only). */
  token: string | null;
  maxBodyBytes?: number;
  /**
   * Serve the Temporal Web UI at this URL through this server (the UI gateway, see above); the
   * UI's codec endpoint is then `uiCodecPath` on the same origin.
   */
  uiUpstream?: string;
  /** Where the UI gateway answers codec requests. Default `/codec`. */
  uiCodecPath?: string;
  /** The UI gateway gives up on a Web UI request idle this long (default UI_UPSTREAM_IDLE_TIMEOUT_MS). */
  uiUpstreamIdleTimeoutMs?: number;
  /** Called once per request after it is answered; never receives payloads or tokens. */
  onRequest?: (info: {
    method: string;
    path: string;
    status: number;
    namespace?: string;
    payloads?: number;
  }) => void;
}

export interface CodecServer {
  /** `http://host:port`; configure it as the UI's codec endpoint / the CLI's `--codec-endpoint`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Reads `SESSION_KEEPER_CODEC_SERVER_TOKEN` (or the file named by `SESSION_KEEPER_CODEC_SERVER_TOKEN_FILE`,
 * for Docker secrets). Throws `CodecConfigError` when it is missing or too
 * short, unless `allowMissing` (the caller's `--no-auth`), in which case it returns `null`.
 */
export function loadCodecServerToken(
  env: NodeJS.ProcessEnv = process.env,
  allowMissing = false,
): string | null {
  const tokenFile = env[`${CODEC_SERVER_TOKEN_ENV}_FILE`];
  let token = env[CODEC_SERVER_TOKEN_ENV]?.trim();
  if (!token && tokenFile) {
    try {
      token = fs.readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new CodecConfigError(
        `${CODEC_SERVER_TOKEN_ENV}_FILE=${tokenFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? err}); fix the path`,
      );
    }
  }
  if (!token) {
    if (allowMissing) return null;
    throw new CodecConfigError(
      `${CODEC_SERVER_TOKEN_ENV} is not set; the codec server decrypts session sigs for whoever calls it, so it requires a ` +
        `bearer token: set it, e.g. ${CODEC_SERVER_TOKEN_ENV}=$(openssl rand -hex 32), and pass it as ` +
        '`temporal … --codec-auth "Bearer <token>"` (or use --no-auth on a loopback host for local use only)',
    );
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new CodecConfigError(
      `${CODEC_SERVER_TOKEN_ENV} is ${token.length} characters, at least ${MIN_TOKEN_LENGTH} are required; ` +
        'generate one with `openssl rand -hex 32`',
    );
  }
  return token;
}

/** Normalises an origin (`scheme://host[:port]`, no path). Throws `CodecConfigError` on anything else. */
export function normaliseOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new CodecConfigError(
      `origin "${origin}" is not a URL; give the Web UI's origin, e.g. http://localhost:8233`,
    );
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    (url.pathname !== '/' && url.pathname !== '')
  ) {
    throw new CodecConfigError(
      `origin "${origin}" must be scheme://host[:port] with no path, e.g. https://temporal-ui.example.com`,
    );
  }
  return url.origin;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ROUTE = /^\/(?:[^/]+\/)*(encode|decode)\/?$/;

export async function startCodecServer(opts: CodecServerOptions): Promise<CodecServer> {
  const host = opts.host ?? DEFAULT_CODEC_SERVER_HOST;
  const port = opts.port ?? DEFAULT_CODEC_SERVER_PORT;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const origins = new Set((opts.origins ?? DEFAULT_UI_ORIGINS).map(normaliseOrigin));
  if (opts.token === null && !isLoopbackHost(host)) {
    throw new CodecConfigError(
      `refusing to run the codec server without a token on ${host}: anyone who can reach it could decrypt session sigs; ` +
        `set ${CODEC_SERVER_TOKEN_ENV} or bind to 127.0.0.1`,
    );
  }
  if (opts.token !== null && opts.token.length < MIN_TOKEN_LENGTH) {
    throw new CodecConfigError(`the codec server token must be at least ${MIN_TOKEN_LENGTH} characters`);
  }
  const expected = opts.token === null ? null : digest(opts.token);
  const codec: PayloadCodec = new AesGcmPayloadCodec(opts.keyring);
  const upstream = opts.uiUpstream === undefined ? undefined : parseUpstream(opts.uiUpstream);
  const uiCodecPath = normaliseCodecPath(opts.uiCodecPath ?? DEFAULT_UI_CODEC_PATH);
  const allowedHosts = new Set([...origins].map((o) => new URL(o).host));

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error' }));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://codec.invalid').pathname;
    const namespace = headerValue(req.headers['x-namespace']);
    const origin = headerValue(req.headers.origin);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      Vary: 'Origin',
    };
    let payloadCount: number | undefined;
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { ...headers, ...extra });
      res.end(status === 204 ? undefined : JSON.stringify(body));
      opts.onRequest?.({ method, path, status, namespace, payloads: payloadCount });
    };
    try {
      if (upstream) {
        // The gateway serves only the names it is reached by (a rebound DNS name gets nothing).
        const host = headerValue(req.headers.host)?.toLowerCase();
        if (host === undefined || !allowedHosts.has(host)) {
          throw new HttpError(
            421,
            `host ${host ?? '(none)'} is not one this UI gateway serves; add its origin with --origin`,
          );
        }
      }
      // A browser always sends Origin on cross-origin requests and on POST: only listed origins pass.
      if (origin !== undefined) {
        if (!origins.has(origin)) throw new HttpError(403, `origin ${origin} is not allowed`);
        headers['Access-Control-Allow-Origin'] = origin;
        headers['Access-Control-Allow-Credentials'] = 'true';
      }
      const codecPath = upstream ? stripPrefix(path, uiCodecPath) : path;
      if (upstream && codecPath === undefined) {
        if (expected !== null && !authorised(req.headers.authorization, expected, upstream !== undefined)) {
          headers['WWW-Authenticate'] = 'Basic realm="session-keeper", charset="UTF-8"';
          throw new HttpError(401, 'sign in: any user name, the codec server token as password');
        }
        proxy(req, res, upstream, opts.uiUpstreamIdleTimeoutMs ?? UI_UPSTREAM_IDLE_TIMEOUT_MS, () =>
          opts.onRequest?.({ method, path, status: res.statusCode, namespace: undefined }),
        );
        return;
      }
      const route = codecPath === undefined ? null : ROUTE.exec(codecPath);
      if (!route) throw new HttpError(404, 'not found; use POST /encode or POST /decode');
      if (method === 'OPTIONS') {
        const preflight: Record<string, string> = {
          'Access-Control-Allow-Methods': 'POST, OPTIONS',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Namespace',
          'Access-Control-Max-Age': '600',
        };
        // Chrome's Private Network Access: a UI on a public origin (e.g. Temporal Cloud's) calling localhost.
        if (
          origin !== undefined &&
          headerValue(req.headers['access-control-request-private-network']) === 'true'
        ) {
          preflight['Access-Control-Allow-Private-Network'] = 'true';
        }
        answer(204, undefined, preflight);
        return;
      }
      if (method !== 'POST') throw new HttpError(405, 'use POST');
      if (expected !== null && !authorised(req.headers.authorization, expected, upstream !== undefined)) {
        headers['WWW-Authenticate'] = upstream
          ? 'Basic realm="session-keeper", charset="UTF-8"'
          : 'Bearer realm="session-keeper codec"';
        throw new HttpError(401, 'missing or wrong bearer token');
      }
      const contentType = headerValue(req.headers['content-type'])?.split(';')[0].trim().toLowerCase();
      if (contentType !== 'application/json') throw new HttpError(415, 'send Content-Type: application/json');
      const body = await readBody(req, maxBody);
      const input = parsePayloads(body);
      payloadCount = input.length;
      let output: Payload[];
      try {
        output = route[1] === 'encode' ? await codec.encode(input) : await codec.decode(input);
      } catch (err) {
        if (err instanceof PayloadDecryptionError) throw new HttpError(400, err.message);
        throw err;
      }
      answer(200, { payloads: output.map(payloadToJson) });
    } catch (err) {
      if (err instanceof HttpError) {
        answer(err.status, { error: err.message });
        return;
      }
      throw err;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** `Bearer <token>`, or `Basic base64(<any user>:<token>)` (what a browser sends after its sign-in prompt). */
function authorised(header: string | undefined, expected: Buffer, allowBasic: boolean): boolean {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (bearer) return timingSafeEqual(digest(bearer[1]), expected);
  if (!allowBasic) return false;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!basic) return false;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return timingSafeEqual(digest(decoded.slice(colon + 1)), expected);
}

function parseUpstream(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CodecConfigError(
      `UI upstream "${url}" is not a URL; give the Web UI's address, e.g. http://temporal-ui:8080`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new CodecConfigError(`UI upstream "${url}" must be an http:// or https:// URL`);
  }
  return u;
}

function normaliseCodecPath(p: string): string {
  const trimmed = `/${p.trim().replace(/^\/+|\/+$/g, '')}`;
  if (trimmed === '/' || !/^\/[A-Za-z0-9._~/-]+$/.test(trimmed)) {
    throw new CodecConfigError(`UI codec path "${p}" must be a path such as /codec`);
  }
  return trimmed;
}

/** `/codec/decode` under `/codec` is `/decode`; a path outside the prefix is `undefined`. */
function stripPrefix(path: string, prefix: string): string | undefined {
  if (path === prefix) return '/';
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the credential, which stays with this server. */
const NOT_FORWARDED = new Set([
  'authorization',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Streams the request to the Web UI and its answer back; the browser's credential is not passed on. */
function proxy(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  upstream: URL,
  idleTimeoutMs: number,
  done: () => void,
): void {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !NOT_FORWARDED.has(name)) headers[name] = value;
  }
  // Host stays the browser's: the UI builds its redirects from it and may compare it with Origin.
  headers['x-forwarded-host'] = headerValue(req.headers.host) ?? '';
  headers['x-forwarded-proto'] = 'http';
  const target = new URL(req.url ?? '/', upstream);
  const send = target.protocol === 'https:' ? https.request : http.request;
  const out = send(target, { method: req.method, headers }, (answer) => {
    const back: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !NOT_FORWARDED.has(name)) back[name] = value;
    }
    res.writeHead(answer.statusCode ?? 502, back);
    answer.pipe(res);
    answer.once('end', done);
  });
  out.once('error', (err) => {
    if (!res.headersSent) {
      res.writeHead(502, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ error: `the Web UI at ${upstream.origin} does not answer (${err.message})` }));
      done();
    } else {
      res.destroy(err);
    }
  });
  // A UI that stops answering must not hold the browser's request (and a socket) forever. Idle
  // time, not total: the answer streams through (piped, so memory stays bounded by backpressure).
  out.setTimeout(idleTimeoutMs, () => out.destroy(new Error(`no data for ${idleTimeoutMs} ms`)));
  req.pipe(out);
}

function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > max) {
        failed = true;
        reject(new HttpError(413, `body larger than ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

function parsePayloads(body: Buffer): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON; send {"payloads": [...]}');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpError(400, 'body must be {"payloads": [...]}');
  }
  // proto3 JSON leaves out an empty list: the CLI sends {} for "no payloads".
  const list = (parsed as { payloads?: unknown }).payloads ?? [];
  if (!Array.isArray(list)) throw new HttpError(400, 'body must be {"payloads": [...]}');
  return list.map((p, i) => {
    try {
      return payloadFromJson(p, `payloads[${i}]`);
    } catch (err) {
      if (err instanceof PayloadJsonError) throw new HttpError(400, err.message);
      throw err;
    }
  });
}
