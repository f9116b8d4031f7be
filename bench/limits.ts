/**
 * The "product changes" and "what limits the missed targets" sections of BENCHMARKS.md, computed
 * from the run's figures, plus bench/analysis.md (profiles: when and how they were taken).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_MAX_MINTS_PER_RUN } from '../src/workflows/session-state';
import { type B1Result, type BreakdownRow, perRefreshMs, stepsFor } from './b1-refresh-cost';
import { cpuMsPerMint, type ScenarioResult } from './b2-fleet-rotation';
import { type B3Result, JUDGED_MEMORY_VARIANTS, type MemoryRun, memoryTargetMet } from './b3-steady-state';
import { fmt } from './common';
import type { RunRecord } from './run-record';

const agents = (n: number) => n.toLocaleString('en-US');

/** The product's steps of a pooled EOA refresh, largest first (B1's step table). */
function largestSteps(b1: B1Result, n: number): BreakdownRow[] {
  return [...stepsFor(b1, 'product')]
    .sort((a, b) => b.cpuMs * b.perRefresh - a.cpuMs * a.perRefresh)
    .slice(0, n);
}

function stepList(rows: BreakdownRow[]): string {
  return rows.map((b) => `${b.step} ${fmt(b.cpuMs * b.perRefresh, 1)} ms`).join('; ');
}

