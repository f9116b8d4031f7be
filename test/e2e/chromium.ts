/**
 * Headless Chromium driven through the DevTools protocol, with no npm dependency: Debian's
 * `chromium` (installed with apt-get when missing, as .ci/run installs docker-compose), its
 * DevTools HTTP endpoint for the page target, and a minimal WebSocket client (RFC 6455: masked text
 * frames out, unmasked frames in) on `node:http`'s upgrade. Enough to load a page, answer the
 * browser's HTTP sign-in prompt as a user would, read the rendered text and take a screenshot.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import zlib from 'node:zlib';

/** The chromium binary: CHROMIUM_PATH, else `chromium` on PATH, else installed with apt-get. */
export function requireChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return fromEnv;
  const found = () => spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
  if (found()) return found();
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = (args: string[]) =>
    spawnSync(sudo[0] ?? 'apt-get', [...(sudo.length ? ['apt-get'] : []), ...args], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 600_000,
    }).status === 0;
  if (!apt(['install', '-y', '-qq', 'chromium'])) {
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', 'chromium']);
  }
  const bin = found();
  if (!bin) throw new Error('chromium is not installed and `apt-get install chromium` failed');
  return bin;
}

/** One WebSocket connection speaking the DevTools protocol: `send` and `on(eventName)`. */
export class DevToolsSession extends EventEmitter {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
  private buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];

  private constructor(private readonly socket: Duplex) {
    super();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('DevTools connection closed'));
      this.pending.clear();
    });
  }

  static connect(wsUrl: string): Promise<DevToolsSession> {
    const url = new URL(wsUrl);
    const key = randomBytes(16).toString('base64');
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': key,
        },
      });
      req.once('upgrade', (_res, socket, head) => {
        const session = new DevToolsSession(socket);
        if (head.length) session.receive(head);
        resolve(session);
      });
      req.once('response', (res) => reject(new Error(`DevTools refused the WebSocket: ${res.statusCode}`)));
      req.once('error', reject);
      req.end();
    });
  }

  send<T = any>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    const payload = Buffer.from(JSON.stringify({ id, method, params }), 'utf8');
    const mask = randomBytes(4);
    const len = payload.length;
    const header =
      len < 126
        ? Buffer.from([0x81, 0x80 | len])
        : len < 65536
          ? Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff])
          : Buffer.concat([Buffer.from([0x81, 0x80 | 127]), bigLength(len)]);
    const masked = Buffer.alloc(len);
    for (let i = 0; i < len; i++) masked[i] = payload[i] ^ mask[i % 4];
    this.socket.write(Buffer.concat([header, mask, masked]));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const fin = (this.buffer[0] & 0x80) !== 0;
      const opcode = this.buffer[0] & 0x0f;
      let len = this.buffer[1] & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (this.buffer.length < 4) return;
        len = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (this.buffer.length < 10) return;
        len = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + len) return;
      const data = this.buffer.subarray(offset, offset + len);
      this.buffer = this.buffer.subarray(offset + len);
      if (opcode === 0x8) {
        this.socket.end();
        return;
      }
      if (opcode === 0x9) continue; // ping: Chrome does not send them to clients
      if (opcode === 0x1 || opcode === 0x0) {
        this.fragments.push(Buffer.from(data));
        if (!fin) continue;
        const text = Buffer.concat(this.fragments).toString('utf8');
        this.fragments = [];
        this.dispatch(JSON.parse(text));
      }
    }
  }

  private dispatch(message: { id?: number; method?: string; params?: any; result?: any; error?: any }): void {
    if (message.id !== undefined) {
      const p = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) p?.reject(new Error(`${message.error.message} (${message.error.code})`));
      else p?.resolve(message.result);
      return;
    }
    if (message.method) this.emit(message.method, message.params);
  }
}

