/**
 * B1 refresh cost: one refresh through the project's Lit adapter (`createActivities(...)
 * .mintSessionSigs` on the pooled, already connected client) against the naive path the Lit docs
 * show (a fresh `LitNodeClient`, `connect()`, then session sigs; disconnected after each refresh),
 * on the same devnet in the same run, EOA and PKP. A third flow is a what-if, not the product: the
 * pooled adapter in a separate process whose Lit SDK signs with node:crypto's Ed25519
 * (bench/native-ed25519.ts). The flows are interleaved round-robin (the order rotates every
 * iteration) so drift in machine load hits all of them alike.
 */

import crypto from 'node:crypto';
import path from 'node:path';
import { generateSessionKeyPair } from '@lit-protocol/crypto';
import { nacl } from '@lit-protocol/nacl';
import { ethers } from 'ethers';
import { SiweMessage } from 'siwe';
import { DEFAULT_RESOURCE_ABILITY_REQUESTS } from '../src/shared/agent-spec';
import type { MintRequest, MintResult } from '../src/shared/types';
import { connected, eoaSessionSigs, pkpSessionSigs } from '../test/devnet/helpers';
import {
  type BenchContext,
  cpuSeconds,
  type DevnetCounters,
  fmt,
  NETWORK,
  pct,
  pooledActivities,
  sumValues,
  table,
} from './common';
import { forkChild } from './ipc';
import { keyFor } from './keys';
import type { PooledChildConfig, PooledMintTiming } from './pooled-child';
import { ratio, type Summary, summarize } from './stats';

export interface B1Options {
  iterations: number;
  warmup: number;
}

type Flow = 'pooled' | 'naive' | 'whatif';
type Mode = 'eoa' | 'pkp';

interface Sample {
  ms: number;
  clientCpuMs: number;
  devnetCpuMs: number;
  chainRpc: number;
  nodeRequests: number;
  indexer: number;
}

export interface B1Result {
  iterations: number;
  warmup: number;
  blockTimeMs: number;
  nodes: number;
  firstPooledMintMs: number;
  poolConnects: number;
  flows: Record<`${Flow}-${Mode}`, FlowResult>;
  ratios: Record<Mode, { median: number; p95: number }>;
  /** naive / what-if (pooled with native Ed25519), medians. */
  whatIfRatios: Record<Mode, number>;
  whatIfInstalled: boolean;
  targetMet: boolean;
  breakdown: BreakdownRow[];
  /** node:crypto's Ed25519 signature equals the SDK's for the same key and message. */
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
  /** A node:crypto alternative, not what the SDK does. */
  alternative?: boolean;
}

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

interface BreakdownStep {
  step: string;
  perRefresh: number;
  alternative?: boolean;
  run: () => unknown;
  samples: number[];
}

/**
 * Where a pooled EOA refresh spends its CPU: the steps the SDK and the adapter run per refresh, on
 * a real refresh's messages, and node:crypto's Ed25519 beside the SDK's JS one. Each step is timed
 * once per B1 iteration, in the same rounds as the flows, so both see the same machine load.
 */