export function productChangeMarkdown(r: RunRecord): string {
  const out = [
    '## Product changes measured here',
    '',
    'Every figure above and below is of the product as it ships (`createSessionWorker` defaults), with the ' +
      'stock-SDK variants measured beside it in the same run:',
    '',
  ];
  const native: string[] = [];
  for (const c of r.b2?.sdkComparisons ?? []) {
    native.push(
      `B2 rotation of ${agents(c.size)} agents ${fmt(c.sdk.agentsPerSec)} → ${fmt(c.product.agentsPerSec)} agents/s ` +
        `(worker CPU per mint ${fmt(cpuMsPerMint(c.sdk))} → ${fmt(cpuMsPerMint(c.product))} ms)`,
    );
  }
  const real = r.b3?.cycle.find((c) => c.mode === 'real');
  const sdk = r.b3?.cycle.find((c) => c.mode === 'real-sdk');
  if (real && sdk) {
    native.push(
      `B3 worker CPU per 1,000 refreshes ${fmt(sdk.cpuSecPer1000, 1)} → ${fmt(real.cpuSecPer1000, 1)} s`,
    );
  }
  out.push(
    "- **Native Ed25519 for session keys** (src/lit/native-ed25519.ts): `createSessionWorker` swaps node:crypto's " +
      "Ed25519 into the SDK's `@lit-protocol/nacl` (key pair and per-node signing) after a self-check that it " +
      "reproduces the SDK's keys and signatures byte for byte; `SESSION_KEEPER_ED25519=sdk` keeps the SDK's own. " +
      (native.length
        ? `SDK Ed25519 → product in this run (the worker with \`ed25519: 'sdk'\` differs in nothing else): ${native.join('; ')}.`
        : 'Not measured alone in this run (B2 and B3 compare it).'),
  );
  const recheck = r.b1?.breakdown.filter((b) => b.setup === 'stock' && /SiweMessage/.test(b.step)) ?? [];
  out.push(
    '- **No re-check of the wallet signature our own callback has just made** (src/lit/own-auth-sig.ts): ' +
      "the SDK's `checkNeedToResignSessionKey` re-parses that SIWE and recovers its signer in JavaScript right " +
      "after the callback returned it; the pool skips it for exactly those signatures (the nodes' PKP " +
      'signatures are still verified). ' +
      (recheck.length
        ? `Its cost in this run (B1 step table): ${fmt(perRefreshMs(recheck), 1)} ms of CPU per EOA refresh.`
        : 'Its cost is in the B1 step table.'),
  );
  if (r.b1) {
    const f = r.b1.flows;
    out.push(
      '- **Both SDK changes together, pooled stock SDK → product (B1):** EOA refresh ' +
        `${fmt(f['pooled-sdk-eoa'].ms.median)} → ${fmt(f['pooled-eoa'].ms.median)} ms median ` +
        `(client CPU ${fmt(f['pooled-sdk-eoa'].clientCpuMs)} → ${fmt(f['pooled-eoa'].clientCpuMs)} ms), PKP ` +
        `${fmt(f['pooled-sdk-pkp'].ms.median)} → ${fmt(f['pooled-pkp'].ms.median)} ms (client CPU ` +
        `${fmt(f['pooled-sdk-pkp'].clientCpuMs)} → ${fmt(f['pooled-pkp'].clientCpuMs)} ms).`,
    );
  }
  const product = r.b3?.memory;
  const image = r.b3?.memoryImage;
  out.push(
    '- **`MALLOC_ARENA_MAX=2` in the Docker image** (Dockerfile; the README recommends it for workers outside the ' +
      "image): fewer glibc allocator arenas for Temporal core's threads. " +
      (product && image
        ? `This run (B3), worker RSS per cached agent: ${fmt(product.perAgentKiB)} KiB without it, ` +
          `${fmt(image.perAgentKiB)} KiB with it.`
        : 'Measured by B3 (`--b3-memory-variants product,arena2`, the default).'),
  );
  const reals = (r.b2?.scenarios ?? []).filter((s) => s.mode !== 'canned');
  const failed = reals.reduce((a, s) => a + s.failures, 0);
  const mints = reals.reduce((a, s) => a + s.mints, 0);
  out.push(
    '- **`LitClientPool`** lets in-flight mints finish on a retired client and no longer reconnects on block-indexer ' +
      'failures. ' +
      (reals.length
        ? `This run's real fleets (B2 rotation windows): ${failed} failed mint attempt(s) for ${agents(mints)} mints` +
          (failed ? ' (listed under B2).' : '.') +
          ' No run of the previous pool was made here to compare with.'
        : 'B2 was not run.'),
  );
  const variants = r.b3?.memoryVariants ?? [];
  const before = variants.find((v) => v.variant === 'no-preload');
  out.push(
    '- **No parser in the workflow bundle** (src/shared/spec-check.ts). A heap snapshot of the workflow thread ' +
      'once showed every cached workflow evaluating its own copy of the agent spec module — about 50 zod schema ' +
      'objects with ~1,150 bound methods, ~180 KiB per workflow — which the worker then avoided by preloading zod, ms ' +
      'and the spec module once per worker thread. The workflow now checks the normalised spec the edge parsed in ' +
      'plain TypeScript, so zod is not in the bundle at all and nothing is preloaded (`product` and `no-preload` are ' +
      'the same bundle). ' +
      (product && before
        ? `This run (B3): ${fmt(before.perAgentKiB)} (no-preload) and ${fmt(product.perAgentKiB)} (product) KiB of worker RSS per cached agent; ` +
          `live V8 heap per workflow ${fmt(before.workflowThreadHeapPerAgentKiB)} and ${fmt(product.workflowThreadHeapPerAgentKiB)} KiB.`
        : 'The no-preload variant was not measured in this run (`--b3-memory-variants product,no-preload`).'),
  );
  return out.join('\n');
}

