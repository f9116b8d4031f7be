/**
 * sessionRefreshWorkflow for agent-held session keys (issue 20) on a time-skipping server with a
 * fake mint activity: the capability is kept fresh like sigs and served by the query (never sigs);
 * `rotateSessionKey` mints for the new key at once and serves the old key's capability until it
 * expires; it is refused for a delivered-mode agent and for anything but a public key; the key
 * and both capabilities cross continue-as-new.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { currentSessionSigsQuery, rotateSessionKeyUpdate } from '../../src/shared/messages';
import type { MintResult, SessionStatus } from '../../src/shared/types';
import {
  agentSpec,
  type Harness,
  HOUR,
  type MintCall,
  now,
  startAgent,
  startHarness,
} from './session-refresh.fixtures';

const KEY_A = 'a1'.repeat(32);
const KEY_B = 'b2'.repeat(32);

/** A capability for the request's key, issued at the call's skipped time (what the real activity returns). */
function capabilityFor(call: MintCall): MintResult {
  const key = call.request.sessionPublicKey!;
  const expiresAt = new Date(call.at + call.request.sessionTtlMs).toISOString();
  return {
    sessionSigs: {},
    capability: {
      sessionPublicKey: key,
      authSig: {
        sig: `wallet-sig-${call.request.generation}`,
        derivedVia: 'web3.eth.personal.sign',
        signedMessage: `siwe uri lit:session:${key} gen ${call.request.generation}`,
        address: '0xabc',
      },
      expiresAt,
    },
    issuedAt: new Date(call.at).toISOString(),
    expiresAt,
    nodeUrls: ['https://node-1.test'],
    epoch: 1,
  };
}