function breakdownSteps(
  sample: MintResult,
  key: string,
  nodes: number,
): { steps: BreakdownStep[]; match: boolean } {
  const first = Object.values(sample.sessionSigs)[0];
  const signedMessage = Buffer.from(first.signedMessage, 'utf8');
  const capability = JSON.parse(first.signedMessage).capabilities[0] as {
    signedMessage: string;
    sig: string;
  };
  const secret = Buffer.from(generateSessionKeyPair().secretKey, 'hex');
  const nativeKey = crypto.createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, secret.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
  const sdkSig = Buffer.from(nacl.sign.detached(new Uint8Array(signedMessage), new Uint8Array(secret)));
  const nativeSig = crypto.sign(null, signedMessage, nativeKey);
  const wallet = new ethers.Wallet(key);
  const step = (s: Omit<BreakdownStep, 'samples'>): BreakdownStep => ({ ...s, samples: [] });
  const steps = [
    step({
      step: 'session key pair: SDK `generateSessionKeyPair` (JS ed25519)',
      perRefresh: 1,
      run: () => generateSessionKeyPair(),
    }),
    step({
      step: "one node's session sig: SDK `nacl.sign.detached` (JS ed25519)",
      perRefresh: nodes,
      run: () => nacl.sign.detached(new Uint8Array(signedMessage), new Uint8Array(secret)),
    }),
    step({
      step: 'signer key → wallet: `new ethers.Wallet` (adapter, `resolveSigner`)',
      perRefresh: 1,
      run: () => new ethers.Wallet(key),
    }),
    step({
      step: 'SIWE capability signature: ethers `signMessage` (secp256k1)',
      perRefresh: 1,
      run: () => wallet.signMessage(capability.signedMessage),
    }),
    step({
      step: 'SDK re-verifies that SIWE (`siwe` parse + ecrecover)',
      perRefresh: 1,
      run: () =>
        new SiweMessage(capability.signedMessage).verify(
          { signature: capability.sig },
          { suppressExceptions: true },
        ),
    }),
    step({
      step: "session key pair: node:crypto `generateKeyPairSync('ed25519')` + export",
      perRefresh: 1,
      alternative: true,
      run: () => crypto.generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }),
    }),
    step({
      step: "one node's session sig: node:crypto `sign(null, …)` (native ed25519)",
      perRefresh: nodes,
      alternative: true,
      run: () => crypto.sign(null, signedMessage, nativeKey),
    }),
  ];
  return { steps, match: sdkSig.equals(nativeSig) };
}

async function timeSteps(steps: BreakdownStep[], record: boolean): Promise<void> {
  for (const s of steps) {
    const c0 = process.cpuUsage();
    await s.run();
    if (record) s.samples.push(cpuSeconds(c0, process.cpuUsage()) * 1000);
  }
}

const TTL_MS = 3600_000;