function b1Limits(b1: B1Result): string[] {
  const out: string[] = [];
  const p = b1.flows['pooled-eoa'];
  const ps = b1.flows['pooled-sdk-eoa'];
  const n = b1.flows['naive-eoa'];
  const verify = b1.breakdown.filter((b) => !b.alternative && /SIWE|SiweMessage/.test(b.step));
  if (b1.ratios.eoa.median < 3) {
    out.push(
      `- **EOA (${fmt(b1.ratios.eoa.median)}×).** A pooled EOA refresh makes no node requests: it is the block-indexer ` +
        `fetch and client CPU, ${fmt(p.clientCpuMs)} ms of CPU for a ${fmt(p.ms.median)} ms median in the product. ` +
        `Its largest steps (B1 step table) are: ${stepList(largestSteps(b1, 3))}. What the naive ` +
        `flow adds is \`connect()\`: ${fmt(n.chainRpc)} chain RPC calls and ${fmt(n.nodeRequests)} node requests on ` +
        `loopback to a devnet that answers at once, ${fmt(n.ms.median - ps.ms.median)} ms at the median over the ` +
        'pooled flow with the same (stock) SDK. Against the real Lit network `connect()` adds internet round trips ' +
        'to the RPC and to every node (not measured here).',
    );
  }
  const pp = b1.flows['pooled-pkp'];
  const pps = b1.flows['pooled-sdk-pkp'];
  const np = b1.flows['naive-pkp'];
  if (b1.ratios.pkp.median < 3) {
    out.push(
      `- **PKP (${fmt(b1.ratios.pkp.median)}×).** Every flow waits for the nodes to sign the session key: the devnet ` +
        `spends ${fmt(pp.devnetCpuMs)} ms of CPU per pooled PKP refresh (${fmt(pp.nodeRequests)} node requests; the ` +
        "nodes' BLS signature shares are computed in JavaScript, all nodes in one devnet process on this machine's " +
        `cores). The product's client spends ${fmt(pp.clientCpuMs)} ms of CPU (${fmt(pps.clientCpuMs)} ms pooled with ` +
        "the stock SDK) on the controller's SIWE, combining and checking the shares (a check the product keeps: " +
        'nothing else verifies what the nodes signed) and the session sigs. Pooling ' +
        `removes \`connect()\` (naive ${fmt(np.ms.median)} vs ${fmt(pps.ms.median)} ms pooled with the stock SDK) and ` +
        `native Ed25519 takes the pooled refresh to ${fmt(pp.ms.median)} ms, so the ratio stays near (connect + ` +
        'node signing) / node signing. No client change pools the node-side signing away; real Lit nodes sign in ' +
        "native code on separate machines, so this devnet's share of the time is not theirs (not measured here).",
    );
  }
  if (b1.ratios.eoa.median < 3 || b1.ratios.pkp.median < 3) {
    const lifts: string[] = [];
    const signing = verify.find((b) => /signMessage/.test(b.step));
    if (signing) {
      lifts.push(
        `the SIWE signature (${fmt(signing.cpuMs, 1)} ms) runs secp256k1 in JavaScript (elliptic, behind ethers 5)`,
      );
    }
    if (b1.ratios.pkp.median < 3) {
      lifts.push(
        "for PKP, the client's share is mostly the SDK combining and verifying the nodes' BLS shares in WebAssembly " +
          '(`blsCombine`, `blsVerify`; profile in bench/analysis.md)',
      );
    }
    if (lifts.length) {
      out.push(`- **What the pooled refresh's remaining CPU is:** ${lifts.join('; ')}.`);
    }
  }
  return out;
}

function cores(s: ScenarioResult): string {
  const parts = [
    `worker ${fmt(s.workerCpuSec / s.rotateSec, 2)}`,
    `devnet ${fmt(s.devnetCpuSec / s.rotateSec, 2)}`,
    ...(s.serverCpuSec !== undefined ? [`Temporal server ${fmt(s.serverCpuSec / s.rotateSec, 2)}`] : []),
  ];
  const total = (s.workerCpuSec + s.devnetCpuSec + (s.serverCpuSec ?? 0)) / s.rotateSec;
  return `${parts.join(', ')} — ${fmt(total, 2)} cores in all`;
}

