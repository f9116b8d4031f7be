/**
 * A sandbox no action can break: at concurrency 1, 3 and 10, good runs (Lit's un-awaited signing
 * shape) interleaved with bad ones — a synchronous throw, an un-awaited rejection, an endless
 * loop, a top level awaiting a promise that never settles, a heap blow-up, a 10 MB setResponse —
 * 210 runs in all on one small pool. Every good run succeeds with its share and response; every
 * bad one gets Lit's code; the pool ends with no run in flight.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  type ActionSignatureShare,
  type LitActionHost,
  LitActionPool,
  runLitAction,
} from '../../src/devnet/lit-action-runner';
import { LitNodeError } from '../../src/devnet/lit-errors';

const pool = new LitActionPool({ maxWorkers: 4, maxOldGenerationSizeMb: 32 });
after(() => pool.close());

function host(timeoutMs: number, n: number): LitActionHost {
  return {
    jsParams: { n },
    timeoutMs,
    pool,
    rpcUrl: () => 'http://127.0.0.1:8545',
    signEcdsa: ({ sigName }) =>
      new Promise<ActionSignatureShare>((resolve) =>
        setTimeout(
          () =>
            resolve({
              sigType: 'K256',
              signatureShare: `share-${n}`,
              shareIndex: 1,
              bigR: 'r',
              publicKey: 'p',
              dataSigned: 'd',
              sigName,
            }),
          5,
        ),
      ),
  };
}

const GOOD = `(async () => {
  const sig = await Lit.Actions.signEcdsa({ toSign: new Uint8Array(32).fill(n % 256), publicKey: '0x04', sigName: 'sig' });
  Lit.Actions.setResponse({ response: JSON.stringify({ n, sig }) });
})();`;

interface Bad {
  name: string;
  code: string;
  expect: string;
  timeoutMs?: number;
}
const BAD: Bad[] = [
  { name: 'sync throw', code: `throw new Error('bad');`, expect: 'NodeJsExecutionError' },
  {
    name: 'un-awaited rejection',
    code: `(async () => { await Lit.Actions.getRpcUrl({ chain: 'x' }); throw new Error('bad'); })();
           Lit.Actions.signEcdsa({ toSign: [1], publicKey: '0x04', sigName: 'left' });`,
    expect: 'NodeJsExecutionError',
  },
  { name: 'infinite loop', code: `for (;;) {}`, expect: 'NodeJsTimeoutError', timeoutMs: 300 },
  { name: 'never-settling promise', code: `await new Promise(() => {});`, expect: 'NodeJsExecutionError' },
  {
    name: 'heap blow-up',
    code: `const keep = []; for (;;) keep.push(new Array(1 << 16).fill(keep.length));`,
    expect: 'NodeJsMemoryLimitError',
    timeoutMs: 30_000,
  },
  {
    name: 'setResponse of 10 MB',
    code: `Lit.Actions.setResponse({ response: 'x'.repeat(10 * 1024 * 1024) });`,
    expect: 'NodeJsExecutionError',
  },
];

type Outcome = { kind: 'good'; n: number; ok: boolean; why?: string } | { kind: string; code?: string };

async function runOne(i: number): Promise<Outcome> {
  // Every third run is bad, cycling through the kinds; the rest are good.
  if (i % 3 === 2) {
    const bad = BAD[Math.floor(i / 3) % BAD.length];
    try {
      await runLitAction(bad.code, host(bad.timeoutMs ?? 5000, i));
      return { kind: bad.name, code: 'succeeded' };
    } catch (e) {
      return { kind: bad.name, code: e instanceof LitNodeError ? e.code : String(e) };
    }
  }
  try {
    const res = await runLitAction(GOOD, host(10_000, i));
    const ok = res.signedData.sig?.signatureShare === `share-${i}` && JSON.parse(res.response).n === i;
    return { kind: 'good', n: i, ok, why: ok ? undefined : JSON.stringify(res) };
  } catch (e) {
    return { kind: 'good', n: i, ok: false, why: String(e) };
  }
}

async function runAll(total: number, concurrency: number, offset: number): Promise<Outcome[]> {
  const out: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = offset + next++;
        out.push(await runOne(i));
      }
    }),
  );
  return out;
}

for (const [concurrency, offset] of [
  [1, 0],
  [3, 1000],
  [10, 2000],
] as const) {
  test(`70 runs at concurrency ${concurrency}: good ones succeed, bad ones get Lit's codes`, async () => {
    const outcomes = await runAll(70, concurrency, offset);
    assert.equal(outcomes.length, 70);
    const goods = outcomes.filter((o): o is Extract<Outcome, { kind: 'good' }> => o.kind === 'good');
    assert.ok(goods.length >= 46);
    for (const g of goods) assert.ok(g.ok, `good run ${g.n}: ${g.why}`);
    const bads = outcomes.filter((o) => o.kind !== 'good') as { kind: string; code?: string }[];
    for (const b of bads) {
      assert.equal(b.code, BAD.find((x) => x.name === b.kind)!.expect, `bad run (${b.kind})`);
    }
    assert.deepEqual(new Set(bads.map((b) => b.kind)).size, BAD.length, 'every kind of bad run ran');
    assert.equal(pool.stats().busy, 0, 'no run left in flight');
  });
}
