import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SessionSigsUnavailableError } from '../../src/client/errors';
import {
  type CachedSigs,
  decideSessionSigs,
  type FetchedStatus,
  SessionSigsSource,
  type SigsDecision,
  type SigsDecisionInput,
} from '../../src/client/session-sigs-source';
import type { SessionStatus } from '../../src/shared/types';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const SIGS = {
  'http://127.0.0.1:7470': {
    sig: 's',
    derivedVia: 'litSessionSignViaNacl',
    signedMessage: 'm',
    address: 'a',
  },
};
const SIGS2 = {
  'http://127.0.0.1:7470': {
    sig: 's2',
    derivedVia: 'litSessionSignViaNacl',
    signedMessage: 'm2',
    address: 'a',
  },
};

function cached(expiresInMs: number, generation = 1): CachedSigs {
  return { sessionSigs: SIGS, expiresAtMs: T0 + expiresInMs, generation };
}

function fetched(
  over: Partial<FetchedStatus> & { expiresInMs?: number; refreshInMs?: number },
): FetchedStatus {
  const { expiresInMs, refreshInMs, ...rest } = over;
  return {
    state: 'fresh',
    generation: 1,
    sessionSigs: SIGS,
    expiresAt: expiresInMs === undefined ? null : iso(T0 + expiresInMs),
    refreshAt: refreshInMs === undefined ? null : iso(T0 + refreshInMs),
    ...rest,
  };
}

describe('decideSessionSigs', () => {
  const base: SigsDecisionInput = {
    nowMs: T0,
    minValidityMs: 5 * MIN,
    startedMs: T0,
    deadlineMs: T0 + 30_000,
    pollIntervalMs: 1_000,
  };
  const cases: [string, Partial<SigsDecisionInput>, SigsDecision['action'], RegExp?][] = [
    ['no cache, nothing fetched → fetch', {}, 'fetch'],
    ['cache valid well beyond minValidity → use it, no fetch', { cached: cached(60 * MIN) }, 'use-cached'],
    ['cache valid exactly minValidity → use it', { cached: cached(5 * MIN) }, 'use-cached'],
    ['cache 1 ms short of minValidity → fetch', { cached: cached(5 * MIN - 1) }, 'fetch'],
    ['cache expired → fetch', { cached: cached(-1) }, 'fetch'],
    [
      'fetched fresh sigs valid long enough → use them',
      { cached: cached(MIN), fetched: fetched({ expiresInMs: 60 * MIN, generation: 2 }) },
      'use-fetched',
    ],
    [
      'new agent, pending, no sigs → wait one poll interval',
      { fetched: fetched({ state: 'pending', generation: 0, sessionSigs: null }) },
      'wait',
      /not minted yet \(state pending\)/,
    ],
    [
      'refreshing with sigs too short → wait',
      { fetched: fetched({ state: 'refreshing', expiresInMs: MIN }) },
      'wait',
      /expire in 1m, less than the required 5m/,
    ],
    [
      'degraded with expired sigs → wait while the workflow retries',
      {
        fetched: fetched({
          state: 'expired',
          expiresInMs: -MIN,
          lastError: { type: 'NodeSystemFault', message: 'boom', at: iso(T0), attempts: 3 },
        }),
      },
      'wait',
      /expired at .*NodeSystemFault: boom/,
    ],
    [
      'pending after the deadline → fail and say how long it waited',
      { startedMs: T0 - 30_000, deadlineMs: T0, fetched: fetched({ state: 'pending', sessionSigs: null }) },
      'fail',
      /not minted yet \(state pending\), after waiting 30s/,
    ],
    [
      'expired sigs at the deadline → fail, never hand them out',
      { deadlineMs: T0, fetched: fetched({ state: 'degraded', expiresInMs: -1 }) },
      'fail',
      /expired at/,
    ],
    [
      'sigs valid but shorter than minValidity with no wait allowed → fail',
      { deadlineMs: T0, fetched: fetched({ expiresInMs: MIN }) },
      'fail',
      /less than the required 5m/,
    ],
    [
      'failed (permanent error) → fail at once even with time left',
      {
        fetched: fetched({
          state: 'failed',
          sessionSigs: null,
          lastError: { type: 'InvalidSigner', message: 'env K not set', at: iso(T0), attempts: 1 },
        }),
      },
      'fail',
      /InvalidSigner: env K not set\); the agent stopped retrying/,
    ],
    [
      'fresh but too short, next refresh after the deadline → fail now, waiting cannot help',
      { fetched: fetched({ expiresInMs: 2 * MIN, refreshInMs: 10 * MIN }) },
      'fail',
      /next refresh at .*rotate the agent/,
    ],
    [
      'a replaced agent not minted yet, old cached sigs still valid → use the cache',
      { cached: cached(60 * MIN), fetched: fetched({ state: 'pending', generation: 0, sessionSigs: null }) },
      'use-cached',
    ],
    [
      'fresh but too short, refresh due before the deadline → wait for it',
      { fetched: fetched({ expiresInMs: 2 * MIN, refreshInMs: 10_000 }) },
      'wait',
    ],
  ];
  for (const [name, over, action, reason] of cases) {
    test(name, () => {
      const d = decideSessionSigs({ ...base, ...over });
      assert.equal(d.action, action, JSON.stringify(d));
      if (reason) assert.match(d.action === 'fail' ? d.reason : d.action === 'wait' ? d.why : '', reason);
    });
  }

  test('a wait never runs past the deadline', () => {
    const d = decideSessionSigs({
      ...base,
      deadlineMs: T0 + 250,
      pollIntervalMs: 1_000,
      fetched: fetched({ state: 'pending', sessionSigs: null }),
    });
    assert.deepEqual(d.action === 'wait' && d.delayMs, 250);
  });
});