export async function runB1(ctx: BenchContext, opts: B1Options): Promise<B1Result> {
  const devnet = await ctx.devnet();
  if (devnet.blockTimeMs < 1_000) throw new Error('B1 needs a devnet with block time ≥ 1 s');
  const wallet = new ethers.Wallet(keyFor(`${ctx.seed}:b1`, 0));
  const pkpPublicKey = await devnet.pkpFor(wallet.address);
  const { pool, activities } = pooledActivities(devnet.network, { B1_KEY: wallet.privateKey });
  const request = (mode: Mode, generation: number): MintRequest => ({
    agentId: `b1-${mode}`,
    network: NETWORK,
    mode,
    signer: 'env:B1_KEY',
    ...(mode === 'pkp' ? { pkpPublicKey } : {}),
    resourceAbilityRequests: DEFAULT_RESOURCE_ABILITY_REQUESTS,
    sessionTtlMs: TTL_MS,
    generation,
  });

  let generation = 0;
  const expectNodes = (count: number) => {
    if (count !== devnet.nodeUrls.length) {
      throw new Error(`expected sigs for ${devnet.nodeUrls.length} nodes, got ${count}`);
    }
  };
  const whatIf = forkChild<{ nativeEd25519: boolean }>(
    'pooled-native',
    path.join(__dirname, 'pooled-child.ts'),
    {
      env: {
        BENCH_POOLED: JSON.stringify({
          network: devnet.network,
          key: wallet.privateKey,
          pkpPublicKey,
          nativeEd25519: true,
          ttlMs: TTL_MS,
        } satisfies PooledChildConfig),
      },
      logFile: path.join(ctx.runDir, 'pooled-native.log'),
    },
  );
  /** Wall ms of one refresh and, for the what-if child, the CPU it measured itself. */
  const run = async (flow: Flow, mode: Mode): Promise<{ ms: number; childCpuMs?: number }> => {
    if (flow === 'whatif') {
      const t = await whatIf.request<PooledMintTiming>('mint', { mode });
      expectNodes(t.nodes);
      return { ms: t.ms, childCpuMs: t.cpuMs };
    }
    if (flow === 'pooled') {
      const t0 = performance.now();
      const result = await activities.mintSessionSigs(request(mode, ++generation));
      const ms = performance.now() - t0;
      expectNodes(Object.keys(result.sessionSigs).length);
      return { ms };
    }
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
      await client.disconnect();
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
    const t0 = performance.now();
    const sample = await activities.mintSessionSigs(request('eoa', ++generation));
    const firstPooledMintMs = performance.now() - t0;
    const whatIfInstalled = (await whatIf.ready).nativeEd25519;

    const flows: [Flow, Mode][] = [
      ['pooled', 'eoa'],
      ['naive', 'eoa'],
      ['whatif', 'eoa'],
      ['pooled', 'pkp'],
      ['naive', 'pkp'],
      ['whatif', 'pkp'],
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
    const ratios = {} as B1Result['ratios'];
    const whatIfRatios = {} as B1Result['whatIfRatios'];
    for (const m of ['eoa', 'pkp'] as Mode[]) {
      ratios[m] = {
        median: ratio(out[`naive-${m}`].ms.median, out[`pooled-${m}`].ms.median),
        p95: ratio(out[`naive-${m}`].ms.p95, out[`pooled-${m}`].ms.p95),
      };
      whatIfRatios[m] = ratio(out[`naive-${m}`].ms.median, out[`whatif-${m}`].ms.median);
    }
    const breakdown: BreakdownRow[] = steps.map((st) => ({
      step: st.step,
      cpuMs: mean(st.samples),
      perRefresh: st.perRefresh,
      ...(st.alternative ? { alternative: true } : {}),
    }));
    return {
      breakdown,
      nativeSignaturesMatch: match,
      whatIfRatios,
      whatIfInstalled,
      iterations: opts.iterations,
      warmup: opts.warmup,
      blockTimeMs: devnet.blockTimeMs,
      nodes: devnet.nodeUrls.length,
      firstPooledMintMs,
      poolConnects: pool.connects,
      flows: out,
      ratios,
      targetMet: ratios.eoa.median >= 3 && ratios.pkp.median >= 3,
    };
  } finally {
    await pool.close();
    await whatIf.stop();
  }
}

export function b1Markdown(r: B1Result): string {
  const row = (m: 'eoa' | 'pkp') => {
    const p = r.flows[`pooled-${m}`];
    const n = r.flows[`naive-${m}`];
    return [
      m.toUpperCase(),
      fmt(p.ms.median),
      fmt(p.ms.p95),
      fmt(n.ms.median),
      fmt(n.ms.p95),
      `**${fmt(r.ratios[m].median)}×**`,
      `${fmt(r.ratios[m].p95)}×`,
    ];
  };
  const work = (key: keyof B1Result['flows'], label: string) => {
    const f = r.flows[key];
    return [
      label,
      fmt(f.ms.median),
      fmt(f.clientCpuMs),
      fmt(f.devnetCpuMs),
      fmt(f.chainRpc),
      fmt(f.nodeRequests),
      fmt(f.indexer),
      `${fmt(f.ms.min)} – ${fmt(f.ms.max)}`,
    ];
  };
  const whatIf = (m: 'eoa' | 'pkp') => {
    const w = r.flows[`whatif-${m}`];
    return [
      m.toUpperCase(),
      fmt(w.ms.median),
      fmt(w.ms.p95),
      fmt(r.flows[`naive-${m}`].ms.median),
      `${fmt(r.whatIfRatios[m])}×`,
    ];
  };
  return [
    `${r.iterations} measured refreshes per flow after ${r.warmup} warm-up round(s); devnet of ${r.nodes} nodes ` +
      `(threshold 2), block time ${r.blockTimeMs} ms, in its own process. Times in ms, wall clock, from the call ` +
      'until the sigs are returned. Pooled: `createActivities(...).mintSessionSigs` on the already connected pooled ' +
      'client. Naive: `new LitNodeClient` + `connect()` + `getSessionSigs` / `getPkpSessionSigs` ' +
      '(test/devnet/helpers.ts), disconnected after each refresh (not timed).',
    '',
    table(
      [
        'flow',
        'pooled median',
        'pooled p95',
        'naive median',
        'naive p95',
        'naive / pooled (median)',
        'naive / pooled (p95)',
      ],
      [row('eoa'), row('pkp')],
    ),
    '',
    'Work per refresh (means): CPU of the calling process and of the devnet process, and what reached the devnet.',
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
      [
        work('pooled-eoa', 'pooled EOA'),
        work('naive-eoa', 'naive EOA'),
        work('whatif-eoa', 'what-if EOA'),
        work('pooled-pkp', 'pooled PKP'),
        work('naive-pkp', 'naive PKP'),
        work('whatif-pkp', 'what-if PKP'),
      ],
    ),
    '',
    `The pool connected ${r.poolConnects} time(s) for all ${2 * (r.iterations + r.warmup) + 1} pooled refreshes; ` +
      `its first refresh (which connects) took ${fmt(r.firstPooledMintMs)} ms and is not in the tables.`,
    '',
    breakdownMarkdown(r),
    '',
    `**What-if (not the product): the pooled adapter with node:crypto's Ed25519 swapped into the SDK** ` +
      `(bench/native-ed25519.ts, in a separate process so the flows above keep the stock SDK; swap ` +
      `${r.whatIfInstalled ? 'in place after its self-check' : 'NOT installed: self-check failed'}), measured in the same rounds:`,
    '',
    table(
      ['flow', 'what-if median', 'what-if p95', 'naive median', 'naive / what-if (median)'],
      [whatIf('eoa'), whatIf('pkp')],
    ),
  ].join('\n');
}

