/**
 * The "product change" and "what limits the missed targets" sections of BENCHMARKS.md, computed
 * from the run's figures, plus bench/analysis.md (profiles: when and how they were taken).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_MAX_MINTS_PER_RUN } from '../src/workflows/session-state';
import type { B1Result } from './b1-refresh-cost';
import type { B2Result } from './b2-fleet-rotation';
import type { B3Result, MemoryRun } from './b3-steady-state';
import { fmt } from './common';
import type { RunRecord } from './run';

export function productChangeMarkdown(r: RunRecord): string {
  const variants = r.b3?.memoryVariants ?? [];
  const product = variants.find((v) => v.variant === 'product');
  const before = variants.find((v) => v.variant === 'no-preload');
  const effect =
    product && before
      ? `Measured in this run (B3): **${fmt(before.perAgentKiB)} → ${fmt(product.perAgentKiB)} KiB** of worker RSS per ` +
        `cached agent; live V8 heap per workflow ${fmt(before.workflowThreadHeapPerAgentKiB)} → ` +
        `${fmt(product.workflowThreadHeapPerAgentKiB)} KiB.`
      : product
        ? `This run (B3, product bundle): ${fmt(product.perAgentKiB)} KiB of worker RSS per cached agent, ` +
          `${fmt(product.workflowThreadHeapPerAgentKiB)} KiB of it live V8 heap per workflow; the bundle without ` +
          'preloading, measured side by side in the variant run quoted under "Profiles" below, took 399.7 KiB ' +
          '(263.9 KiB heap). `npm run bench -- --only B3 --b3-parts memory --b3-memory-variants product,no-preload` ' +
          'repeats the comparison.'
        : '`npm run bench -- --only B3 --b3-parts memory --b3-memory-variants product,no-preload` measures its effect.';
  return [
    '## Product change made with this benchmark',
    '',
    '`src/worker.ts`: `createSessionWorker` bundles the workflows with `bundlerOptions.preloadModules = ' +
      'WORKFLOW_PRELOAD_MODULES` (`zod`, `ms`, `src/shared/agent-spec.ts`; exported so prebuilt bundles can pass the ' +
      'same list to `bundleWorkflowCode`, as bench/common.ts does). Why: a heap snapshot of the workflow thread ' +
      '(B3) showed every cached workflow evaluating its own copy of the agent spec module inside the reusable V8 ' +
      'context — about 50 zod schema objects with ~1,150 bound methods, ~180 KiB per workflow. Preloaded modules are ' +
      "evaluated once per worker thread; these three hold no per-workflow state (the SDK deep-freezes a preloaded module's " +
      'exports; the spec schema itself is module-private). Workflow code, commands and histories are unchanged. ' +
      effect,
  ].join('\n');
}

function b1Limits(b1: B1Result): string[] {
  const out: string[] = [];
  const ed = b1.breakdown.filter((b) => !b.alternative && /ed25519/.test(b.step));
  const edMs = ed.reduce((a, b) => a + b.cpuMs * b.perRefresh, 0);
  const p = b1.flows['pooled-eoa'];
  const n = b1.flows['naive-eoa'];
  const w = b1.flows['whatif-eoa'];
  if (b1.ratios.eoa.median < 3) {
    out.push(
      `- **EOA (${fmt(b1.ratios.eoa.median)}×).** A pooled EOA refresh is client CPU: ${fmt(p.clientCpuMs)} ms of CPU ` +
        `for a ${fmt(p.ms.median)} ms median, and the Lit SDK's pure-JavaScript Ed25519 (\`@lit-protocol/nacl\`: the ` +
        `session key pair and one signature per node) accounts for about ${fmt(edMs)} ms of it (breakdown in B1). ` +
        `What the naive flow adds is \`connect()\`: ${fmt(n.chainRpc)} chain RPC calls and ${fmt(n.nodeRequests)} node ` +
        `handshakes on loopback to a devnet that answers at once, ${fmt(n.ms.median - p.ms.median)} ms at the median. ` +
        'While the SDK spends more CPU on Ed25519 than connecting costs, pooling cannot be 3× faster on this devnet ' +
        '(against the real Lit network `connect()` adds internet round trips to the RPC and every node; not measured ' +
        'here). **What lifts it:** native Ed25519. node:crypto gives byte-identical signatures in ' +
        `${fmt(
          b1.breakdown.filter((b) => b.alternative).reduce((a, b) => a + b.cpuMs * b.perRefresh, 0),
          2,
        )} ms; the ` +
        `what-if flow measured ${fmt(w.ms.median)} ms median, **${fmt(b1.whatIfRatios.eoa)}× faster than naive**. ` +
        "The route is the SDK (native signing in `getSessionSigs`) or a guarded swap of `@lit-protocol/nacl`'s " +
        '`sign.detached` and `sign.keyPair` in the worker, as bench/native-ed25519.ts does after a self-check. It was not ' +
        'made in the product here: it replaces a crypto primitive inside a dependency and deserves its own review.',
    );
  }
  const pp = b1.flows['pooled-pkp'];
  const np = b1.flows['naive-pkp'];
  if (b1.ratios.pkp.median < 3) {
    out.push(
      `- **PKP (${fmt(b1.ratios.pkp.median)}×).** Both flows wait for the nodes to sign the session key: the devnet ` +
        `spends ${fmt(pp.devnetCpuMs)} ms of CPU per PKP refresh (three nodes' BLS signature shares, computed in ` +
        'JavaScript in one devnet process), and the client ' +
        `${fmt(pp.clientCpuMs)} ms (Ed25519 as above, combining and checking the shares). Pooling only removes ` +
        `\`connect()\` (${fmt(np.ms.median - pp.ms.median)} ms here), so the ratio stays near (connect + signing) / ` +
        `signing. With native Ed25519 (what-if) the pooled PKP refresh took ${fmt(b1.flows['whatif-pkp'].ms.median)} ms ` +
        `(${fmt(b1.whatIfRatios.pkp)}× faster than naive): what remains is the node-side signing, which no client ` +
        "can pool away; real Lit nodes sign in native code on separate machines, so this devnet's figure is not " +
        'theirs.',
    );
  }
  return out;
}

function b2Limits(b2: B2Result, b3: B3Result | undefined): string[] {
  const missed = b2.comparisons.filter((c) => !c.met);
  if (!missed.length) return [];
  const out: string[] = [];
  const reals = b2.scenarios.filter((s) => s.mode === 'real');
  const canned = b2.scenarios.filter((s) => s.mode === 'canned');
  const perMint = (s: (typeof reals)[number]) => (s.workerCpuSec / Math.max(1, s.mints + s.failures)) * 1000;
  out.push(
    '- **Real fleets are CPU-bound in the worker process.** ' +
      reals
        .map(
          (s) =>
            `${s.size.toLocaleString('en-US')} agents: ${fmt(perMint(s))} ms of worker CPU per mint, the worker busy ` +
            `${fmt(s.workerCpuSec / s.rotateSec, 2)} cores on average over the rotation`,
        )
        .join('; ') +
      ". The mint activity runs on the worker's one JavaScript thread, so about one core is its ceiling, and it " +
      `competes with the Temporal server and the devnet for this machine's two. Canned fleets: ` +
      canned
        .map(
          (s) =>
            `${fmt((s.workerCpuSec / Math.max(1, s.mints)) * 1000)} ms of worker CPU per agent (${s.size.toLocaleString('en-US')}, \`${s.server}\`)`,
        )
        .join(', ') +
      '.',
  );
  const starved = reals.filter((s) => (s.slowWorkflowTasks ?? 0) > 0);
  if (starved.length) {
    const cannedSlow = canned.reduce((a, s) => a + (s.slowWorkflowTasks ?? 0), 0);
    out.push(
      "- **Mints starve the worker's workflow tasks.** The mint activity runs on the worker's main JavaScript " +
        'thread, and every workflow activation passes through that thread on its way to the workflow thread. ' +
        starved
          .map(
            (s) =>
              `In the real fleet of ${s.size.toLocaleString('en-US')}, ${s.slowWorkflowTasks} workflow tasks took over 5 s ` +
              `and ${s.lostWorkflowTasks} timed out on the server and had to be retried`,
          )
          .join('; ') +
        ` (worker log, whole scenario; canned fleets: ${cannedSlow}). Fewer concurrent mints per worker ` +
        '(`maxConcurrentActivities`) or activity-only worker processes would keep workflow tasks responsive; ' +
        'both were not measured here.',
    );
  }
  const failing = reals.filter((s) => s.failures > 0);
  if (failing.length) {
    const notReady = failing.some((s) => Object.keys(s.failureTypes).some((k) => /not ready/i.test(k)));
    out.push(
      '- **Failed mints under load** (retried by the workflow, listed under B2). ' +
        (notReady
          ? '"LitNodeClient is not ready" comes from `LitClientPool.invalidate`: a network-type error — a failed ' +
            'block-indexer fetch is one, though it says nothing about the client — makes the pool disconnect the ' +
            'shared client at once, under the mints still running on it, so one hiccup fails a burst of them. ' +
            'Letting in-flight mints finish before disconnecting (or not reconnecting on nonce-fetch errors) would ' +
            'avoid it; not changed here.'
          : 'See the messages listed under B2.'),
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
              `the canned fleet of ${s.size.toLocaleString('en-US')} had its last signal only after ${fmt(s.signalsSec, 1)} s ` +
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
              `${s.size.toLocaleString('en-US')} canned agents kept the Temporal server (${fmt(s.serverCpuSec!, 1)} CPU s) ` +
              `and the worker (${fmt(s.workerCpuSec, 1)} CPU s) busy for ${fmt((s.serverCpuSec! + s.workerCpuSec) / s.rotateSec, 2)} ` +
              `of the 2 cores over the ${fmt(s.rotateSec, 1)} s rotation`,
          )
          .join('; ') +
        ' (other work on the machine used the rest; see "Run").',
    );
  }
  const real = b3?.cycle.find((c) => c.mode === 'real');
  const native = b3?.cycle.find((c) => c.mode === 'real-native');
  const cannedCycle = b3?.cycle.find((c) => c.mode === 'canned');
  const lines: string[] = [];
  if (real && native) {
    lines.push(
      `native Ed25519 cut the worker's CPU per refresh from ${fmt(real.cpuSecPer1000, 1)} to ` +
        `${fmt(native.cpuSecPer1000, 1)} ms in B3's what-if (${fmt(real.cpuSecPer1000 / native.cpuSecPer1000)}× less); ` +
        'a CPU-bound rotation should speed up by about as much (a projection, not measured here)',
    );
  }
  if (cannedCycle && native) {
    lines.push(
      `even then the Lit work (${fmt(native.cpuSecPer1000 - cannedCycle.cpuSecPer1000, 1)} ms per refresh: SIWE signing ` +
        "and the SDK re-verifying it, the wallet, the nonce fetch) stays above the engine's own " +
        `${fmt(cannedCycle.cpuSecPer1000, 1)} ms, so ≥ 70% of the engine ceiling also needs the mints spread over more ` +
        'cores: activity-only worker processes (one per core, `taskQueue` shared) on a machine that has cores to spare ' +
        "beyond the Temporal server's",
    );
  }
  if (lines.length) out.push(`- **What lifts it:** ${lines.join('; ')}.`);
  return out;
}

function memoryLimits(b3: B3Result): string[] {
  const m = b3.memory;
  if (!m || b3.memoryTargetMet) return [];
  const committed = (v: MemoryRun) => (v.workflowThreadHeapCommittedDeltaMiB * 1024) / v.agents;
  const rest = (v: MemoryRun) => v.perAgentKiB - committed(v) - (v.mainHeapDeltaMiB * 1024) / v.agents;
  const arena = b3.memoryVariants.find((v) => v.variant === 'arena2');
  const out = [
    `- **Memory per cached agent (${fmt(m.perAgentKiB)} KiB).** ${fmt(m.workflowThreadHeapPerAgentKiB)} KiB is live ` +
      "objects in the workflow thread's V8 heap (per workflow: the SDK's activator and its state machines, the " +
      'workflow modules that are not preloaded, the `AgentSession` with the current sigs, ~7 KB of strings), ' +
      `${fmt(committed(m) - m.workflowThreadHeapPerAgentKiB)} KiB free heap V8 keeps, and ${fmt(rest(m))} KiB outside ` +
      "the JavaScript heaps: Temporal core's per-run state (Rust) and what the allocator does not give back.",
  ];
  const lifts = [
    'preloading the remaining pure workflow modules (`src/shared/names`, `search-attributes`, `messages`, ' +
      '`src/workflows/refresh-policy`, `backoff`, `mint-failure`, `session-state`) — see bench/analysis.md',
  ];
  if (arena) {
    lifts.unshift(
      `\`MALLOC_ARENA_MAX=2\` in the worker's environment (measured: ${fmt(arena.perAgentKiB)} KiB per agent; fewer ` +
        "glibc arenas for core's threads; its effect on throughput was not measured)",
    );
  } else {
    lifts.unshift(
      "`MALLOC_ARENA_MAX=2` in the worker's environment (fewer glibc arenas for core's threads; measure with " +
        '`--b3-memory-variants product,arena2`)',
    );
  }
  lifts.push(
    'a smaller `maxCachedWorkflows` (SESSION_KEEPER_MAX_CACHED_WORKFLOWS): idle agents refresh every few hours, so an ' +
      'evicted one costs one replay of a short history per refresh instead of memory all day',
  );
  out.push(`- **What lifts it:** ${lifts.join('; ')}.`);
  return out;
}

export function limitsMarkdown(r: RunRecord): string {
  const items: string[] = [];
  if (r.b1) items.push(...b1Limits(r.b1));
  if (r.b2) items.push(...b2Limits(r.b2, r.b3));
  if (r.b3) items.push(...memoryLimits(r.b3));
  const out = ['## What limits the missed targets, and what would lift them', ''];
  if (items.length) out.push(...items);
  else out.push('Every target measured in this run was met.');
  if (r.b3?.eventsTargetMet) {
    out.push(
      '',
      'Met, for reference: a refresh cycle writes 12 history events (the timer firing, a workflow task, the ' +
        "activity's three events, a workflow task, one search-attribute upsert that keeps `LitSessionGeneration` " +
        "visible, the next timer); its bytes are mostly the activity's input and result (the sigs). A run continues " +
        `as new after ${DEFAULT_MAX_MINTS_PER_RUN} mint attempts, so a history holds about that many cycles.`,
    );
  }
  const analysis = path.join(__dirname, 'analysis.md');
  if (fs.existsSync(analysis)) out.push('', fs.readFileSync(analysis, 'utf8').trim());
  return out.join('\n');
}
