/**
 * A fleet of 100 agents started together mints together once, then spreads out: the jitter puts
 * each agent's refresh at an independent random point of the policy window.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { currentSessionSigsQuery, stopSignal } from '../../src/shared/messages';
import { refreshWindow } from '../../src/workflows/refresh-policy';
import { agentSpec, type Harness, HOUR, startAgent, startHarness } from './session-refresh.fixtures';

const FLEET = 100;
const SLACK_MS = 2_000;

/** Kolmogorov-Smirnov distance between the samples (in [0, 1]) and the uniform distribution. */
function ksDistanceFromUniform(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return Math.max(...sorted.map((x, i) => Math.max((i + 1) / sorted.length - x, x - i / sorted.length)));
}

describe('sessionRefreshWorkflow fleet', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('session-refresh-fleet');
  });
  after(async () => {
    await h?.close();
  });

  it('spreads the refreshes of 100 agents started at once over the jitter window', async (t) => {
    const specs = Array.from({ length: FLEET }, (_, i) => agentSpec(`fleet-${String(i).padStart(3, '0')}`));
    const handles = await Promise.all(specs.map((spec) => startAgent(h, spec)));
    await h.env.sleep(HOUR);

    const statuses = await Promise.all(handles.map((handle) => handle.query(currentSessionSigsQuery)));
    // Position of each planned refresh inside its own window, 0 = earliest, 1 = latest.
    const positions = statuses.map((s, i) => {
      assert.equal(s.generation, 1, `${specs[i].agentId} minted once`);
      const w = refreshWindow(Date.parse(s.issuedAt!), Date.parse(s.expiresAt!), specs[i].refresh);
      const at = Date.parse(s.refreshAt!);
      assert.ok(at >= w.earliest && at <= w.latest, `${specs[i].agentId} refreshes inside the window`);
      return (at - w.earliest) / (w.latest - w.earliest);
    });
    const buckets = Array.from(
      { length: 10 },
      (_, b) => positions.filter((p) => Math.floor(p * 10) === b).length,
    );
    const ks = ksDistanceFromUniform(positions);
    t.diagnostic(
      `refreshes per tenth of the window: ${buckets.join(' ')}; KS distance from uniform ${ks.toFixed(3)}`,
    );
    // Thresholds with a false-alarm rate near 1e-4: uniform over the window, no pile-up anywhere.
    assert.ok(ks < 0.22, `refresh times are not uniform over the window (KS ${ks.toFixed(3)})`);
    assert.ok(Math.max(...buckets) <= 25, 'no tenth of the window holds a quarter of the fleet');

    // The mints really happen at those times: at most a handful at once instead of 100.
    await h.env.sleep(18 * HOUR);
    const refreshes = handles.map((handle, i) => {
      const calls = h.fake.callsFor(handle.workflowId);
      assert.equal(calls.length, 2, `${specs[i].agentId} refreshed once`);
      assert.ok(Math.abs(calls[1].at - Date.parse(statuses[i].refreshAt!)) < SLACK_MS);
      return calls[1].at;
    });
    const perTenMinutes = new Map<number, number>();
    for (const at of refreshes) {
      const slot = Math.floor(at / 600_000);
      perTenMinutes.set(slot, (perTenMinutes.get(slot) ?? 0) + 1);
    }
    const busiest = Math.max(...perTenMinutes.values());
    t.diagnostic(`busiest 10 minutes: ${busiest} of ${FLEET} refreshes (${perTenMinutes.size} slots used)`);
    assert.ok(busiest <= 15, `${busiest} refreshes in one 10-minute slot`);

    // Stop them all; results are read one by one (a hundred concurrent long polls trip the test server).
    await Promise.all(handles.map((handle) => handle.signal(stopSignal)));
    for (const handle of handles) assert.equal((await handle.result()).generation, 2);
  });
});
