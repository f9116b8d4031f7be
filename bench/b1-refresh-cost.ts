/**
 * B1 refresh cost, three flows on the same devnet in the same run, EOA and PKP:
 *
 * - pooled (the product): the project's Lit adapter (`createActivities(...).mintSessionSigs` on the
 *   pooled, already connected client) with native Ed25519 installed as `createSessionWorker` does it
 *   (`useNativeEd25519()`) and the SDK's re-check of our own signature skipped, in a child process
 *   (bench/pooled-child.ts);
 * - pooled, stock SDK: the same adapter and pool in another child process that keeps the SDK's own
 *   pure-JavaScript Ed25519 and its re-check (what pooling alone gives);
 * - naive: the stock SDK flow the Lit docs show (a fresh `LitNodeClient`, `connect()`, then
 *   `getSessionSigs` / `getPkpSessionSigs`; disconnected after each refresh) in this process, which
 *   never installs the swap (checked before every naive refresh).
 *
 * The swap is process-wide, hence one process per Ed25519 backend. The flows are interleaved
 * round-robin (the order rotates every iteration) so drift in machine load hits all of them alike.
 */

import crypto from 'node:crypto';
import path from 'node:path';
import { generateSessionKeyPair } from '@lit-protocol/crypto';
import { nacl } from '@lit-protocol/nacl';
import { ethers } from 'ethers';
import { SiweMessage } from 'siwe';
import { disposeLitClient } from '../src/lit/lit-client-lifecycle';
import {
  activeEd25519,
  type Ed25519Backend,
  nativeEd25519,
  sameEd25519,
  sdkEd25519,
} from '../src/lit/native-ed25519';
import type { MintResult } from '../src/shared/types';
import { connected, eoaSessionSigs, pkpSessionSigs } from '../test/devnet/helpers';
import { type BenchContext, cpuSeconds, type DevnetCounters, fmt, pct, sumValues, table } from './common';
import { type BenchChild, forkChild } from './ipc';
import { keyFor } from './keys';
import type { PooledChildConfig, PooledChildReady, PooledMintTiming } from './pooled-child';
import { ratio, type Summary, summarize } from './stats';

export interface B1Options {
  iterations: number;
  warmup: number;
}

export type Flow = 'pooled' | 'pooled-sdk' | 'naive';
type Mode = 'eoa' | 'pkp';

export const FLOW_LABELS: Record<Flow, string> = {
  pooled: 'pooled (product)',
  'pooled-sdk': 'pooled, stock SDK',
  naive: 'naive (stock SDK)',
};

interface Sample {
  ms: number;
  clientCpuMs: number;
  devnetCpuMs: number;
  chainRpc: number;
  nodeRequests: number;
  indexer: number;
}

export interface Ratio {
  median: number;
  p95: number;
}

export interface B1Result {
  iterations: number;
  warmup: number;
  blockTimeMs: number;
  nodes: number;
  /** The product child's first refresh, which connects its pool (not in the tables). */
  firstPooledMintMs: number;
  /** How often the product child's pool connected over the whole run. */
  poolConnects: number;
  /** The Ed25519 implementation each flow's process had in place. */
  ed25519: Record<Flow, Ed25519Backend>;
  flows: Record<`${Flow}-${Mode}`, FlowResult>;
  /** naive / pooled (the product): the headline against the 3× target. */
  ratios: Record<Mode, Ratio>;
  /** naive / pooled with the stock SDK: pooling alone. */
  sdkRatios: Record<Mode, Ratio>;
  targetMet: boolean;
  breakdown: BreakdownRow[];
  /** node:crypto's Ed25519 gives the SDK's key pair and signature for a real refresh's message. */
  nativeSignaturesMatch: boolean;
}

export interface FlowResult {
  ms: Summary;
  clientCpuMs: number;
  devnetCpuMs: number;
  chainRpc: number;
  nodeRequests: number;
  indexer: number;
}