async function updateError(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => assert.fail('the update was accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
  return err.cause;
}

describe('sessionRefreshWorkflow, agent-held session keys', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('session-refresh-agent-held');
    h.fake.behaviour = (call) => (call.request.sessionPublicKey ? capabilityFor(call) : h.fake.sigsFor(call));
  });
  after(async () => {
    await h?.close();
  });

  it('keeps the capability fresh and serves it, never sigs', async () => {
    const spec = agentSpec('held-refresh', { sessionTtl: '1h', sessionPublicKey: KEY_A });
    const handle = await startAgent(h, spec);
    await h.env.sleep(3 * HOUR);
    const calls = h.fake.callsFor(handle.workflowId);
    assert.ok(calls.length >= 4, `${calls.length} mints in 3 h with a 1 h TTL`);
    assert.ok(calls.every((c) => c.request.sessionPublicKey === KEY_A));
    const status = await handle.query(currentSessionSigsQuery);
    assert.equal(status.state, 'fresh');
    assert.equal(status.sessionSigs, null);
    assert.equal(status.capability?.sessionPublicKey, KEY_A);
    assert.equal(status.capability?.authSig.sig, `wallet-sig-${calls.length}`);
    assert.equal(status.expiresAt, status.capability?.expiresAt);
    assert.equal(status.previousCapability, null);
    await handle.terminate();
  });

  it('rotateSessionKey mints for the new key at once and serves the old capability until it expires', async () => {
    const spec = agentSpec('held-rotate', { sessionTtl: '1h', sessionPublicKey: KEY_A });
    const handle = await startAgent(h, spec);
    await h.env.sleep(10 * 60_000);
    const before = await handle.query(currentSessionSigsQuery);
    assert.equal(before.capability?.sessionPublicKey, KEY_A);

    const rotatedAt = await now(h);
    const status: SessionStatus = await handle.executeUpdate(rotateSessionKeyUpdate, {
      args: [{ sessionPublicKey: `0x${KEY_B.toUpperCase()}`, reason: 'laptop lost' }],
    });
    const calls = h.fake.callsFor(handle.workflowId);
    assert.equal(calls.at(-1)?.request.sessionPublicKey, KEY_B, 'minted for the new key, normalised');
    assert.ok(calls.at(-1)!.at - rotatedAt < 2_000, 'at once');
    assert.equal(status.capability?.sessionPublicKey, KEY_B);
    assert.deepEqual(status.previousCapability, before.capability, 'the old key keeps its capability');
    assert.equal(status.generation, before.generation + 1);

    // The old capability expires 1 h after its mint (10 min before the rotation): gone by then.
    await h.env.sleep(55 * 60_000);
    const later = await handle.query(currentSessionSigsQuery);
    assert.equal(later.previousCapability, null, 'an expired previous capability is not served');
    assert.equal(later.capability?.sessionPublicKey, KEY_B);
    assert.ok(
      h.fake
        .callsFor(handle.workflowId)
        .slice(calls.length)
        .every((c) => c.request.sessionPublicKey === KEY_B),
    );
    await handle.terminate();
  });

  it('refuses rotateSessionKey for a delivered-mode agent and for anything but a public key', async () => {
    const delivered = await startAgent(h, agentSpec('delivered-no-key'));
    await h.env.sleep(60_000);
    const refusal = await updateError(
      delivered.executeUpdate(rotateSessionKeyUpdate, { args: [{ sessionPublicKey: KEY_B }] }),
    );
    assert.equal(refusal.type, 'DeliveredModeAgent');
    assert.match(refusal.message, /delivered mode/);
    const deliveredStatus = await delivered.query(currentSessionSigsQuery);
    assert.ok(deliveredStatus.sessionSigs, 'delivered sigs as before');
    assert.equal('capability' in deliveredStatus, false, 'no capability in a delivered status');

    const held = await startAgent(h, agentSpec('held-refuse', { sessionTtl: '1h', sessionPublicKey: KEY_A }));
    await h.env.sleep(60_000);
    const mints = h.fake.callsFor(held.workflowId).length;
    for (const bad of [`${'12'.repeat(32)}${KEY_B}`, KEY_B.slice(2), 'not a key']) {
      const err = await updateError(
        held.executeUpdate(rotateSessionKeyUpdate, { args: [{ sessionPublicKey: bad }] }),
      );
      assert.equal(err.type, 'InvalidSessionPublicKey');
      assert.match(err.message, /sessionPublicKey .*agent keygen/);
    }
    assert.equal(h.fake.callsFor(held.workflowId).length, mints, 'a refused update mints nothing');
    assert.equal((await held.query(currentSessionSigsQuery)).capability?.sessionPublicKey, KEY_A);
    await delivered.terminate();
    await held.terminate();
  });

  it('carries the rotated key and both capabilities across continue-as-new', async () => {
    const spec = agentSpec('held-can', { sessionTtl: '1h', sessionPublicKey: KEY_A });
    const handle = await startAgent(h, spec, { maxMintsPerRun: 2 });
    await h.env.sleep(60_000);
    const first = await handle.query(currentSessionSigsQuery);
    // The rotation is the run's second mint: the run is full, the next run takes over.
    const rotated = await handle.executeUpdate(rotateSessionKeyUpdate, {
      args: [{ sessionPublicKey: KEY_B }],
    });
    assert.deepEqual(rotated.previousCapability, first.capability);
    // Past the refresh of the rotated key (2/3 of 1 h ± 10 %), before the old capability expires.
    await h.env.sleep(50 * 60_000);
    const calls = h.fake.callsFor(handle.workflowId);
    const described = await h.client.workflow.getHandle(handle.workflowId).describe();
    assert.notEqual(described.runId, handle.firstExecutionRunId, 'continued as new');
    const next = calls.filter((c) => c.runId !== handle.firstExecutionRunId);
    assert.ok(next.length > 0, 'the next run refreshed');
    assert.ok(
      next.every((c) => c.request.sessionPublicKey === KEY_B),
      'the next run mints for the rotated key, not the one its first run was started with',
    );
    const after = await h.client.workflow.getHandle(handle.workflowId).query(currentSessionSigsQuery);
    assert.equal(after.capability?.sessionPublicKey, KEY_B);
    assert.deepEqual(after.previousCapability, first.capability, 'still live, still served');
    await h.client.workflow.getHandle(handle.workflowId).terminate();
  });
});