/** A fake clock and a scripted workflow: `statusAt(now)` is what the query returns at that time. */
function harness(statusAt: (nowMs: number) => SessionStatus | Error) {
  let now = T0;
  let fetches = 0;
  const source = (opts: { minValidityMs?: number; waitTimeoutMs?: number } = {}) =>
    new SessionSigsSource({
      agentId: 'a1',
      minValidityMs: opts.minValidityMs ?? 5 * MIN,
      waitTimeoutMs: opts.waitTimeoutMs ?? 30_000,
      pollIntervalMs: 1_000,
      now: () => now,
      sleep: async (d) => {
        now += d;
      },
      fetchStatus: async () => {
        fetches++;
        const s = statusAt(now);
        if (s instanceof Error) throw s;
        return s;
      },
    });
  return {
    source,
    advance: (d: number) => {
      now += d;
    },
    get now() {
      return now;
    },
    get fetches() {
      return fetches;
    },
  };
}

function status(over: Partial<SessionStatus>): SessionStatus {
  return {
    agentId: 'a1',
    network: 'devnet',
    state: 'fresh',
    generation: 1,
    sessionSigs: SIGS,
    issuedAt: iso(T0),
    expiresAt: iso(T0 + 60 * MIN),
    refreshAt: iso(T0 + 40 * MIN),
    nodeUrls: [],
    ...over,
  };
}