function b2Limits(r: RunRecord): string[] {
  const b2 = r.b2!;
  const missed = b2.comparisons.filter((c) => !c.met);
  if (!missed.length) return [];
  const out: string[] = [];
  const nproc = r.machine.nproc;
  const reals = b2.scenarios.filter((s) => s.mode === 'real');
  const canned = b2.scenarios.filter((s) => s.mode === 'canned');
  const others = r.load.B2
    ? ` Everything else on the machine used ${fmt(r.load.B2.othersShare * nproc, 2)} cores on average over B2.`
    : '';
  out.push(
    `- **Real fleets (product worker) over the rotation, in cores busy of this machine's ${nproc}:** ` +
      reals
        .map(
          (s) =>
            `${agents(s.size)} agents (\`${s.server}\`): ${cores(s)}; ${fmt(cpuMsPerMint(s))} ms of worker CPU per mint`,
        )
        .join('; ') +
      '. Canned fleets: ' +
      canned
        .map(
          (s) =>
            `${agents(s.size)} (\`${s.server}\`): ${fmt((s.workerCpuSec / Math.max(1, s.mints)) * 1000)} ms of worker ` +
            `CPU per agent, ${cores(s)}`,
        )
        .join('; ') +
      ". The mint activity runs on the worker's main JavaScript thread, which also passes every workflow " +
      'activation on to the workflow thread; the devnet (node-side signing of PKP mints, the block indexer) and the ' +
      `Temporal server share the same cores here.${others}`,
  );
  const perAgent = missed
    .filter((c) => c.real.server === c.server)
    .map((c) => {
      const cannedMs = (c.canned.workerCpuSec / Math.max(1, c.canned.mints)) * 1000;
      return (
        `${agents(c.size)} agents: canned ${fmt(cannedMs)} ms, product ${fmt(cpuMsPerMint(c.real))} ms ` +
        `(${fmt(cpuMsPerMint(c.real) / cannedMs)}×; rotation at ${fmt(c.ratio * 100, 0)}% of the ceiling)`
      );
    });
  if (perAgent.length) {
    out.push(
      '- **Worker CPU per agent over the rotation, ceiling against product on the same server** (all of the ' +
        `worker's threads): ${perAgent.join('; ')}.`,
    );
  }
  const b3 = r.b3;
  const real = b3?.cycle.find((c) => c.mode === 'real');
  const cannedCycle = b3?.cycle.find((c) => c.mode === 'canned');
  if (real && cannedCycle) {
    const lit = real.cpuSecPer1000 - cannedCycle.cpuSecPer1000;
    out.push(
      `- **Where the worker's CPU per refresh goes (B3):** ${fmt(real.cpuSecPer1000, 1)} ms per refresh in the ` +
        `product, of which ${fmt(cannedCycle.cpuSecPer1000, 1)} ms is the engine (the same cycle with the canned ` +
        `activity) and ${fmt(lit, 1)} ms the Lit work of the mint` +
        (r.b1
          ? `; a pooled EOA refresh alone costs ${fmt(r.b1.flows['pooled-eoa'].clientCpuMs)} ms of client CPU in B1, ` +
            `largest steps: ${stepList(largestSteps(r.b1, 3))}`
          : '') +
        (lit > cannedCycle.cpuSecPer1000
          ? '. The Lit work still costs more CPU than the engine itself.'
          : '. The engine now costs as much CPU per refresh as the Lit work, or more.'),
    );
  }
  const starved = reals.filter((s) => (s.slowWorkflowTasks ?? 0) > 0);
  if (starved.length) {
    const cannedSlow = canned.reduce((a, s) => a + (s.slowWorkflowTasks ?? 0), 0);
    out.push(
      "- **Mints starve the worker's workflow tasks.** The mint activity runs on the worker's main JavaScript " +
        'thread, and every workflow activation passes through that thread on its way to the workflow thread. ' +
        starved
          .map(
            (s) =>
              `In the real fleet of ${agents(s.size)}, ${s.slowWorkflowTasks} workflow tasks took over 5 s ` +
              `and ${s.lostWorkflowTasks} timed out on the server and had to be retried`,
          )
          .join('; ') +
        ` (worker log, whole scenario; canned fleets: ${cannedSlow}). Fewer concurrent mints per worker ` +
        '(`maxConcurrentActivities`) or activity-only worker processes would keep workflow tasks responsive; ' +
        'neither was measured here.',
    );
  }
  const failing = b2.scenarios.filter((s) => s.mode !== 'canned' && s.failures > 0);
  if (failing.length) {
    out.push(
      '- **Failed mint attempts** (retried by the workflow, counted in the rotation time): ' +
        failing.map((s) => `${s.failures} in the ${s.mode} fleet of ${agents(s.size)}`).join('; ') +
        '; their messages are listed under B2.',
    );
  }
  // Where signals arrived at no more than ~60/s, the batch operation's rate limit was binding.
  const capped = canned.filter((s) => s.server === 'default' && s.size / s.signalsSec <= 60);
  if (capped.length) {
    out.push(
      '- **The `default` server caps the ceiling itself:** a batch operation delivers its signals at ' +
        '`worker.batcherRPS` = 50 per second per namespace (a server default), so ' +
        capped
          .map(
            (s) =>
              `the canned fleet of ${agents(s.size)} had its last signal only after ${fmt(s.signalsSec, 1)} s ` +
              `(${fmt(s.size / s.signalsSec)}/s) and rotated at ${fmt(s.agentsPerSec)} agents/s`,
          )
          .join('; ') +
        '. That is an operator setting (dynamic config), not the keeper; `rotateFleet({ rps })` cannot go above it.',
    );
  }
  const lifted = canned.filter((s) => s.server === 'lifted' && s.serverCpuSec !== undefined);
  if (lifted.length) {
    out.push(
      '- **Without that cap the ceiling is the machine:** ' +
        lifted
          .map(
            (s) =>
              `${agents(s.size)} canned agents kept the Temporal server (${fmt(s.serverCpuSec!, 1)} CPU s) ` +
              `and the worker (${fmt(s.workerCpuSec, 1)} CPU s) busy for ${fmt((s.serverCpuSec! + s.workerCpuSec) / s.rotateSec, 2)} ` +
              `of the ${nproc} cores over the ${fmt(s.rotateSec, 1)} s rotation`,
          )
          .join('; ') +
        ' (other work on the machine used the rest; see "Run").',
    );
  }
  const lifts: string[] = [];
  for (const c of b2.sdkComparisons) {
    lifts.push(
      `native Ed25519 already took the ${agents(c.size)}-agent rotation from ${fmt(c.sdk.agentsPerSec)} to ` +
        `${fmt(c.product.agentsPerSec)} agents/s (measured above)`,
    );
  }
  lifts.push(
    'spreading the mints over more cores: activity-only worker processes (one per core, `taskQueue` shared) on ' +
      "machines with cores to spare beyond the Temporal server's — on this machine the devnet and the server take " +
      'the same cores (not measured)',
    'less Lit CPU per mint: secp256k1 in JavaScript for the SIWE signature, the BLS share combining of PKP mints ' +
      '(B1 step table, bench/analysis.md; SDK changes, not measured)',
  );
  out.push(`- **What lifts it:** ${lifts.join('; ')}.`);
  return out;
}

