import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RefreshPolicy } from '../../src/shared/types';
import { computeRefreshAt, refreshWindow } from '../../src/workflows/refresh-policy';

const H = 3_600_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const DEFAULT: RefreshPolicy = { fraction: 2 / 3, jitter: 0.1 };

describe('refreshWindow', () => {
  const cases: { name: string; ttl: number; policy: RefreshPolicy; window: [number, number, number] }[] = [
    {
      name: '24 h, defaults: 2/3 ± 10 % of the wait',
      ttl: 24 * H,
      policy: DEFAULT,
      window: [14.4 * H, 16 * H, 17.6 * H],
    },
    {
      name: 'no jitter',
      ttl: 24 * H,
      policy: { fraction: 2 / 3, jitter: 0 },
      window: [16 * H, 16 * H, 16 * H],
    },
    {
      name: 'fraction 1/2, jitter 20 %',
      ttl: 10 * H,
      policy: { fraction: 0.5, jitter: 0.2 },
      window: [4 * H, 5 * H, 6 * H],
    },
    {
      name: 'renewBefore wins over the fraction',
      ttl: 24 * H,
      policy: { fraction: 2 / 3, jitter: 0.1, renewBeforeMs: 4 * H },
      window: [18 * H, 20 * H, 22 * H],
    },
    {
      name: 'jitter capped at half the time left before expiry (short renewBefore)',
      ttl: 24 * H,
      policy: { fraction: 2 / 3, jitter: 0.1, renewBeforeMs: 1 * H },
      window: [22.5 * H, 23 * H, 23.5 * H],
    },
    {
      name: 'jitter capped when fraction + jitter would pass expiry',
      ttl: 10 * H,
      policy: { fraction: 0.9, jitter: 0.5 },
      window: [8.5 * H, 9 * H, 9.5 * H],
    },
    {
      name: 'renewBefore not shorter than the lifetime falls back to the fraction',
      ttl: 1 * H,
      policy: { fraction: 0.5, jitter: 0, renewBeforeMs: 2 * H },
      window: [0.5 * H, 0.5 * H, 0.5 * H],
    },
    { name: 'already expired: now', ttl: -1 * H, policy: DEFAULT, window: [0, 0, 0] },
    { name: 'zero lifetime: now', ttl: 0, policy: DEFAULT, window: [0, 0, 0] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const w = refreshWindow(T0, T0 + c.ttl, c.policy);
      assert.deepEqual(
        [w.earliest - T0, w.nominal - T0, w.latest - T0].map((x) => Math.round(x)),
        c.window.map((x) => Math.round(x)),
      );
      assert.ok(w.latest <= Math.max(T0, T0 + c.ttl), 'never after expiry');
    });
  }
});

describe('computeRefreshAt', () => {
  const ttl = 24 * H;
  const cases: { name: string; random: number; delegationTtl?: number; expect: number }[] = [
    { name: 'random 0: earliest', random: 0, expect: 14.4 * H },
    { name: 'random 0.5: nominal', random: 0.5, expect: 16 * H },
    { name: 'random → 1: latest', random: 1 - 1e-9, expect: 17.6 * H },
    {
      name: 'delegation expiring later changes nothing',
      random: 0.5,
      delegationTtl: 7 * 24 * H,
      expect: 16 * H,
    },
    {
      name: 'delegation expiring first: refresh at its own point',
      random: 0.5,
      delegationTtl: 12 * H,
      expect: 8 * H,
    },
    { name: 'delegation already expired: at once', random: 0.5, delegationTtl: 0, expect: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const at = computeRefreshAt(
        {
          issuedAtMs: T0,
          expiresAtMs: T0 + ttl,
          ...(c.delegationTtl !== undefined ? { capacityDelegationExpiresAtMs: T0 + c.delegationTtl } : {}),
        },
        DEFAULT,
        c.random,
      );
      assert.ok(Math.abs(at - T0 - c.expect) <= 1, `${(at - T0) / H} h, expected ${c.expect / H} h`);
    });
  }

  it('always inside the window and before expiry, for any draw and policy', () => {
    for (let i = 0; i < 2_000; i++) {
      const policy: RefreshPolicy = {
        fraction: 0.05 + 0.9 * ((i * 0.618) % 1),
        jitter: 0.5 * ((i * 0.414) % 1),
        ...(i % 3 === 0 ? { renewBeforeMs: ((i * 7919) % 30) * H } : {}),
      };
      const ttlMs = (1 + (i % 29)) * H;
      const random = (i * 0.7548776662) % 1;
      const w = refreshWindow(T0, T0 + ttlMs, policy);
      const at = computeRefreshAt({ issuedAtMs: T0, expiresAtMs: T0 + ttlMs }, policy, random);
      assert.ok(at >= Math.floor(w.earliest) && at <= Math.ceil(w.latest), `case ${i}`);
      assert.ok(at > T0 && at < T0 + ttlMs, `case ${i}: strictly inside the lifetime`);
    }
  });
});
