/**
 * The Temporal Web UI decodes the keeper's encrypted payloads in a real browser, the way
 * docker-compose.yml wires it: headless Chromium opens the UI of a demo-like local stack (a
 * `temporal server start-dev` with its bundled UI and its codec endpoint `/codec`, a worker with
 * the codec keys, the devnet) through `npx session-keeper codec-server --ui-upstream …` (the UI
 * gateway), signs in as a user does (any name, the token as password: the browser keeps it, the UI
 * never sees it), and a workflow's pages show the decoded agent spec and the decoded sigs; a
 * screenshot is a non-blank PNG. Without the codec server (the UI opened directly) or with one
 * that refuses (other keys), the same pages show only ciphertext.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { ethers } from 'ethers';
import { createKeeperClient, type SessionKeeperClient } from '../../src/client';
import { ENCODING_ENCRYPTED } from '../../src/codec/aes-gcm-codec';
import { buildDataConverter } from '../../src/codec/data-converter';
import { parseCodecKeys } from '../../src/codec/keys';
import { type Devnet, startDevnet } from '../../src/devnet';
import type { SessionStatus } from '../../src/shared/types';
import { type DevServer, freePort, startDevServer } from '../../src/temporal/dev-server';
import { createSessionWorker } from '../../src/worker';
import { until } from '../polling';
import {
  answerSignIn,
  type Browser,
  type DevToolsSession,
  launchChromium,
  pageText,
  pngColours,
  screenshot,
} from './chromium';
import { freshAbove } from './harness';

const REPO = path.resolve(__dirname, '..', '..');
const AGENT = 'ui-agent-1';
const SIGNER_VAR = 'UI_AGENT_KEY';
const KEYS = `k1:${randomBytes(32).toString('base64')}`;
const OTHER_KEYS = `k9:${randomBytes(32).toString('base64')}`;
const TOKEN = randomBytes(24).toString('hex');
const wallet = ethers.Wallet.createRandom();
const shots = fs.mkdtempSync(path.join(os.tmpdir(), 'session-keeper-ui-'));

let devnet: Devnet;
let server: DevServer;
let connection: NativeConnection;
let stopWorker: () => Promise<void>;
let keeper: SessionKeeperClient;
let status: SessionStatus;
let runId: string;
let completedEventId: number;
let gateway: { url: string; child: ChildProcess };
let refusing: { url: string; child: ChildProcess };
let browser: Browser;
const pages: DevToolsSession[] = [];

/** `npx session-keeper codec-server` as the UI gateway on a port of its own; resolves once it listens. */
async function startGateway(uiUrl: string, keys: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SESSION_KEEPER_')) delete env[k];
  const child = spawn(
    'npx',
    [
      'session-keeper',
      'codec-server',
      '--port',
      String(port),
      '--ui-upstream',
      uiUrl,
      '--origin',
      `http://127.0.0.1:${port}`,
    ],
    {
      cwd: REPO,
      env: { ...env, SESSION_KEEPER_CODEC_KEYS: keys, SESSION_KEEPER_CODEC_SERVER_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
      // npx runs the CLI as a grandchild: a process group of its own lets stopGateway reach it.
      detached: true,
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`codec-server exited (${code}): ${out}`)));
  });
  return { url, child };
}

/** Stops the gateway's whole process group (npx, its shell, the CLI) and waits until its port is closed. */
async function stopGateway(g: { url: string; child: ChildProcess } | undefined): Promise<void> {
  if (!g) return;
  try {
    process.kill(-g.child.pid!, 'SIGTERM');
  } catch {
    // Already gone.
  }
  const { port } = new URL(g.url);
  await until(
    `the codec server on port ${port} to stop`,
    () =>
      new Promise<true | undefined>((resolve) => {
        const socket = net.connect(Number(port), '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(undefined);
        });
        socket.once('error', () => resolve(true));
      }),
    { timeoutMs: 15_000, intervalMs: 100 },
  );
}

