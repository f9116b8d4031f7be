/**
 * Against a real Temporal dev server: with the data converter from `buildDataConverter`, secrets
 * in workflow inputs, memos, activity results, update results, query results and failure messages
 * never reach the server in plaintext, and the codec (and the codec server, through the real
 * Temporal CLI) decodes them again. A control run without the codec shows the check would see them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Client, WorkflowFailedError } from '@temporalio/client';
import {
  ApplicationFailure,
  defaultPayloadConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { ENCODING_ENCRYPTED, METADATA_KEY_ID } from '../../src/codec/aes-gcm-codec';
import { type CodecServer, startCodecServer } from '../../src/codec/codec-server';
import { buildDataConverter, FAILURE_CONVERTER_PATH } from '../../src/codec/data-converter';
import { executableOption } from '../../src/temporal/binaries';
import * as activities from './fixtures/activities';
import type { ProbeInput } from './fixtures/workflows';
import { containsSecret, keyring, newKey, text } from './helpers';

const execFileAsync = promisify(execFile);
const NAMESPACE = 'default';
const HistoryResponse = temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse;
const QueryResponse = temporal.api.workflowservice.v1.QueryWorkflowResponse;

const ring = keyring(['k-test', newKey()]);
const dataConverter = buildDataConverter(ring)!;
const codec: PayloadCodec = dataConverter.payloadCodecs![0];

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let encClient: Client;
let plainClient: Client;

function secret(label: string): string {
  return `${label}-${randomBytes(16).toString('hex')}`;
}

async function rawHistory(workflowId: string): Promise<Uint8Array> {
  const resp = await env.connection.workflowService.getWorkflowExecutionHistory({
    namespace: NAMESPACE,
    execution: { workflowId },
    maximumPageSize: 1000,
  });
  assert.equal(resp.nextPageToken?.length ?? 0, 0, 'history fits one page');
  return HistoryResponse.encode(resp).finish();
}

async function decodeOne(payload: Payload | null | undefined): Promise<unknown> {
  assert.ok(payload, 'payload present');
  assert.equal(text(payload.metadata?.encoding), ENCODING_ENCRYPTED);
  assert.equal(text(payload.metadata?.[METADATA_KEY_ID]), 'k-test');
  const [decoded] = await codec.decode([payload]);
  return defaultPayloadConverter.fromPayload(decoded);
}

/** Every payload (proto JSON: base64 metadata and data) in `temporal workflow show -o json` output, decoded. */
function jsonPayloads(node: unknown, out: { encoding: string; data: string }[] = []) {
  if (Array.isArray(node)) for (const n of node) jsonPayloads(n, out);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, any>;
    if (typeof o.metadata?.encoding === 'string') {
      out.push({
        encoding: Buffer.from(o.metadata.encoding, 'base64').toString('utf8'),
        data: Buffer.from(typeof o.data === 'string' ? o.data : '', 'base64').toString('utf8'),
      });
    } else for (const v of Object.values(o)) jsonPayloads(v, out);
  }
  return out;
}

async function withWorker<T>(
  opts: { encrypted: boolean; taskQueue: string },
  fn: () => Promise<T>,
): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: NAMESPACE,
    taskQueue: opts.taskQueue,
    workflowBundle: bundle,
    activities,
    ...(opts.encrypted ? { dataConverter } : {}),
  });
  return worker.runUntil(fn());
}

before(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  [env, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({ server: { executable: executableOption('temporal') } }),
    bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/workflows'),
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    }),
  ]);
  encClient = new Client({ connection: env.connection, namespace: NAMESPACE, dataConverter });
  plainClient = new Client({ connection: env.connection, namespace: NAMESPACE });
});

after(async () => {
  await env?.teardown();
});