function memoryLimits(b3: B3Result): string[] {
  const judged = b3.memoryVariants.filter((v) => JUDGED_MEMORY_VARIANTS.includes(v.variant));
  const missed = judged.filter((v) => !memoryTargetMet(v));
  if (!missed.length) return [];
  const committed = (v: MemoryRun) => (v.workflowThreadHeapCommittedDeltaMiB * 1024) / v.agents;
  const main = (v: MemoryRun) => (v.mainHeapDeltaMiB * 1024) / v.agents;
  const rest = (v: MemoryRun) => v.perAgentKiB - committed(v) - main(v);
  const label = (v: MemoryRun) =>
    v.variant === 'arena2' ? '`product + MALLOC_ARENA_MAX=2` (as the image runs it)' : '`product`';
  const out = missed.map(
    (v) =>
      `- **Memory per cached agent, ${label(v)}: ${fmt(v.perAgentKiB)} KiB.** ${fmt(v.workflowThreadHeapPerAgentKiB)} KiB ` +
      "is live objects in the workflow thread's V8 heap (per workflow: the SDK's activator and its state machines, " +
      'the workflow modules that are not preloaded, the `AgentSession` with the current sigs), ' +
      `${fmt(committed(v) - v.workflowThreadHeapPerAgentKiB)} KiB free heap V8 keeps, ${fmt(main(v))} KiB of ` +
      `main-thread heap and ${fmt(rest(v))} KiB outside the JavaScript heaps: Temporal core's per-run state (Rust) ` +
      'and what the allocator does not give back.',
  );
  const product = b3.memory;
  const image = b3.memoryImage;
  const lifts: string[] = [];
  if (product && image) {
    lifts.push(
      (image.perAgentKiB < product.perAgentKiB
        ? `\`MALLOC_ARENA_MAX=2\` took ${fmt(product.perAgentKiB)} to ${fmt(image.perAgentKiB)} KiB here`
        : `\`MALLOC_ARENA_MAX=2\` did not lower it in this run (${fmt(product.perAgentKiB)} KiB without, ` +
          `${fmt(image.perAgentKiB)} KiB with it)`) +
        '; the image sets it, workers run outside it need it in their environment (README)',
    );
  }
  const all = b3.memoryVariants.find((v) => v.variant === 'preload-all');
  lifts.push(
    'preloading the remaining pure workflow modules (`src/shared/names`, `search-attributes`, `messages`, ' +
      '`src/workflows/refresh-policy`, `backoff`, `mint-failure`, `session-state`): ' +
      (all && product
        ? `measured here ${fmt(all.perAgentKiB)} vs ${fmt(product.perAgentKiB)} KiB`
        : '226.1 vs 215.2 KiB per agent in the variant run quoted in bench/analysis.md'),
    'a smaller `maxCachedWorkflows` (SESSION_KEEPER_MAX_CACHED_WORKFLOWS): idle agents refresh every few hours, so ' +
      'an evicted one costs one replay of a short history per refresh instead of memory all day (not measured)',
    "the rest is Temporal core's and the TypeScript SDK's per-run state, outside this project's code",
  );
  out.push(`- **What lifts it:** ${lifts.join('; ')}.`);
  return out;
}