/** A new tab that answers sign-in prompts (when `signIn`) and has loaded `url`. */
async function open(url: string, signIn: boolean): Promise<DevToolsSession & { prompts: () => number }> {
  const page = await browser.newPage();
  pages.push(page);
  const seen = signIn ? await answerSignIn(page, { username: 'operator', password: TOKEN }) : { prompts: 0 };
  await page.send('Page.enable');
  await page.send('Page.navigate', { url });
  return Object.assign(page, { prompts: () => seen.prompts });
}

/** Polls the page's rendered text until `ok` holds for it. */
function textWhere(page: DevToolsSession, what: string, ok: (text: string) => boolean): Promise<string> {
  return until(
    what,
    async () => {
      const text = await pageText(page);
      return ok(text) ? text : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

const workflowPath = () =>
  `/namespaces/default/workflows/${encodeURIComponent(`lit-session/${AGENT}`)}/${runId}`;
/** The decoded spec as the UI prints JSON (indented), and a field only the decoded spec holds. */
const DECODED_SPEC = [`"agentId": "${AGENT}"`, `"signer": "env:${SIGNER_VAR}"`, '"sessionTtlMs": 3600000'];
/** The Input card once it holds a payload the UI could not decode: a quoted base64 string. */
const CIPHERTEXT_INPUT = /\nInput\n[^\n]*\n?"[A-Za-z0-9+/=]{64,}"/;

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 1000 });
  const uiPort = await freePort();
  server = await startDevServer({ uiPort, uiCodecEndpoint: '/codec' });
  connection = await NativeConnection.connect({ address: server.address });
  const networks = { custom: { devnet: devnet.networkConfig() } };
  const sessionWorker = await createSessionWorker({
    connection,
    networks,
    dataConverter: buildDataConverter(parseCodecKeys(KEYS, 'test')),
    signerEnvironment: {
      env: { [SIGNER_VAR]: wallet.privateKey },
      readFile: () => {
        throw new Error('no key files in this test');
      },
    },
  });
  const running = sessionWorker.worker.run();
  stopWorker = async () => {
    sessionWorker.worker.shutdown();
    await running.catch(() => undefined);
  };
  keeper = await createKeeperClient({
    env: {
      LIT_NETWORKS: JSON.stringify({ networks: { devnet: devnet.networkConfig() } }),
      SESSION_KEEPER_CODEC_KEYS: KEYS,
    },
    connection: { address: server.address },
  });
  const started = await keeper.startAgent({
    agentId: AGENT,
    network: 'devnet',
    mode: 'eoa',
    signer: `env:${SIGNER_VAR}`,
    sessionTtl: '1h',
  } as Parameters<SessionKeeperClient['startAgent']>[0]);
  runId = started.runId;
  status = await freshAbove(keeper, AGENT, 0);

  // What the server holds is ciphertext: the spec and the mint's result (the sigs).
  const { history } = await keeper.temporal.workflowService.getWorkflowExecutionHistory({
    namespace: 'default',
    execution: { workflowId: `lit-session/${AGENT}`, runId },
  });
  const events = history?.events ?? [];
  const EventType = temporal.api.enums.v1.EventType;
  const completed = events.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
  assert.ok(completed, 'the first mint completed');
  completedEventId = Number(completed.eventId);
  const encodings = [
    events[0].workflowExecutionStartedEventAttributes?.input?.payloads?.[0],
    completed.activityTaskCompletedEventAttributes?.result?.payloads?.[0],
  ].map((p) => Buffer.from(p?.metadata?.encoding ?? []).toString());
  assert.deepEqual(encodings, [ENCODING_ENCRYPTED, ENCODING_ENCRYPTED]);

  const uiUrl = server.uiUrl!;
  [gateway, refusing] = await Promise.all([startGateway(uiUrl, KEYS), startGateway(uiUrl, OTHER_KEYS)]);
  browser = await launchChromium();
});