export interface BreakdownRow {
  step: string;
  /** CPU ms per call (process.cpuUsage around single calls, mean over the B1 iterations). */
  cpuMs: number;
  /** Calls per EOA refresh. */
  perRefresh: number;
  /**
   * Only the flows with this setup run the step; absent: every flow does. `product`: native Ed25519
   * and no re-check of our own signature; `stock`: the SDK's Ed25519 and re-check (pooled-sdk, naive).
   */
  setup?: Setup;
  /** Measured for comparison, run by no flow (excluded from the sums). */
  alternative?: boolean;
}

export type Setup = 'product' | 'stock';

interface BreakdownStep {
  step: string;
  perRefresh: number;
  setup?: Setup;
  alternative?: boolean;
  run: () => unknown;
  samples: number[];
}

/**
 * Where a pooled EOA refresh spends its CPU: the steps the SDK and the adapter run per refresh, on
 * a real refresh's messages — the Ed25519 work in both implementations (the product's node:crypto
 * one called directly, so this process keeps the SDK's), then what every flow runs. Each step is
 * timed once per B1 iteration, in the same rounds as the flows, so all see the same machine load.
 */
function breakdownSteps(
  sample: MintResult,
  key: string,
  nodes: number,
): { steps: BreakdownStep[]; match: boolean } {
  const first = Object.values(sample.sessionSigs)[0];
  const signedMessage = new Uint8Array(Buffer.from(first.signedMessage, 'utf8'));
  const capability = JSON.parse(first.signedMessage).capabilities[0] as {
    signedMessage: string;
    sig: string;
  };
  const seed = new Uint8Array(crypto.randomBytes(32));
  const secret = sdkEd25519.keyPairFromSeed(seed).secretKey;
  const match = sameEd25519(sdkEd25519, nativeEd25519, [seed], [signedMessage]);
  const wallet = new ethers.Wallet(key);
  const parsed = new SiweMessage(capability.signedMessage);
  const step = (s: Omit<BreakdownStep, 'samples'>): BreakdownStep => ({ ...s, samples: [] });
  const steps = [
    step({
      step: "session key pair: node:crypto (`nativeEd25519.keyPairFromSeed`, what the product's `generateSessionKeyPair` runs)",
      perRefresh: 1,
      setup: 'product',
      run: () => nativeEd25519.keyPairFromSeed(new Uint8Array(crypto.randomBytes(32))),
    }),
    step({
      step:
        "every node's session sig of one refresh: node:crypto (`nativeEd25519.detached` once per node in one " +
        'loop, as the SDK calls it: one key object per session key)',
      perRefresh: 1,
      setup: 'product',
      run: () => {
        for (let i = 0; i < nodes; i++) nativeEd25519.detached(signedMessage, secret);
      },
    }),
    step({
      step: 'session key pair: SDK `generateSessionKeyPair` (tweetnacl, JS)',
      perRefresh: 1,
      setup: 'stock',
      run: () => generateSessionKeyPair(),
    }),
    step({
      step: "one node's session sig: SDK `nacl.sign.detached` (tweetnacl, JS)",
      perRefresh: nodes,
      setup: 'stock',
      run: () => nacl.sign.detached(signedMessage, secret),
    }),
    step({
      step: 'SIWE capability signature: ethers `signMessage` (secp256k1)',
      perRefresh: 1,
      run: () => wallet.signMessage(capability.signedMessage),
    }),
    step({
      step: 'SDK re-parses that SIWE: `new SiweMessage(text)` (`siwe` / apg-js)',
      perRefresh: 1,
      setup: 'stock',
      run: () => new SiweMessage(capability.signedMessage),
    }),
    step({
      step: 'SDK re-verifies it: `SiweMessage.verify` (re-serialise, validate, ecrecover)',
      perRefresh: 1,
      setup: 'stock',
      run: () => parsed.verify({ signature: capability.sig }, { suppressExceptions: true }),
    }),
  ];
  return { steps, match };
}

async function timeSteps(steps: BreakdownStep[], record: boolean): Promise<void> {
  for (const s of steps) {
    const c0 = process.cpuUsage();
    await s.run();
    if (record) s.samples.push(cpuSeconds(c0, process.cpuUsage()) * 1000);
  }
}