describe('history encryption against a real Temporal dev server', () => {
  test('secrets in input, memo, activity result, update and query never reach the server in plaintext', async () => {
    const fakeSig = secret('fakesig');
    const inputSecret = secret('inputsecret');
    const memoSecret = secret('memosecret');
    const taskQueue = `codec-${randomUUID()}`;
    const workflowId = `lit-session/codec-probe-${randomUUID()}`;
    const input: ProbeInput = { agentId: 'agent-1', signer: 'env:AGENT_KEY', fakeSig, inputSecret };

    const result = await withWorker({ encrypted: true, taskQueue }, async () => {
      const handle = await encClient.workflow.start('codecProbeWorkflow', {
        taskQueue,
        workflowId,
        args: [input],
        memo: { note: memoSecret },
      });
      assert.equal(await handle.executeUpdate('awaitSig'), fakeSig);
      assert.equal(await handle.query('currentSig'), fakeSig);
      const rawQuery = await env.connection.workflowService.queryWorkflow({
        namespace: NAMESPACE,
        execution: { workflowId },
        query: { queryType: 'currentSig' },
      });
      const queryBytes = QueryResponse.encode(rawQuery).finish();
      assert.equal(containsSecret(queryBytes, fakeSig), false, 'query result is encrypted on the wire');
      assert.equal(await decodeOne(rawQuery.queryResult?.payloads?.[0]), fakeSig);
      await handle.signal('finish');
      return handle.result();
    });
    assert.equal(result.sessionSigs['https://node-1.example:7470'].sig, fakeSig);
    assert.equal(result.echoed, inputSecret);

    const raw = await rawHistory(workflowId);
    for (const s of [fakeSig, inputSecret, memoSecret]) {
      assert.equal(containsSecret(raw, s), false, `${s.split('-')[0]} must not appear in the raw history`);
    }

    // With the codec, the history decodes to the expected values.
    const { history } = HistoryResponse.decode(raw);
    const events = history?.events ?? [];
    const started = events.find((e) => e.workflowExecutionStartedEventAttributes);
    const startedAttrs = started!.workflowExecutionStartedEventAttributes!;
    assert.deepEqual(await decodeOne(startedAttrs.input?.payloads?.[0]), input);
    assert.equal(await decodeOne(startedAttrs.memo?.fields?.note), memoSecret);
    const activityDone = events.find((e) => e.activityTaskCompletedEventAttributes);
    const minted = (await decodeOne(
      activityDone!.activityTaskCompletedEventAttributes!.result?.payloads?.[0],
    )) as any;
    assert.equal(minted.sessionSigs['https://node-1.example:7470'].sig, fakeSig);
    const updateDone = events.find((e) => e.workflowExecutionUpdateCompletedEventAttributes);
    const outcome = updateDone!.workflowExecutionUpdateCompletedEventAttributes!.outcome;
    assert.equal(await decodeOne(outcome?.success?.payloads?.[0]), fakeSig);
    const completed = events.find((e) => e.workflowExecutionCompletedEventAttributes);
    const finalResult = (await decodeOne(
      completed!.workflowExecutionCompletedEventAttributes!.result?.payloads?.[0],
    )) as any;
    assert.equal(finalResult.echoed, inputSecret);

    // A client without the codec cannot read the result.
    await assert.rejects(plainClient.workflow.getHandle(workflowId).result(), /binary\/encrypted|encoding/i);
  });

  test('failure messages of activities and workflows are encrypted too', async () => {
    const failSecret = secret('failsecret');
    const taskQueue = `codec-${randomUUID()}`;
    const workflowId = `lit-session/codec-fail-${randomUUID()}`;
    const err = await withWorker({ encrypted: true, taskQueue }, async () => {
      const handle = await encClient.workflow.start('codecFailureWorkflow', {
        taskQueue,
        workflowId,
        args: [failSecret],
      });
      return handle.result().then(
        () => assert.fail('workflow should fail'),
        (e: unknown) => e,
      );
    });
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.message, `workflow gave up: ${failSecret}`, 'decoded with the codec');

    const raw = await rawHistory(workflowId);
    assert.equal(
      containsSecret(raw, failSecret),
      false,
      'failure messages must not appear in the raw history',
    );
    const { history } = HistoryResponse.decode(raw);
    const activityFailed = history!.events!.find((e) => e.activityTaskFailedEventAttributes);
    assert.equal(activityFailed!.activityTaskFailedEventAttributes!.failure!.message, 'Encoded failure');
    const attrs = (await decodeOne(
      activityFailed!.activityTaskFailedEventAttributes!.failure!.encodedAttributes,
    )) as { message: string };
    assert.equal(attrs.message, `activity could not mint: node answered ${failSecret}`);
  });

  test('control: without the codec the same secrets are visible in the raw history', async () => {
    const fakeSig = secret('plainsig');
    const failSecret = secret('plainfail');
    const taskQueue = `plain-${randomUUID()}`;
    const workflowId = `lit-session/plain-probe-${randomUUID()}`;
    const failId = `lit-session/plain-fail-${randomUUID()}`;
    await withWorker({ encrypted: false, taskQueue }, async () => {
      const handle = await plainClient.workflow.start('codecProbeWorkflow', {
        taskQueue,
        workflowId,
        args: [
          { agentId: 'agent-1', signer: 'env:AGENT_KEY', fakeSig, inputSecret: 'x' } satisfies ProbeInput,
        ],
      });
      await handle.executeUpdate('awaitSig');
      await handle.signal('finish');
      await handle.result();
      const failing = await plainClient.workflow.start('codecFailureWorkflow', {
        taskQueue,
        workflowId: failId,
        args: [failSecret],
      });
      await assert.rejects(failing.result());
    });
    assert.equal(containsSecret(await rawHistory(workflowId), fakeSig), true);
    assert.equal(containsSecret(await rawHistory(failId), failSecret), true);
  });

  test('the real Temporal CLI decodes the history through the codec server', async () => {
    const fakeSig = secret('clisig');
    const taskQueue = `codec-${randomUUID()}`;
    const workflowId = `lit-session/codec-cli-${randomUUID()}`;
    await withWorker({ encrypted: true, taskQueue }, async () => {
      const handle = await encClient.workflow.start('codecProbeWorkflow', {
        taskQueue,
        workflowId,
        args: [
          { agentId: 'agent-1', signer: 'env:AGENT_KEY', fakeSig, inputSecret: 'x' } satisfies ProbeInput,
        ],
      });
      await handle.executeUpdate('awaitSig');
      await handle.signal('finish');
      await handle.result();
    });
    const token = randomBytes(24).toString('hex');
    const server: CodecServer = await startCodecServer({ keyring: ring, port: 0, token });
    try {
      const cli = executableOption('temporal');
      assert.equal(cli.type, 'existing-path', 'the temporal CLI is installed (npm run setup:temporal)');
      const temporalCli = (cli as { path: string }).path;
      const show = async (extra: string[]) => {
        const { stdout } = await execFileAsync(
          temporalCli,
          [
            'workflow',
            'show',
            '-w',
            workflowId,
            '--address',
            env.address,
            '--namespace',
            NAMESPACE,
            '-o',
            'json',
            ...extra,
          ],
          {
            cwd: path.dirname(temporalCli),
            env: { PATH: process.env.PATH ?? '' },
            maxBuffer: 16 * 1024 * 1024,
          },
        );
        return jsonPayloads(JSON.parse(stdout));
      };
      const plain = await show([]);
      assert.ok(plain.length > 0);
      assert.ok(plain.every((p) => p.encoding === ENCODING_ENCRYPTED && !p.data.includes(fakeSig)));
      const decoded = await show(['--codec-endpoint', server.url, '--codec-auth', `Bearer ${token}`]);
      assert.ok(decoded.every((p) => p.encoding !== ENCODING_ENCRYPTED));
      assert.ok(
        decoded.some((p) => p.data.includes(fakeSig)),
        'with the codec server the CLI shows the decoded sig',
      );
    } finally {
      await server.close();
    }
  });
});