function bigLength(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

export interface Browser {
  /** A new tab's DevTools session. */
  newPage(): Promise<DevToolsSession>;
  close(): Promise<void>;
}

/** Starts headless Chromium with a throwaway profile; `close` kills it and removes the profile. */
export async function launchChromium(): Promise<Browser> {
  const bin = requireChromium();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'session-keeper-chromium-'));
  const child: ChildProcess = spawn(
    bin,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--no-default-browser-check',
      '--window-size=1400,1800',
      `--user-data-dir=${profile}`,
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      'about:blank',
    ],
    // Its own process group, so closing it reaches its helper processes too.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (c) => {
      err += c;
      const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) =>
      reject(new Error(`chromium exited (${code}) before DevTools listened: ${err}`)),
    );
  });
  child.stderr!.resume();
  return {
    async newPage() {
      const target = await httpJson(`http://127.0.0.1:${port}/json/new?about:blank`, 'PUT');
      return DevToolsSession.connect(target.webSocketDebuggerUrl);
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          child.kill('SIGTERM');
        }
      }
      await exited;
      // A helper process may still be writing its last file into the profile as it exits.
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    },
  };
}

function httpJson(url: string, method: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`${url}: ${res.statusCode} ${body}`));
        }
      });
    });
    req.once('error', reject);
    req.end();
  });
}

/**
 * Answers the browser's HTTP authentication prompts with these credentials, as a user typing them
 * would (the browser then keeps them for the origin); counts the prompts answered.
 */
export async function answerSignIn(
  page: DevToolsSession,
  credentials: { username: string; password: string },
): Promise<{ prompts: number }> {
  const seen = { prompts: 0 };
  page.on('Fetch.requestPaused', (p: { requestId: string }) => {
    page.send('Fetch.continueRequest', { requestId: p.requestId }).catch(() => undefined);
  });
  page.on('Fetch.authRequired', (p: { requestId: string }) => {
    seen.prompts++;
    page
      .send('Fetch.continueWithAuth', {
        requestId: p.requestId,
        authChallengeResponse: { response: 'ProvideCredentials', ...credentials },
      })
      .catch(() => undefined);
  });
  await page.send('Fetch.enable', { handleAuthRequests: true, patterns: [{ urlPattern: '*' }] });
  return seen;
}

/** The page's rendered text (`document.body.innerText`). */
export async function pageText(page: DevToolsSession): Promise<string> {
  const r = await page.send('Runtime.evaluate', {
    expression: 'document.body ? document.body.innerText : ""',
    returnByValue: true,
  });
  return String(r.result?.value ?? '');
}

/** Writes a PNG screenshot of the page to `file` and returns its bytes. */
export async function screenshot(page: DevToolsSession, file: string): Promise<Buffer> {
  const r = await page.send<{ data: string }>('Page.captureScreenshot', { format: 'png' });
  const png = Buffer.from(r.data, 'base64');
  fs.writeFileSync(file, png);
  return png;
}

/**
 * Decodes an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium writes) and returns its size and
 * the number of distinct colours: a blank page has one or two.
 */
export function pngColours(png: Buffer): { width: number; height: number; colours: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!png.subarray(0, 8).equals(signature)) throw new Error('not a PNG');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const len = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colourType, , , interlace] = data.subarray(8, 13);
      if (depth !== 8 || interlace !== 0 || (colourType !== 2 && colourType !== 6)) {
        throw new Error(
          `unsupported PNG (depth ${depth}, colour type ${colourType}, interlace ${interlace})`,
        );
      }
      channels = colourType === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    offset += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  let prev = Buffer.alloc(stride);
  const colours = new Set<number>();
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels] : 0;
      const b = prev[x];
      const c = x >= channels ? prev[x - channels] : 0;
      let add = 0;
      if (filter === 1) add = a;
      else if (filter === 2) add = b;
      else if (filter === 3) add = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[x] = (line[x] + add) & 0xff;
    }
    for (let x = 0; x < stride; x += channels) colours.add(line.readUIntBE(x, 3));
    prev = line;
  }
  return { width, height, colours: colours.size };
}