const TTL_MS = 3600_000;

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows. */

export async function runB1(ctx: BenchContext, opts: B1Options): Promise<B1Result> {
  const devnet = await ctx.devnet();
  if (devnet.blockTimeMs < 1_000) throw new Error('B1 needs a devnet with block time ≥ 1 s');
  const wallet = new ethers.Wallet(keyFor(`${ctx.seed}:b1`, 0));
  const pkpPublicKey = await devnet.pkpFor(wallet.address);
  const expectNodes = (count: number) => {
    if (count !== devnet.nodeUrls.length) {
      throw new Error(`expected sigs for ${devnet.nodeUrls.length} nodes, got ${count}`);
    }
  };
  const pooledChild = (name: string, ed25519: Ed25519Backend, recheckOwnAuthSigs: boolean) =>
    forkChild<PooledChildReady>(name, path.join(__dirname, 'pooled-child.ts'), {
      env: {
        BENCH_POOLED: JSON.stringify({
          network: devnet.network,
          key: wallet.privateKey,
          pkpPublicKey,
          ed25519,
          recheckOwnAuthSigs,
          ttlMs: TTL_MS,
        } satisfies PooledChildConfig),
      },
      logFile: path.join(ctx.runDir, `${name}.log`),
    });
  const children: Record<Exclude<Flow, 'naive'>, BenchChild<PooledChildReady>> = {
    pooled: pooledChild('pooled-native', 'native', false),
    'pooled-sdk': pooledChild('pooled-sdk', 'sdk', true),
  };
  const naiveBackend = () => {
    // The naive flow is the stock SDK: this process must never have the swap.
    const backend = activeEd25519();
    if (backend !== 'sdk') throw new Error(`B1 naive flow: Ed25519 is ${backend} in the orchestrator`);
    return backend;
  };

  /** Wall ms of one refresh and, for the pooled children, the CPU they measured themselves. */
  const run = async (flow: Flow, mode: Mode): Promise<{ ms: number; childCpuMs?: number }> => {
    if (flow !== 'naive') {
      const t = await children[flow].request<PooledMintTiming>('mint', { mode });
      expectNodes(t.nodes);
      return { ms: t.ms, childCpuMs: t.cpuMs };
    }
    naiveBackend();
    const t0 = performance.now();
    const client = await connected(devnet.network);
    let ms: number;
    try {
      const sigs =
        mode === 'eoa'
          ? await eoaSessionSigs(client, wallet, { expiration: new Date(Date.now() + TTL_MS).toISOString() })
          : await pkpSessionSigs(client, wallet, pkpPublicKey, {
              expiration: new Date(Date.now() + TTL_MS).toISOString(),
            });
      ms = performance.now() - t0;
      expectNodes(Object.keys(sigs).length);
    } finally {
      // Not timed: a naive caller may leave it to the garbage collector; this one cleans up.
      await disposeLitClient(client);
    }
    return { ms };
  };
  const measured = async (flow: Flow, mode: Mode): Promise<Sample> => {
    const before: DevnetCounters = await devnet.counters();
    const cpu0 = process.cpuUsage();
    const { ms, childCpuMs } = await run(flow, mode);
    const cpu1 = process.cpuUsage();
    const after: DevnetCounters = await devnet.counters();
    return {
      ms,
      clientCpuMs: childCpuMs ?? cpuSeconds(cpu0, cpu1) * 1000,
      devnetCpuMs: cpuSeconds(before.cpu, after.cpu) * 1000,
      chainRpc: sumValues(after.rpc) - sumValues(before.rpc),
      nodeRequests: sumValues(after.nodeRequests) - sumValues(before.nodeRequests),
      indexer: after.blockIndexerRequests - before.blockIndexerRequests,
    };
  };

  try {
    const [product, stock] = await Promise.all([children.pooled.ready, children['pooled-sdk'].ready]);
    const ed25519: B1Result['ed25519'] = {
      pooled: product.ed25519,
      'pooled-sdk': stock.ed25519,
      naive: naiveBackend(),
    };
    ctx.log(
      `B1 Ed25519: pooled ${ed25519.pooled}, pooled-sdk ${ed25519['pooled-sdk']}, naive ${ed25519.naive}`,
    );
    const sample = await children.pooled.request<MintResult>('lastResult');

    const flows: [Flow, Mode][] = [
      ['pooled', 'eoa'],
      ['naive', 'eoa'],
      ['pooled-sdk', 'eoa'],
      ['pooled', 'pkp'],
      ['naive', 'pkp'],
      ['pooled-sdk', 'pkp'],
    ];
    const { steps, match } = breakdownSteps(sample, wallet.privateKey, devnet.nodeUrls.length);
    for (let i = 0; i < opts.warmup; i++) {
      for (const [f, m] of flows) await run(f, m);
      await timeSteps(steps, false);
    }
    const samples = new Map<string, Sample[]>(flows.map(([f, m]) => [`${f}-${m}`, []]));
    for (let i = 0; i < opts.iterations; i++) {
      for (let k = 0; k < flows.length; k++) {
        const [f, m] = flows[(i + k) % flows.length];
        samples.get(`${f}-${m}`)!.push(await measured(f, m));
      }
      await timeSteps(steps, true);
      if ((i + 1) % 10 === 0) ctx.log(`B1: ${i + 1}/${opts.iterations} iterations`);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const out = {} as B1Result['flows'];
    for (const [key, list] of samples) {
      out[key as keyof B1Result['flows']] = {
        ms: summarize(list.map((s) => s.ms)),
        clientCpuMs: mean(list.map((s) => s.clientCpuMs)),
        devnetCpuMs: mean(list.map((s) => s.devnetCpuMs)),
        chainRpc: mean(list.map((s) => s.chainRpc)),
        nodeRequests: mean(list.map((s) => s.nodeRequests)),
        indexer: mean(list.map((s) => s.indexer)),
      };
    }
    const versus = (a: FlowResult, b: FlowResult): Ratio => ({
      median: ratio(a.ms.median, b.ms.median),
      p95: ratio(a.ms.p95, b.ms.p95),
    });
    const ratios = {} as B1Result['ratios'];
    const sdkRatios = {} as B1Result['sdkRatios'];
    for (const m of ['eoa', 'pkp'] as Mode[]) {
      ratios[m] = versus(out[`naive-${m}`], out[`pooled-${m}`]);
      sdkRatios[m] = versus(out[`naive-${m}`], out[`pooled-sdk-${m}`]);
    }
    const breakdown: BreakdownRow[] = steps.map((st) => ({
      step: st.step,
      cpuMs: mean(st.samples),
      perRefresh: st.perRefresh,
      ...(st.setup ? { setup: st.setup } : {}),
      ...(st.alternative ? { alternative: true } : {}),
    }));
    return {
      iterations: opts.iterations,
      warmup: opts.warmup,
      blockTimeMs: devnet.blockTimeMs,
      nodes: devnet.nodeUrls.length,
      firstPooledMintMs: product.firstMintMs,
      poolConnects: await children.pooled.request<number>('connects'),
      ed25519,
      flows: out,
      ratios,
      sdkRatios,
      targetMet: ratios.eoa.median >= 3 && ratios.pkp.median >= 3,
      breakdown,
      nativeSignaturesMatch: match,
    };
  } finally {
    await Promise.all(Object.values(children).map((c) => c.stop()));
  }
}

export function b1Markdown(r: B1Result): string {
  const ms = (f: FlowResult) => `${fmt(f.ms.median)} / ${fmt(f.ms.p95)}`;
  const row = (m: Mode) => [
    m.toUpperCase(),
    ms(r.flows[`pooled-${m}`]),
    ms(r.flows[`pooled-sdk-${m}`]),
    ms(r.flows[`naive-${m}`]),
    `**${fmt(r.ratios[m].median)}×** / ${fmt(r.ratios[m].p95)}×`,
    `${fmt(r.sdkRatios[m].median)}× / ${fmt(r.sdkRatios[m].p95)}×`,
    `${fmt(ratio(r.flows[`pooled-sdk-${m}`].ms.median, r.flows[`pooled-${m}`].ms.median))}×`,
  ];
  const work = (flow: Flow, m: Mode) => {
    const f = r.flows[`${flow}-${m}`];
    return [
      `${FLOW_LABELS[flow]}, ${m.toUpperCase()}`,
      fmt(f.ms.median),
      fmt(f.clientCpuMs),
      fmt(f.devnetCpuMs),
      fmt(f.chainRpc),
      fmt(f.nodeRequests),
      fmt(f.indexer),
      `${fmt(f.ms.min)} – ${fmt(f.ms.max)}`,
    ];
  };
  const flowNames: Flow[] = ['pooled', 'pooled-sdk', 'naive'];
  return [
    `${r.iterations} measured refreshes per flow after ${r.warmup} warm-up round(s); devnet of ${r.nodes} nodes ` +
      `(threshold 2), block time ${r.blockTimeMs} ms, in its own process. Times in ms, wall clock, from the call ` +
      'until the sigs are returned. The flows (Ed25519 in place in each process, as checked in this run: ' +
      flowNames.map((f) => `${f} \`${r.ed25519[f]}\``).join(', ') +
      '):',
    '',
    '- **pooled (the product):** `createActivities(...).mintSessionSigs` on the already connected pooled client, ' +
      "in a process of its own where `useNativeEd25519()` swapped node:crypto's Ed25519 into the SDK after its " +
      "self-check, as `createSessionWorker` does by default, and where the pool skips the SDK's re-check of the " +
      'wallet signature our callback has just made (src/lit/own-auth-sig.ts) (bench/pooled-child.ts).',
    "- **pooled, stock SDK:** the same adapter and pool in another process that keeps the SDK's pure-JavaScript " +
      'Ed25519 (tweetnacl) and its re-check (pool option `recheckOwnAuthSigs`): what pooling alone gives.',
    '- **naive (stock SDK):** the flow the Lit docs show, `new LitNodeClient` + `connect()` + `getSessionSigs` / ' +
      "`getPkpSessionSigs` (test/devnet/helpers.ts) with the SDK's own Ed25519, in the orchestrator process, which " +
      'never installs the swap; disconnected after each refresh (not timed).',
    '',
    'Medians / p95 in ms; ratios of medians / of p95s. "naive / pooled" is the product against the 3× target; ' +
      '"naive / pooled, stock SDK" is what pooling alone gives; the last column is what the product\'s two SDK ' +
      'changes (native Ed25519, no re-check of its own signature) give on top of pooling.',
    '',
    table(
      [
        'flow',
        'pooled (product)',
        'pooled, stock SDK',
        'naive',
        '**naive / pooled**',
        'naive / pooled, stock SDK',
        'pooled, stock SDK / pooled (median)',
      ],
      [row('eoa'), row('pkp')],
    ),
    '',
    'Work per refresh (means): CPU of the process that ran the refresh (client) and of the devnet process, and ' +
      'what reached the devnet.',
    '',
    table(
      [
        'flow',
        'median ms',
        'client CPU ms',
        'devnet CPU ms',
        'chain RPC calls',
        'node requests',
        'block indexer requests',
        'min – max ms',
      ],
      (['eoa', 'pkp'] as Mode[]).flatMap((m) => flowNames.map((f) => work(f, m))),
    ),
    '',
    `The product's pool connected ${r.poolConnects} time(s) for all ${2 * (r.iterations + r.warmup) + 1} of its ` +
      `refreshes; its first refresh (which connects) took ${fmt(r.firstPooledMintMs)} ms and is not in the tables.`,
    '',
    breakdownMarkdown(r),
  ].join('\n');
}

/** CPU ms per refresh of the step rows, and the rows a flow with `backend` runs. */
export function stepsFor(r: B1Result, setup: Setup): BreakdownRow[] {
  return r.breakdown.filter((b) => !b.alternative && (b.setup === undefined || b.setup === setup));
}

export function perRefreshMs(rows: BreakdownRow[]): number {
  return rows.reduce((a, b) => a + b.cpuMs * b.perRefresh, 0);
}

function breakdownMarkdown(r: B1Result): string {
  const productCpu = r.flows['pooled-eoa'].clientCpuMs;
  const sdkCpu = r.flows['pooled-sdk-eoa'].clientCpuMs;
  const product = stepsFor(r, 'product');
  const stock = stepsFor(r, 'stock');
  const edMs = (setup: Setup) =>
    perRefreshMs(
      r.breakdown.filter(
        (b) => b.setup === setup && !b.alternative && /Ed25519|session key pair|session sig/.test(b.step),
      ),
    );
  const recheck = r.breakdown.filter((b) => b.setup === 'stock' && /SiweMessage/.test(b.step));
  const common = r.breakdown.filter((b) => b.setup === undefined && !b.alternative);
  const largest = [...product].sort((a, b) => b.cpuMs * b.perRefresh - a.cpuMs * a.perRefresh)[0];
  const share = (b: BreakdownRow, setup: Setup, total: number) =>
    !b.alternative && (b.setup === undefined || b.setup === setup)
      ? pct((b.cpuMs * b.perRefresh) / total)
      : '—';
  return [
    '**Where a pooled EOA refresh spends its CPU.** The steps of one refresh, each timed alone in the orchestrator ' +
      "on a real refresh's messages (CPU ms per call, mean over the iterations, timed in the same rounds as the " +
      "flows; the node:crypto rows call the product's implementation directly), against the measured client CPU of " +
      `a whole pooled EOA refresh: ${fmt(productCpu)} ms in the product, ${fmt(sdkCpu)} ms pooled with the stock SDK.`,
    '',
    table(
      [
        'step',
        'run by',
        'CPU ms per call',
        'calls per refresh',
        'CPU ms per refresh',
        'share of a pooled refresh: product',
        'share: pooled, stock SDK',
      ],
      r.breakdown.map((b) => [
        b.step,
        b.alternative
          ? '—'
          : b.setup === 'product'
            ? 'product'
            : b.setup === 'stock'
              ? 'stock SDK flows (pooled-sdk, naive)'
              : 'every flow',
        fmt(b.cpuMs, 2),
        String(b.perRefresh),
        fmt(b.cpuMs * b.perRefresh, 1),
        share(b, 'product', productCpu),
        share(b, 'stock', sdkCpu),
      ]),
    ),
    '',
    `In the product, Ed25519 (one key pair, one signature per node) costs ${fmt(edMs('product'), 2)} ms; with the ` +
      `SDK's tweetnacl it costs ${fmt(edMs('stock'), 1)} ms (node:crypto's key pair and signature are ` +
      `${r.nativeSignaturesMatch ? 'byte-identical to' : 'NOT identical to'} the SDK's for the same seed and message). ` +
      `The stock SDK's re-parse and re-verification of the SIWE signature the callback has just made cost ` +
      `${fmt(perRefreshMs(recheck), 1)} ms; the product skips them for its own signatures. ` +
      `The steps every flow runs (the SIWE signature) add up to ${fmt(perRefreshMs(common), 1)} ms; ` +
      'the wallet is not one of them: the adapter keeps one per key after the first refresh ' +
      '(src/activities/signer-reference.ts). The largest step of a product ' +
      `refresh is "${largest?.step ?? 'n/a'}" (${fmt(largest ? largest.cpuMs * largest.perRefresh : Number.NaN, 1)} ms). ` +
      `The listed steps cover ${fmt(perRefreshMs(product), 1)} of the product's ${fmt(productCpu)} ms and ` +
      `${fmt(perRefreshMs(stock), 1)} of the ${fmt(sdkCpu)} ms pooled with the stock SDK; the rest is not broken down ` +
      "here (the block-indexer fetch, JSON, the SDK's own bookkeeping).",
  ].join('\n');
}