function breakdownMarkdown(r: B1Result): string {
  const sdk = r.breakdown.filter((b) => !b.alternative);
  const ed = r.breakdown.filter((b) => /ed25519/.test(b.step) && !b.alternative);
  const native = r.breakdown.filter((b) => b.alternative);
  const perRefresh = (rows: BreakdownRow[]) => rows.reduce((a, b) => a + b.cpuMs * b.perRefresh, 0);
  const pooledCpu = r.flows['pooled-eoa'].clientCpuMs;
  return [
    '**Where a pooled EOA refresh spends its CPU.** The steps of one refresh, each timed alone on a real ' +
      "refresh's messages (CPU ms per call, mean over the iterations, timed in the same rounds as the flows), " +
      `against the measured client CPU of a whole pooled EOA refresh (${fmt(pooledCpu)} ms):`,
    '',
    table(
      ['step', 'CPU ms per call', 'calls per refresh', 'CPU ms per refresh', 'share of the refresh'],
      r.breakdown.map((b) => [
        b.alternative ? `*alternative:* ${b.step}` : b.step,
        fmt(b.cpuMs, 2),
        String(b.perRefresh),
        fmt(b.cpuMs * b.perRefresh, 1),
        b.alternative ? '—' : pct((b.cpuMs * b.perRefresh) / pooledCpu),
      ]),
    ),
    '',
    `The SDK's pure-JavaScript Ed25519 (\`@lit-protocol/nacl\`: one key pair plus one signature per node) costs ` +
      `${fmt(perRefresh(ed), 1)} ms of the ${fmt(pooledCpu)} ms; the steps listed add up to ${fmt(perRefresh(sdk), 1)} ms. ` +
      `node:crypto does the same Ed25519 work in ${fmt(perRefresh(native), 2)} ms ` +
      `(its signature is ${r.nativeSignaturesMatch ? 'byte-identical to' : 'NOT identical to'} the SDK's for the same key and message).`,
  ].join('\n');
}