describe('SessionSigsSource', () => {
  test('serves from the cache while valid, fetches once it is not', async () => {
    const h = harness((now) =>
      now < T0 + 40 * MIN
        ? status({})
        : status({ generation: 2, sessionSigs: SIGS2, issuedAt: iso(now), expiresAt: iso(now + 60 * MIN) }),
    );
    const src = h.source();
    assert.equal(await src.get(), SIGS);
    assert.equal(h.fetches, 1);
    h.advance(30 * MIN);
    assert.equal(await src.get(), SIGS, 'still 30m left ≥ 5m');
    assert.equal(h.fetches, 1, 'no query while the cache is usable');
    h.advance(26 * MIN); // 4m left < 5m minimum; the workflow refreshed at 40m
    const r = await src.getWithInfo();
    assert.equal(r.sessionSigs, SIGS2);
    assert.equal(r.generation, 2);
    assert.equal(r.fromCache, false);
    assert.equal(h.fetches, 2);
  });

  test('across a refresh boundary it never returns sigs valid for less than minValidity', async () => {
    // TTL 10m, refresh at 6m; the refresh takes 20s (state refreshing meanwhile).
    const ttl = 10 * MIN;
    const h = harness((now) => {
      const cycle = Math.floor((now - T0) / (6 * MIN + 20_000));
      const cycleStart = T0 + cycle * (6 * MIN + 20_000);
      const issued = cycleStart;
      const inRefresh = now - cycleStart >= 6 * MIN;
      return status({
        generation: cycle + 1,
        state: inRefresh ? 'refreshing' : 'fresh',
        sessionSigs: { n: { ...SIGS['http://127.0.0.1:7470'], sig: `g${cycle + 1}` } },
        issuedAt: iso(issued),
        expiresAt: iso(issued + ttl),
        refreshAt: iso(cycleStart + 6 * MIN),
      });
    });
    const minValidityMs = 4 * MIN + 30_000;
    const src = h.source({ minValidityMs, waitTimeoutMs: 60_000 });
    const generations = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const r = await src.getWithInfo();
      assert.ok(
        Date.parse(r.expiresAt) - h.now >= minValidityMs,
        `call ${i}: ${r.expiresAt} at ${iso(h.now)}`,
      );
      generations.add(r.generation);
      h.advance(7_000);
    }
    assert.ok(generations.size >= 3, 'crossed several refreshes');
  });

  test('waits for the first mint of a new agent', async () => {
    const h = harness((now) =>
      now < T0 + 7_500
        ? status({ state: 'pending', generation: 0, sessionSigs: null, expiresAt: null })
        : status({}),
    );
    const r = await h.source().getWithInfo();
    assert.equal(r.generation, 1);
    assert.ok(h.now >= T0 + 7_500 && h.now <= T0 + 9_000, `returned at +${h.now - T0}ms`);
    assert.equal(h.fetches, 9);
  });

  test('gives up after the wait timeout with the reason', async () => {
    const h = harness(() => status({ state: 'pending', generation: 0, sessionSigs: null, expiresAt: null }));
    await assert.rejects(h.source({ waitTimeoutMs: 5_000 }).get(), (err: Error) => {
      assert.ok(err instanceof SessionSigsUnavailableError);
      assert.match(err.message, /agent "a1": not minted yet \(state pending\), after waiting 5s/);
      return true;
    });
    assert.equal(h.now, T0 + 5_000);
  });

  test('never hands out expired sigs when the workflow cannot refresh', async () => {
    const h = harness(() => status({ state: 'expired', expiresAt: iso(T0 - 1) }));
    await assert.rejects(h.source({ waitTimeoutMs: 3_000 }).get(), /expired at/);
  });

  test('errors of the query (unknown agent) propagate at once', async () => {
    const h = harness(() => new Error('unknown agent "a1"'));
    await assert.rejects(h.source().get(), /unknown agent "a1"/);
    assert.equal(h.fetches, 1);
  });

  test('concurrent callers share one query', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const src = new SessionSigsSource({
      agentId: 'a1',
      now: () => T0,
      fetchStatus: async () => {
        calls++;
        await gate;
        return status({});
      },
    });
    const all = Promise.all([src.get(), src.get(), src.get()]);
    release();
    const results = await all;
    assert.equal(calls, 1);
    for (const r of results) assert.equal(r, SIGS);
  });

  test('invalidate() forces a query', async () => {
    const h = harness(() => status({}));
    const src = h.source();
    await src.get();
    await src.get();
    assert.equal(h.fetches, 1);
    src.invalidate();
    await src.get();
    assert.equal(h.fetches, 2);
  });
});
