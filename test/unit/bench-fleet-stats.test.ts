import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CLUSTER_SECTION,
  diffFailureTypes,
  extractSection,
  type FleetRun,
  fleetWorkerDelta,
  spliceSection,
  type WorkerCounters,
  workerCountComparisons,
  workerScaling,
} from '../../bench/fleet-stats';

const counters = (
  cpuMs: number,
  mints: number,
  failures = 0,
  failureTypes: Record<string, number> = {},
  rssMiB = 100,
): WorkerCounters => ({
  cpu: { user: cpuMs * 600, system: cpuMs * 400 },
  mints,
  failures,
  failureTypes,
  rssBytes: rssMiB * 2 ** 20,
});

test('fleetWorkerDelta: each worker against its own first reading, then summed', () => {
  const before = [counters(1_000, 10, 1, { 'A: x': 1 }), counters(500, 0), counters(0, 5)];
  const after = [
    counters(3_000, 110, 2, { 'A: x': 2 }, 300),
    counters(1_500, 40, 1, { 'B: y': 1 }, 200),
    counters(1_000, 15, 0, {}, 250),
  ];
  const d = fleetWorkerDelta(before, after);
  assert.equal(d.mints, 100 + 40 + 10);
  assert.equal(d.failures, 1 + 1 + 0);
  assert.deepEqual(d.failureTypes, { 'A: x': 1, 'B: y': 1 });
  assert.ok(Math.abs(d.cpuSec - (2 + 1 + 1)) < 1e-9);
  // RSS: the sum at the second reading, not a difference.
  assert.equal(d.rssBytes, 750 * 2 ** 20);
  assert.deepEqual(
    d.perWorker.map((w) => w.mints),
    [100, 40, 10],
  );
  assert.ok(Math.abs(d.perWorker[0].cpuSec - 2) < 1e-9);
});

test('fleetWorkerDelta: one worker is the plain difference; mismatched or empty readings are refused', () => {
  const d = fleetWorkerDelta([counters(0, 0)], [counters(2_500, 7)]);
  assert.equal(d.mints, 7);
  assert.ok(Math.abs(d.cpuSec - 2.5) < 1e-9);
  assert.throws(() => fleetWorkerDelta([counters(0, 0)], []), RangeError);
  assert.throws(() => fleetWorkerDelta([], []), RangeError);
});

test('diffFailureTypes keeps only the types that grew', () => {
  assert.deepEqual(diffFailureTypes({ a: 2, b: 1 }, { a: 2, b: 3, c: 1 }), { b: 2, c: 1 });
  assert.deepEqual(diffFailureTypes({}, {}), {});
});

const run = (server: string, size: number, mode: string, workers: number | undefined, agentsPerSec: number) =>
  ({ server, size, mode, workers, agentsPerSec }) satisfies FleetRun;

test('workerCountComparisons pairs real and canned of the same size and worker count, on one server only', () => {
  const scenarios = [
    run('cluster', 1000, 'canned', 3, 80),
    run('cluster', 1000, 'real', 1, 40),
    run('cluster', 1000, 'canned', 1, 50),
    run('cluster', 1000, 'real', 3, 60),
    run('cluster', 100, 'real', 1, 30),
    // no canned fleet of 100 agents: left out
    run('lifted', 1000, 'canned', 1, 1000),
    run('cluster', 1000, 'real-sdk', 1, 10),
  ];
  const cs = workerCountComparisons(scenarios, 'cluster');
  assert.deepEqual(
    cs.map((c) => [c.size, c.workers, c.real.agentsPerSec, c.canned.agentsPerSec, c.ratio]),
    [
      [1000, 1, 40, 50, 0.8],
      [1000, 3, 60, 80, 0.75],
    ],
  );
  // Records without a worker count are single-worker fleets.
  const old = workerCountComparisons(
    [run('default', 10, 'real', undefined, 5), run('default', 10, 'canned', 1, 10)],
    'default',
  );
  assert.equal(old.length, 1);
  assert.equal(old[0].workers, 1);
  assert.equal(old[0].ratio, 0.5);
});

test('workerScaling: agents/s with more workers ÷ with fewer, per mode; undefined when one is missing', () => {
  const cs = workerCountComparisons(
    [
      run('cluster', 1000, 'real', 1, 40),
      run('cluster', 1000, 'canned', 1, 50),
      run('cluster', 1000, 'real', 3, 30),
      run('cluster', 1000, 'canned', 3, 100),
    ],
    'cluster',
  );
  assert.deepEqual(workerScaling(cs, 1000, 1, 3), { real: 0.75, canned: 2 });
  assert.equal(workerScaling(cs, 1000, 1, 5), undefined);
  assert.equal(workerScaling(cs, 100, 1, 3), undefined);
});

const section = (body: string) =>
  `${CLUSTER_SECTION.start}\n## B2 on the cluster\n\n${body}\n${CLUSTER_SECTION.end}`;

test('spliceSection: inserts before the first heading found, replaces in place later, keeps the rest', () => {
  const report = '# Benchmarks\n\n## B2 — fleet\n\nfigures\n\n## B3 — steady state\n\nmore $& $1\n';
  const first = spliceSection(report, section('one'), CLUSTER_SECTION, [
    '## B3 — steady state',
    '## What limits',
  ]);
  assert.equal(
    first,
    `# Benchmarks\n\n## B2 — fleet\n\nfigures\n\n${section('one')}\n\n## B3 — steady state\n\nmore $& $1\n`,
  );
  // A second run replaces only its own section ("$&" in the section is text, not a pattern).
  const second = spliceSection(first, section('two $& $1'), CLUSTER_SECTION, ['## B3 — steady state']);
  assert.equal(
    second,
    first.replace(section('one'), () => section('two $& $1')),
  );
  assert.equal(extractSection(second, CLUSTER_SECTION), section('two $& $1'));
});

test('spliceSection: no heading to go before, or no report yet: appended at the end', () => {
  assert.equal(
    spliceSection('# B\n\ntext\n', section('x'), CLUSTER_SECTION, ['## B3']),
    `# B\n\ntext\n\n${section('x')}\n`,
  );
  assert.equal(spliceSection('', section('x'), CLUSTER_SECTION), `${section('x')}\n`);
  // A heading only matches at the start of a line.
  assert.equal(
    spliceSection('see ## B3 here\n', section('x'), CLUSTER_SECTION, ['## B3']),
    `see ## B3 here\n\n${section('x')}\n`,
  );
  assert.throws(() => spliceSection('', 'no markers', CLUSTER_SECTION), /markers/);
});

test('extractSection: undefined without both markers', () => {
  assert.equal(extractSection('text', CLUSTER_SECTION), undefined);
  assert.equal(extractSection(`a ${CLUSTER_SECTION.start} b`, CLUSTER_SECTION), undefined);
  assert.equal(extractSection(`a ${section('y')} b`, CLUSTER_SECTION), section('y'));
});
