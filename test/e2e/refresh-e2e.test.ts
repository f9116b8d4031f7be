/**
 * The whole system with real parts: a Temporal dev server, the real worker (workflow + mint activity
 * + pooled Lit client), the real Lit SDK and the devnet. Nothing is faked.
 * - an EOA and a PKP agent mint, their sigs decrypt on the devnet, a rotation raises the generation
 *   and the new sigs work too;
 * - the raw history holds no sig, signed message or private key when a codec key is configured, and
 *   decodes to the real values with the codec; without a key it still holds no private key;
 * - codec key rotation: an agent started under key A keeps answering after B becomes the encrypting key;
 * - two of three nodes down: a PKP agent goes degraded and backs off; when the nodes answer again
 *   the worker's batch signal makes it retry at once instead of when its backoff timer fires.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ethers } from 'ethers';
import { createKeeperClient, type SessionKeeperClient } from '../../src/client';
import { METADATA_KEY_ID } from '../../src/codec/aes-gcm-codec';
import { buildDataConverter } from '../../src/codec/data-converter';
import { parseCodecKeys } from '../../src/codec/keys';
import { type Devnet, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import { workflowIdFor } from '../../src/shared/names';
import type { SessionStatus } from '../../src/shared/types';
import { createSessionWorker, type SessionWorker } from '../../src/worker';
import { connected, decryptWith, encryptFor } from '../devnet/helpers';
import { startLocalTemporal } from './harness';

const keyA = `a:${randomBytes(32).toString('base64')}`;
const keyB = `b:${randomBytes(32).toString('base64')}`;
const eoaWallet = ethers.Wallet.createRandom();
const controller = ethers.Wallet.createRandom();
const plainWallet = ethers.Wallet.createRandom();
const signerEnv = {
  E2E_EOA_KEY: eoaWallet.privateKey,
  E2E_CONTROLLER_KEY: controller.privateKey,
  E2E_PLAIN_KEY: plainWallet.privateKey,
};
const noFiles = () => {
  throw new Error('no key files in this test');
};

let env: TestWorkflowEnvironment;
let devnet: Devnet;
let pkp: { publicKey: string; ethAddress: string };
const workers: { worker: SessionWorker; running: Promise<void> }[] = [];
const clients: SessionKeeperClient[] = [];

async function startWorker(codecKeys: string | undefined, taskQueue?: string): Promise<SessionWorker> {
  const worker = await createSessionWorker({
    connection: env.nativeConnection,
    taskQueue,
    networks: { custom: { devnet: devnet.networkConfig() } },
    dataConverter: codecKeys ? buildDataConverter(parseCodecKeys(codecKeys)) : undefined,
    signerEnvironment: { env: signerEnv, readFile: noFiles },
  });
  workers.push({ worker, running: worker.run() });
  return worker;
}

async function keeper(codecKeys: string | undefined, taskQueue?: string): Promise<SessionKeeperClient> {
  const k = await createKeeperClient({
    env: {
      ...(codecKeys ? { SESSION_KEEPER_CODEC_KEYS: codecKeys } : {}),
      LIT_NETWORKS: JSON.stringify({ networks: { devnet: devnet.networkConfig() } }),
    },
    connection: { address: env.address },
    taskQueue,
    warn: () => undefined,
  });
  clients.push(k);
  return k;
}

async function untilStatus(
  k: SessionKeeperClient,
  agentId: string,
  ok: (s: SessionStatus) => boolean,
  timeoutMs = 60_000,
): Promise<SessionStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: SessionStatus | undefined;
  while (Date.now() < deadline) {
    last = await k.getStatus(agentId).catch(() => undefined);
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`agent ${agentId} never reached the expected status; last: ${JSON.stringify(last?.state)}`);
}

async function decrypts(sigs: SessionStatus['sessionSigs'], address: string): Promise<boolean> {
  const lit = await connected(devnet.networkConfig());
  try {
    const encrypted = await encryptFor(lit, address, 'for the agent');
    return (await decryptWith(lit, sigs as any, encrypted)) === 'for the agent';
  } finally {
    await disposeLitClient(lit);
  }
}

async function rawHistory(agentId: string) {
  const resp = await env.connection.workflowService.getWorkflowExecutionHistory({
    namespace: 'default',
    execution: { workflowId: workflowIdFor(agentId) },
    maximumPageSize: 1000,
  });
  const bytes = temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse.encode(resp).finish();
  return { events: resp.history?.events ?? [], bytes: Buffer.from(bytes) };
}

function mintResults(events: temporal.api.history.v1.IHistoryEvent[]): Payload[] {
  return events
    .filter((e) => e.activityTaskCompletedEventAttributes)
    .map((e) => e.activityTaskCompletedEventAttributes!.result!.payloads![0] as Payload);
}

function assertNoSecrets(bytes: Buffer, secrets: string[], label: string): void {
  for (const s of secrets)
    assert.ok(!bytes.includes(Buffer.from(s)), `${label}: found ${s.slice(0, 24)}… in raw history`);
}

describe('end to end: dev server + worker + real Lit SDK + devnet', () => {
  before(async () => {
    env = await startLocalTemporal();
    devnet = await startDevnet({ blockTimeMs: 1000 });
    pkp = devnet.mintPkp([controller.address]);
  });

  after(async () => {
    for (const w of workers) w.worker.shutdown();
    await Promise.all(workers.map((w) => w.running.catch(() => undefined)));
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await env?.teardown();
    await devnet?.close();
  });

  let encrypted: SessionKeeperClient;

  test('EOA and PKP agents: mint, query, decrypt, rotate to a higher generation whose sigs also work', async () => {
    await startWorker(keyA);
    encrypted = await keeper(keyA);
    await encrypted.startAgent({
      agentId: 'e2e-eoa',
      network: 'devnet',
      mode: 'eoa',
      signer: 'env:E2E_EOA_KEY',
    });
    await encrypted.startAgent({
      agentId: 'e2e-pkp',
      network: 'devnet',
      mode: 'pkp',
      signer: 'env:E2E_CONTROLLER_KEY',
      pkpPublicKey: pkp.publicKey,
    });
    for (const [agentId, address] of [
      ['e2e-eoa', eoaWallet.address],
      ['e2e-pkp', pkp.ethAddress],
    ]) {
      const first = await untilStatus(encrypted, agentId, (s) => s.state === 'fresh');
      assert.equal(first.generation, 1);
      assert.deepEqual(Object.keys(first.sessionSigs!).sort(), [...devnet.nodeUrls].sort());
      assert.ok(Date.parse(first.refreshAt!) < Date.parse(first.expiresAt!));
      assert.ok(await decrypts(first.sessionSigs, address), `${agentId} gen 1 decrypts`);

      const { status } = await encrypted.rotate(agentId, { wait: true });
      assert.ok(status);
      assert.equal(status.generation, 2);
      assert.equal(status.state, 'fresh');
      assert.notDeepEqual(status.sessionSigs, first.sessionSigs);
      assert.ok(await decrypts(status.sessionSigs, address), `${agentId} gen 2 decrypts`);
    }
  });

  test('with a codec key the raw history holds no sig, signed message or key; the codec decodes it', async () => {
    const status = await encrypted.getStatus('e2e-eoa');
    const sig = Object.values(status.sessionSigs!)[0];
    const secrets = [
      sig.sig,
      sig.signedMessage.slice(0, 64),
      eoaWallet.privateKey,
      eoaWallet.privateKey.slice(2),
      controller.privateKey.slice(2),
      'env:E2E_EOA_KEY',
    ];
    const { events, bytes } = await rawHistory('e2e-eoa');
    assertNoSecrets(bytes, secrets, 'encrypted');
    const codec: PayloadCodec = buildDataConverter(parseCodecKeys(keyA))!.payloadCodecs![0];
    const results = mintResults(events);
    assert.ok(results.length >= 2);
    const [decoded] = await codec.decode([results[results.length - 1]]);
    const last = defaultPayloadConverter.fromPayload<{ sessionSigs: Record<string, { sig: string }> }>(
      decoded,
    );
    assert.deepEqual(
      Object.values(last.sessionSigs).map((s) => s.sig),
      Object.values(status.sessionSigs!).map((s) => s.sig),
    );
  });

  test('without a codec key the history still holds only the key reference, never the key', async () => {
    await startWorker(undefined, 'plain-queue');
    const plain = await keeper(undefined, 'plain-queue');
    await plain.startAgent({
      agentId: 'e2e-plain',
      network: 'devnet',
      mode: 'eoa',
      signer: 'env:E2E_PLAIN_KEY',
    });
    await untilStatus(plain, 'e2e-plain', (s) => s.state === 'fresh');
    const { bytes } = await rawHistory('e2e-plain');
    assert.ok(bytes.includes(Buffer.from('env:E2E_PLAIN_KEY')), 'the reference is visible (no codec)');
    assertNoSecrets(bytes, [plainWallet.privateKey, plainWallet.privateKey.slice(2)], 'plaintext');
  });

  test('codec key rotation: an agent started under key A keeps working once B encrypts', async () => {
    // Replace the key-A worker with one that encrypts with B and still decrypts A.
    const old = workers[0];
    old.worker.shutdown();
    await old.running;
    const rotatedKeys = `${keyB},${keyA}`;
    await startWorker(rotatedKeys);
    const rotated = await keeper(rotatedKeys);
    const before = await rotated.getStatus('e2e-eoa');
    assert.equal(before.state, 'fresh');
    const { status } = await rotated.rotate('e2e-eoa', { wait: true });
    assert.equal(status?.generation, before.generation + 1);
    const keyIds = mintResults((await rawHistory('e2e-eoa')).events).map((p) =>
      Buffer.from(p.metadata![METADATA_KEY_ID]).toString(),
    );
    assert.equal(keyIds[0], 'a');
    assert.equal(keyIds[keyIds.length - 1], 'b');
    assert.ok(await decrypts(status!.sessionSigs, eoaWallet.address));
    // A client that only knows A cannot read what B encrypted: rotation really changed the key.
    await assert.rejects(encrypted.getStatus('e2e-eoa'));
  });

  test('when the network answers again, an agent in backoff retries at once (worker batch signal)', async () => {
    const taskQueue = 'e2e-recovery';
    const worker = await createSessionWorker({
      connection: env.nativeConnection,
      taskQueue,
      networks: { custom: { devnet: devnet.networkConfig() } },
      client: env.client,
      signerEnvironment: { env: signerEnv, readFile: noFiles },
      handshakeTimeoutMs: 500,
      reprobeIntervalMs: 2_000, // the background probe (every 1 s) notices the recovery
      nodeSetRotationSpreadMs: 0,
    });
    workers.push({ worker, running: worker.run() });
    const k = await keeper(undefined, taskQueue);
    const agentId = 'e2e-recover';
    await k.startAgent({
      agentId,
      network: 'devnet',
      mode: 'pkp',
      signer: 'env:E2E_CONTROLLER_KEY',
      pkpPublicKey: pkp.publicKey,
    });
    const first = await untilStatus(k, agentId, (s) => s.state === 'fresh');
    await devnet.setFault(0, 'down');
    await devnet.setFault(1, 'down');
    try {
      await k.rotate(agentId);
      // Wait until the agent backs off for a while: its next attempt at least 8 s away.
      const waiting = await untilStatus(
        k,
        agentId,
        (s) => s.state === 'degraded' && Date.parse(s.refreshAt ?? '') - Date.now() > 8_000,
        90_000,
      );
      assert.equal(waiting.lastError?.type, 'NotEnoughNodes');
    } finally {
      await devnet.clearFaults();
    }
    const recovered = await untilStatus(
      k,
      agentId,
      (s) => s.state === 'fresh' && s.generation > first.generation,
    );
    assert.ok(await decrypts(recovered.sessionSigs, pkp.ethAddress));
    // The retry came from the worker's signal, not from the backoff timer: the signal, then the
    // mint, with no timer firing in between.
    const { events } = await rawHistory(agentId);
    const type = (e: temporal.api.history.v1.IHistoryEvent) =>
      temporal.api.enums.v1.EventType[e.eventType ?? 0];
    const signalAt = events.findIndex((e) => {
      const input = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
      return (
        input &&
        defaultPayloadConverter.fromPayload<{ reason?: string }>(input as Payload).reason ===
          'lit-network-recovered'
      );
    });
    assert.ok(signalAt > 0, 'the worker signalled the agent when the network recovered');
    const nextMint = events.findIndex(
      (e, i) => i > signalAt && type(e) === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
    );
    assert.ok(nextMint > signalAt);
    assert.ok(
      !events.slice(signalAt, nextMint).some((e) => type(e) === 'EVENT_TYPE_TIMER_FIRED'),
      'no backoff timer fired between the signal and the retry',
    );
  });
});
