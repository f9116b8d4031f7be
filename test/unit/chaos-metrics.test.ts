/** The chaos suite's measurements (test/chaos/metrics.ts), on hand-made samples and log lines. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RefreshPolicy } from '../../src/shared/types';
import {
  auditNetworkMints,
  auditRefreshes,
  checkRecovery,
  countDuplicateMints,
  invalidIntervals,
  markdownTable,
  maxUncoveredMs,
  parseLog,
  parseMintLog,
  type Sample,
  seconds,
  separateRedoneAfterKill,
  statesSeen,
  summarizeGaps,
  workflowTaskTrouble,
} from '../chaos/metrics';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function sample(agentId: string, tSec: number, over: Partial<Sample> = {}): Sample {
  return {
    t: T0 + tSec * 1000,
    agentId,
    queryOk: true,
    state: 'fresh',
    generation: 1,
    issuedAt: T0,
    expiresAt: T0 + 60_000,
    refreshAt: T0 + 15_000,
    sigNodes: ['n1', 'n2', 'n3'],
    valid: true,
    networkImpaired: false,
    uncovered: [],
    ...over,
  };
}

const lastError = { type: 'NotEnoughNodes', attempts: 2, at: T0 };

describe('gaps from monitor samples', () => {
  test('an invalid run lasts from its first invalid sample to the next valid one', () => {
    const samples = [
      sample('a', 0),
      sample('a', 1, { valid: false, error: 'decrypt failed: x' }),
      sample('a', 2, { valid: false }),
      sample('a', 3),
      sample('b', 0),
      sample('b', 1),
    ];
    const intervals = invalidIntervals(samples, T0 + 10_000);
    assert.deepEqual(intervals, [
      {
        agentId: 'a',
        start: T0 + 1000,
        end: T0 + 3000,
        explained: false,
        error: 'decrypt failed: x',
        states: ['fresh'],
      },
    ]);
    const gaps = summarizeGaps(intervals, ['a', 'b']);
    assert.equal(gaps.maxInvalidMs, 2000);
    assert.equal(gaps.maxUnexplainedMs, 2000);
    assert.deepEqual(gaps.perAgent.b, { invalidMs: 0, unexplainedMs: 0 });
  });

  test('a run still open at the end lasts until the window ends; samples may come unordered', () => {
    const samples = [sample('a', 5, { valid: false }), sample('a', 0), sample('a', 4, { valid: false })];
    const [i] = invalidIntervals(samples, T0 + 9000);
    assert.equal(i.start, T0 + 4000);
    assert.equal(i.end, T0 + 9000);
  });

  test('degraded/expired with lastError, or a network the scenario took away, explain a gap', () => {
    const samples = [
      sample('a', 0, { valid: false, networkImpaired: true }),
      sample('a', 1, { valid: false, state: 'expired', lastError }),
      sample('a', 2, { valid: false, state: 'expired' }), // no lastError: says nothing
      sample('a', 3, { valid: false, state: 'fresh' }),
      sample('a', 4),
    ];
    const intervals = invalidIntervals(samples, T0 + 10_000);
    assert.deepEqual(
      intervals.map((i) => [i.start - T0, i.end - T0, i.explained]),
      [
        [0, 2000, true],
        [2000, 4000, false],
      ],
    );
    const gaps = summarizeGaps(intervals, ['a']);
    assert.equal(gaps.maxInvalidMs, 4000);
    assert.equal(gaps.maxUnexplainedMs, 2000);
  });

  test('time with sigs that miss a validator adds up per agent', () => {
    const samples = [
      sample('a', 0, { uncovered: ['n4'] }),
      sample('a', 1, { uncovered: ['n4'] }),
      sample('a', 2),
      sample('a', 3, { uncovered: ['n4'] }),
      sample('b', 0),
    ];
    assert.equal(maxUncoveredMs(samples, T0 + 5000), 2000 + 2000);
  });
});

describe('refresh audit', () => {
  // 60 s sigs refreshed 45 s before expiry, ±10%: due 15 s after issue, latest 16.5 s.
  const policy: RefreshPolicy = { fraction: 2 / 3, renewBeforeMs: 45_000, jitter: 0.1 };
  const gen = (g: number, issuedSec: number) => ({
    generation: g,
    issuedAt: T0 + issuedSec * 1000,
    expiresAt: T0 + (issuedSec + 60) * 1000,
  });

  test('every due refresh happened, on time', () => {
    const samples = [
      sample('a', 0, gen(1, 0)),
      sample('a', 10, gen(1, 0)),
      sample('a', 16, gen(2, 15)),
      sample('a', 32, gen(3, 31)),
    ];
    const audit = auditRefreshes(samples, policy, { start: T0, end: T0 + 40_000 }, 5_000);
    // Generation 1 and 2 were due (16.5 s, 31.5 s + slack ≤ 40 s); generation 3 is not yet.
    assert.equal(audit.due, 2);
    assert.equal(audit.lost, 0);
    assert.equal(audit.gained, 2);
    assert.equal(audit.backwards, 0);
    assert.equal(audit.maxLatenessMs, -500); // generation 3 came 0.5 s before the latest point
    assert.ok(Math.abs(audit.expectedByPolicy - 40 / 15) < 0.1);
  });

  test('a due refresh that never came is lost; a generation going down is counted', () => {
    const samples = [
      sample('a', 0, gen(3, 0)),
      sample('a', 20, gen(2, 0)),
      sample('a', 21, { ...gen(3, 0), queryOk: false, generation: 1 }), // unanswered: ignored
      sample('a', 40, gen(3, 0)),
    ];
    const audit = auditRefreshes(samples, policy, { start: T0, end: T0 + 45_000 }, 5_000);
    assert.equal(audit.backwards, 1);
    assert.equal(audit.lost, 1);
    assert.deepEqual(audit.lostDetail, [{ agentId: 'a', generation: 3, dueAt: T0 + 16_500 }]);
  });
});

describe('worker logs', () => {
  const line = (o: Record<string, unknown>) =>
    JSON.stringify({ level: 'info', time: '2026-01-01T00:00:01.000Z', ...o });
  const text = [
    'Sun, 01 Jan 2026 00:00:00 GMT lit-js-sdk:constants:errors deprecated LitErrorKind',
    line({ msg: 'minted session sigs', agentId: 'a', generation: 1, attempt: 1 }),
    line({ msg: 'minted session sigs', component: 'temporal', generation: 1 }), // the workflow's own line
    line({ msg: 'minted session sigs', agentId: 'a', generation: 2, attempt: 1 }),
    '{"level":"info","time":"2026-01-01T00:00:02.000Z","msg":"minted sess', // cut off by SIGKILL
  ].join('\n');

  test('parses JSON lines only and keeps the activity mints', () => {
    assert.equal(parseLog(text, 'A1').length, 3);
    assert.deepEqual(parseMintLog(text, 'A1'), [
      { agentId: 'a', generation: 1, t: T0 + 1000, worker: 'A1' },
      { agentId: 'a', generation: 2, t: T0 + 1000, worker: 'A1' },
    ]);
  });

  test('a generation minted twice is a duplicate', () => {
    const other = line({ msg: 'minted session sigs', agentId: 'a', generation: 2, attempt: 1 });
    const report = countDuplicateMints([...parseMintLog(text, 'A1'), ...parseMintLog(other, 'B1')]);
    assert.equal(report.mints, 3);
    assert.equal(report.generations, 2);
    assert.equal(report.duplicates, 1);
    assert.deepEqual(report.detail, [{ agentId: 'a', generation: 2, count: 2, workers: ['A1', 'B1'] }]);
  });

  test('a generation redone after its worker was SIGKILLed is told apart from a real duplicate', () => {
    const d = (workers: string[]) => ({ agentId: 'a', generation: 2, count: workers.length, workers });
    const cases: { detail: ReturnType<typeof d>[]; killed: string[]; duplicates: number; redone: number }[] =
      [
        { detail: [d(['A1', 'B1'])], killed: [], duplicates: 1, redone: 0 },
        { detail: [d(['A1', 'B1'])], killed: ['A1'], duplicates: 0, redone: 1 },
        // Both mints on live workers, or three mints: not explained by the kill.
        { detail: [d(['B1', 'C1'])], killed: ['A1'], duplicates: 1, redone: 0 },
        { detail: [d(['A1', 'B1', 'C1'])], killed: ['A1'], duplicates: 2, redone: 0 },
        { detail: [d(['A1', 'A1'])], killed: ['A1'], duplicates: 1, redone: 0 },
      ];
    for (const c of cases) {
      const report = { mints: 0, generations: 0, duplicates: 0, detail: c.detail };
      const r = separateRedoneAfterKill(report, c.killed);
      assert.deepEqual([r.duplicates, r.redone], [c.duplicates, c.redone], JSON.stringify(c));
    }
  });
});

describe('network mints', () => {
  test('shares group by session key; a key never served to an agent was minted for nothing', () => {
    const s = (node: number, key: string) => ({
      t: T0,
      node,
      pkpPublicKey: '0x04aa',
      sessionKey: `lit:session:${key}`,
    });
    const report = auditNetworkMints(
      [s(0, 'k1'), s(1, 'k1'), s(2, 'k1'), s(0, 'k2'), s(1, 'k2'), s(0, 'k3'), s(0, 'k3')],
      2,
      new Set(['k1']),
    );
    assert.deepEqual(report, { mints: 2, wasted: 1, partial: 1 });
  });
});

describe('recovery after an outage', () => {
  test('bounded by the backoff interval in effect when the nodes came back, plus a margin', () => {
    const back = T0 + 100_000;
    const samples = [
      sample('a', 101, { state: 'expired', valid: false, lastError }),
      sample('a', 120, { state: 'fresh' }),
      sample('b', 140, { state: 'fresh' }),
      sample('c', 99, { state: 'fresh' }), // before the nodes came back: does not count
    ];
    const checks = checkRecovery(
      [
        { agentId: 'a', refreshAt: T0 + 118_000, lastErrorAt: T0 + 86_000 }, // 32 s interval
        { agentId: 'b', refreshAt: T0 + 130_000, lastErrorAt: T0 + 114_000 }, // 16 s interval
        { agentId: 'c', refreshAt: null, lastErrorAt: null },
      ],
      samples,
      back,
      5_000,
    );
    assert.deepEqual(
      checks.map((c) => [c.agentId, c.intervalMs, c.recoveryMs, c.withinBound]),
      [
        ['a', 32_000, 20_000, true],
        ['b', 16_000, 40_000, false],
        ['c', 0, null, false],
      ],
    );
  });
});

describe('small helpers', () => {
  test('states in order of first appearance; workflow task trouble in a window; table and seconds', () => {
    assert.deepEqual(
      statesSeen([
        sample('a', 2, { state: 'degraded' }),
        sample('a', 0),
        sample('a', 3, { state: 'degraded' }),
        sample('a', 4),
      ]),
      { a: ['fresh', 'degraded', 'fresh'] },
    );
    const trouble = workflowTaskTrouble(
      [
        { agentId: 'a', type: 'EVENT_TYPE_WORKFLOW_TASK_FAILED', t: T0 + 5 },
        { agentId: 'a', type: 'EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT', t: T0 + 6 },
        { agentId: 'a', type: 'EVENT_TYPE_WORKFLOW_TASK_FAILED', t: T0 + 50 },
        { agentId: 'a', type: 'EVENT_TYPE_TIMER_FIRED', t: T0 + 7 },
      ],
      { start: T0, end: T0 + 10 },
    );
    assert.equal(trouble.failed.length, 1);
    assert.equal(trouble.timedOut.length, 1);
    assert.equal(markdownTable(['x', 'y'], [[1, 'a|b']]), '| x | y |\n| --- | --- |\n| 1 | a\\|b |');
    assert.equal(seconds(0), '0 s');
    assert.equal(seconds(1234), '1.2 s');
  });
});