after(async () => {
  // Each step runs even when one before it fails: nothing may stay running.
  const steps: Array<() => unknown> = [
    () => {
      for (const p of pages) p.close();
    },
    () => browser?.close(),
    () => Promise.all([stopGateway(gateway), stopGateway(refusing)]),
    () => stopWorker?.(),
    () => keeper?.close(),
    () => connection?.close(),
    () => server?.stop(),
    () => devnet?.close(),
    () => fs.rmSync(shots, { recursive: true, force: true }),
  ];
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length) throw errors[0];
});

describe('Temporal Web UI through the codec server (headless Chromium)', () => {
  test("the workflow page shows the agent's decoded spec; the screenshot is a non-blank PNG", async () => {
    const page = await open(`${gateway.url}${workflowPath()}/history`, true);
    const text = await textWhere(page, 'the decoded spec on the workflow page', (t) =>
      DECODED_SPEC.every((s) => t.includes(s)),
    );
    assert.ok(text.includes(`lit-session/${AGENT}`));
    assert.doesNotMatch(text, CIPHERTEXT_INPUT);
    assert.ok(page.prompts() >= 1, 'the browser was asked to sign in, and signed in');
    const file = path.join(shots, 'workflow.png');
    const png = await screenshot(page, file);
    assert.ok(fs.statSync(file).size > 10_000, `screenshot ${fs.statSync(file).size} bytes`);
    const { width, height, colours } = pngColours(png);
    assert.ok(width >= 800 && height >= 600, `${width}x${height}`);
    assert.ok(colours > 50, `a rendered page has many colours, this one ${colours}`);
  });

  test("the mint's event shows the decoded sigs: the devnet nodes' URLs and their real signatures", async () => {
    const page = await open(`${gateway.url}${workflowPath()}/history/events/${completedEventId}`, true);
    // The event list prints the result on one line, cut after the first node's signature begins.
    const decoded = /"sessionSigs":\{"(http:\/\/[^"]+)":\{"sig":"([0-9a-f]{8,})/;
    const text = await textWhere(page, 'the decoded sigs on the event page', (t) => decoded.test(t));
    const [, nodeUrl, sigStart] = decoded.exec(text)!;
    const sigs = status.sessionSigs!;
    assert.ok(nodeUrl in sigs, `${nodeUrl} is one of the devnet's nodes (${Object.keys(sigs).join(', ')})`);
    assert.ok(sigs[nodeUrl].sig.startsWith(sigStart), 'the signature the node made, decrypted');
    assert.match(text, /Activity Task Completed/);
    const png = await screenshot(page, path.join(shots, 'event.png'));
    assert.ok(pngColours(png).colours > 50);
  });

  test('without the codec server (the UI opened directly) the pages show only ciphertext', async () => {
    const page = await open(`${server.uiUrl}${workflowPath()}/history`, false);
    const text = await textWhere(page, 'the Input card with ciphertext', (t) => CIPHERTEXT_INPUT.test(t));
    for (const s of DECODED_SPEC) assert.ok(!text.includes(s), `${s} shown without the codec server`);
    assert.ok(!text.includes(`env:${SIGNER_VAR}`));
    const event = await open(`${server.uiUrl}${workflowPath()}/history/events/${completedEventId}`, false);
    const eventText = await textWhere(event, 'the mint event', (t) => /Activity Task Completed/.test(t));
    assert.ok(!eventText.includes('"sessionSigs"'), 'sigs decoded without the codec server');
  });

  test('with a codec server that cannot decrypt (other keys) the pages show only ciphertext', async () => {
    const page = await open(`${refusing.url}${workflowPath()}/history`, true);
    const text = await textWhere(page, 'the Input card with ciphertext', (t) => CIPHERTEXT_INPUT.test(t));
    for (const s of DECODED_SPEC) assert.ok(!text.includes(s), `${s} shown by a refusing codec server`);
    const event = await open(`${refusing.url}${workflowPath()}/history/events/${completedEventId}`, true);
    const eventText = await textWhere(event, 'the mint event', (t) => /Activity Task Completed/.test(t));
    assert.ok(!eventText.includes('"sessionSigs"'), 'sigs decoded by a refusing codec server');
  });
});