export function limitsMarkdown(r: RunRecord): string {
  const items: string[] = [];
  if (r.b1) items.push(...b1Limits(r.b1));
  if (r.b2) items.push(...b2Limits(r));
  if (r.b3) items.push(...memoryLimits(r.b3));
  const out = ['## What limits the missed targets, and what would lift them', ''];
  if (items.length) out.push(...items);
  else out.push('Every target measured in this run was met.');
  const met: string[] = [];
  if (r.b1 && r.b1.ratios.eoa.median >= 3) {
    const f = r.b1.flows;
    met.push(
      `B1 EOA, ${fmt(r.b1.ratios.eoa.median)}×: pooling alone (the stock SDK) gives ${fmt(r.b1.sdkRatios.eoa.median)}× ` +
        `(${fmt(f['naive-eoa'].ms.median)} → ${fmt(f['pooled-sdk-eoa'].ms.median)} ms), native Ed25519 and no ` +
        're-check of our own signature the rest ' +
        `(→ ${fmt(f['pooled-eoa'].ms.median)} ms).`,
    );
  }
  if (r.b3?.eventsTargetMet) {
    met.push(
      "B3 history: a refresh cycle writes 12 history events (the timer firing, a workflow task, the activity's " +
        'three events, a workflow task, one search-attribute upsert that keeps `LitSessionGeneration` visible, the ' +
        "next timer); its bytes are mostly the activity's input and result (the sigs). A run continues as new after " +
        `${DEFAULT_MAX_MINTS_PER_RUN} mint attempts, so a history holds about that many cycles.`,
    );
  }
  if (met.length) out.push('', 'Met, for reference:', '', ...met.map((m) => `- ${m}`));
  const analysis = path.join(__dirname, 'analysis.md');
  if (fs.existsSync(analysis)) out.push('', fs.readFileSync(analysis, 'utf8').trim());
  return out.join('\n');
}
