/**
 * AgentSession, the workflow's state and decisions, without a server: a fake clock and scripted
 * random draws stand in for the workflow's deterministic Date.now and Math.random.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAgentSpec } from '../../src/shared/agent-spec';
import type { MintResult } from '../../src/shared/types';
import { AgentSession, type Clock } from '../../src/workflows/session-state';

const H = 3_600_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const spec = parseAgentSpec({ agentId: 'a1', network: 'datil-dev', mode: 'eoa', signer: 'env:K' });

class FakeClock implements Clock {
  t = T0;
  draws: number[] = [];
  now() {
    return this.t;
  }
  random() {
    return this.draws.shift() ?? 0.5;
  }
}

function result(clock: FakeClock, ttl = 24 * H, tag = 'x'): MintResult {
  return {
    sessionSigs: { n1: { sig: tag, derivedVia: 'd', signedMessage: tag, address: 'a' } },
    issuedAt: new Date(clock.t).toISOString(),
    expiresAt: new Date(clock.t + ttl).toISOString(),
    nodeUrls: ['n1'],
    epoch: 1,
  };
}

function minted(clock = new FakeClock()) {
  const s = new AgentSession({ spec, clock });
  s.beginAttempt();
  s.succeeded(result(clock, 24 * H, 'g1'));
  return { s, clock };
}

describe('AgentSession', () => {
  it('a rotation limited to some states skips an agent in another state; malformed limits are ignored', () => {
    const { s } = minted();
    assert.equal(s.state, 'fresh');
    s.requestRotation({ reason: 'lit-network-recovered', onlyIfStates: ['degraded', 'expired'] });
    assert.ok(!s.mintDue(), 'a fresh agent does not mint for a retry meant for agents in backoff');
    s.requestRotation({ onlyIfStates: 'degraded' as never });
    assert.ok(s.mintDue(), 'a malformed limit does not block a rotation');
  });

  it('a rotation for a new node set (onlyIfDelivered) rotates a delivered agent, not an agent-held one', () => {
    const { s: delivered } = minted();
    delivered.requestRotation({ reason: 'validator-set-changed', onlyIfDelivered: true });
    assert.ok(delivered.mintDue(), 'a delivered agent needs sigs for the new node');

    const clock = new FakeClock();
    const held = new AgentSession({
      spec: parseAgentSpec({ ...spec, sessionPublicKey: 'ab'.repeat(32) }),
      clock,
    });
    held.beginAttempt();
    held.succeeded(result(clock, 24 * H, 'g1'));
    held.requestRotation({ reason: 'validator-set-changed', onlyIfDelivered: true });
    assert.ok(!held.mintDue(), 'its capability names no node: the agent signs for the new node itself');
    held.requestRotation({ reason: 'operator' });
    assert.ok(held.mintDue(), 'an ordinary rotation still rotates it');
  });

  it('a rotation limited to degraded/expired rotates an agent in backoff at once', () => {
    const { s, clock } = minted();
    s.beginAttempt();
    s.failed({ kind: 'transient', type: 'NotEnoughNodes', message: 'down' });
    assert.equal(s.state, 'degraded');
    assert.ok(!s.mintDue(), 'waiting out its backoff');
    clock.t += 10;
    s.requestRotation({ onlyIfStates: ['degraded', 'expired'] });
    assert.ok(s.mintDue());
  });

  it('a fired timer counts even when the workflow clock lags behind its deadline', () => {
    const { s, clock } = minted();
    const wakeAt = s.nextWakeAt()!;
    // The task that handles the fired timer carries an older time (seen with SDK 1.24 after worker restarts).
    clock.t = wakeAt - 5_000;
    assert.ok(!s.mintDue());
    s.reached(wakeAt);
    assert.ok(s.mintDue(), 'the refresh whose timer fired must be due');
    // An older deadline never moves the clock back.
    s.reached(wakeAt - 60_000);
    assert.ok(s.mintDue());
  });

  it('starts pending with a mint due now, then fresh with a refresh inside the policy window', () => {
    const clock = new FakeClock();
    const s = new AgentSession({ spec, clock });
    assert.equal(s.state, 'pending');
    assert.ok(s.mintDue());
    const req = s.beginAttempt();
    assert.equal(req.generation, 1);
    assert.equal(req.sessionTtlMs, 24 * H);
    clock.draws = [0.5];
    s.succeeded(result(clock));
    const st = s.status();
    assert.equal(st.state, 'fresh');
    assert.equal(st.generation, 1);
    assert.equal(Date.parse(st.refreshAt!) - T0, 16 * H);
    assert.ok(!s.mintDue());
  });

  it('coalesces rotations: one pending, spread kept, an immediate request pulls it forward', () => {
    const { s, clock } = minted();
    clock.draws = [0.25];
    s.requestRotation({ reason: 'fleet', spreadMs: 4 * H });
    assert.equal(Date.parse(s.status().refreshAt!) - T0, 1 * H);
    clock.t += 10 * 60_000;
    s.requestRotation({ spreadMs: 4 * H }); // no new draw, no change
    assert.equal(Date.parse(s.status().refreshAt!) - T0, 1 * H);
    assert.equal(s.carry().pendingRotation?.reason, 'fleet');
    s.requestRotation({ reason: 'now' });
    assert.ok(s.mintDue(), 'an immediate request makes the pending rotation due');
    s.beginAttempt();
    assert.equal(s.carry().pendingRotation, undefined, 'consumed by the attempt');
  });

  it('answers a rotateNow ticket with the first attempt that started after it', () => {
    const { s, clock } = minted();
    const t1 = s.requestRotation({});
    s.beginAttempt(); // attempt 2 starts
    const t2 = s.requestRotation({}); // arrives during attempt 2
    assert.ok(!s.settled(t1) && !s.settled(t2));
    s.succeeded(result(clock));
    assert.ok(s.settled(t1) && !s.settled(t2));
    assert.equal(s.rotationOutcome(t1).generation, 2);
    assert.ok(s.mintDue(), 'one follow-up mint for the request that arrived meanwhile');
    s.beginAttempt();
    s.failed({ kind: 'permanent', type: 'NodeAuthFailed', message: 'no' });
    assert.ok(s.settled(t2));
    assert.throws(
      () => s.rotationOutcome(t2),
      (err: any) => err.type === 'NodeAuthFailed' && err.nonRetryable,
    );
  });

  it('transient failures: degraded with backoff, expired after expiry, cleared on success', () => {
    const { s, clock } = minted();
    clock.t = T0 + 16 * H;
    s.beginAttempt();
    assert.equal(s.state, 'refreshing');
    clock.draws = [0];
    s.failed({ kind: 'transient', type: 'NotEnoughNodes', message: 'few' });
    let st = s.status();
    assert.equal(st.state, 'degraded');
    assert.ok(st.sessionSigs, 'still valid, still served');
    assert.deepEqual(st.lastError, {
      type: 'NotEnoughNodes',
      message: 'few',
      at: st.lastError!.at,
      attempts: 1,
    });
    assert.equal(Date.parse(st.refreshAt!) - clock.t, 1_000);
    assert.equal(s.nextWakeAt(), clock.t + 1_000);

    clock.t = T0 + 24 * H - 1_000; // the next retry (2 s) falls after expiry
    s.beginAttempt();
    clock.draws = [0];
    s.failed({ kind: 'transient', type: 'NotEnoughNodes', message: 'few' });
    assert.equal(s.nextWakeAt(), T0 + 24 * H, 'wakes at expiry rather than the later retry');
    clock.t = T0 + 24 * H;
    assert.ok(s.markExpiredIfDue());
    st = s.status();
    assert.equal(st.state, 'expired');
    assert.equal(st.sessionSigs, null);
    assert.equal(st.lastError?.attempts, 2);

    s.beginAttempt();
    s.succeeded(result(clock));
    st = s.status();
    assert.equal(st.state, 'fresh');
    assert.equal(st.lastError, undefined);
    assert.equal(st.generation, 2);
  });

  it('a permanent failure plans no retry and waits for a rotation', () => {
    const { s, clock } = minted();
    clock.t = T0 + 16 * H;
    s.beginAttempt();
    s.failed({ kind: 'permanent', type: 'NodePKPNotAuthorized', message: 'not authorized' });
    assert.equal(s.state, 'failed');
    assert.equal(s.status().refreshAt, null);
    assert.equal(s.nextWakeAt(), T0 + 24 * H, 'only to show the sigs expired');
    clock.t = T0 + 24 * H;
    assert.ok(!s.markExpiredIfDue(), 'failed stays failed');
    assert.equal(s.nextWakeAt(), null);
    assert.ok(!s.mintDue());
    s.requestRotation({ reason: 'fixed' });
    assert.ok(s.mintDue());
  });

  it('treats already-expired sigs from the activity as a transient failure', () => {
    const clock = new FakeClock();
    const s = new AgentSession({ spec, clock });
    s.beginAttempt();
    s.succeeded(result(clock, -1));
    assert.equal(s.state, 'degraded');
    assert.equal(s.status().lastError?.type, 'InvalidMintResult');
    assert.equal(s.generation, 0);
  });

  it('upserts search attributes once per mint and on degraded/expired/failed only', () => {
    const clock = new FakeClock();
    const s = new AgentSession({ spec, clock });
    s.beginAttempt();
    assert.deepEqual(s.takeSearchAttributeUpdates(), [], 'pending/refreshing are not published');
    s.succeeded(result(clock));
    const names = () => s.takeSearchAttributeUpdates().map((p) => p.key.name);
    assert.deepEqual(names(), ['LitSessionState', 'LitSessionExpiresAt', 'LitSessionGeneration']);
    assert.deepEqual(names(), []);
    s.beginAttempt();
    s.failed({ kind: 'transient', type: 'X', message: 'x' });
    assert.deepEqual(names(), ['LitSessionState']);
    s.beginAttempt();
    s.failed({ kind: 'transient', type: 'X', message: 'x' });
    assert.deepEqual(names(), [], 'still degraded: nothing new');
    s.beginAttempt();
    s.succeeded(result(clock));
    assert.deepEqual(names().length, 3);
  });

  it('does not re-upsert what the run started with', () => {
    const { s, clock } = minted();
    const carried = s.carry();
    const next = new AgentSession({ spec, clock, carried, published: { state: 'fresh', generation: 1 } });
    assert.deepEqual(next.takeSearchAttributeUpdates(), []);
  });

  it('carries everything over continue-as-new', () => {
    const { s, clock } = minted();
    clock.t += H;
    clock.draws = [0.5];
    s.requestRotation({ reason: 'r', spreadMs: 2 * H });
    const carried = JSON.parse(JSON.stringify(s.carry()));
    const next = new AgentSession({ spec, clock, carried });
    assert.deepEqual(next.status(), s.status());
    assert.deepEqual(next.carry(), s.carry());
    assert.ok(!next.mintDue(), 'fresh carried sigs: no mint on start');
    assert.equal(next.attemptsThisRun, 0);
  });

  it('counts attempts towards maxMintsPerRun', () => {
    const clock = new FakeClock();
    const s = new AgentSession({ spec, clock, options: { maxMintsPerRun: 2 } });
    s.beginAttempt();
    s.failed({ kind: 'transient', type: 'X', message: 'x' });
    assert.ok(!s.runIsFull());
    s.beginAttempt();
    s.succeeded(result(clock));
    assert.ok(s.runIsFull());
  });

  it('validates rotateNow: rejects a bad spread and any request while closing', () => {
    const { s } = minted();
    assert.doesNotThrow(() => s.validateRotation(undefined));
    assert.doesNotThrow(() => s.validateRotation({ spreadMs: 0 }));
    assert.throws(() => s.validateRotation({ spreadMs: -5 }), /spreadMs/);
    assert.throws(() => s.validateRotation({ spreadMs: Number.NaN }), /spreadMs/);
    s.close('stop');
    assert.throws(
      () => s.validateRotation({}),
      (err: any) => err.type === 'WorkflowClosing',
    );
    s.close('continue-as-new');
    assert.equal(s.closing, 'stop', 'a stop is not downgraded');
  });
});
