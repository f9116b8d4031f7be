/**
 * B4 (issue 20, item 7): what an agent pays per call for its session sigs.
 *
 * - agent-held: `AgentSessionSigner` makes the per-node sigs locally from the capability it holds
 *   (read once from the keeper, checked once): the cost of making them for 3 and 10 nodes
 *   (`signNow`, no cache: what every remake costs), the cached call (`getSessionSigs` while its
 *   sigs serve), and the capability read itself (the workflow query; once per capability lifetime);
 * - the stock SDK 7.4.0 doing the same from the same capability (`getSessionSigs` with the key pair
 *   and `authNeededCallback` returning the capability: it re-checks the capability and signs with
 *   tweetnacl on every call);
 * - delivered: reading the keeper's sigs through the workflow query (`querySessionStatus`), what an
 *   agent does when its `SessionSigsSource` cache has run short.
 *
 * Everything real: the devnet child, a Temporal dev server, the product worker in this process
 * (its query handling is in this process's CPU figure for the query rows), the real keeper client.
 * Target: ≤ 2 ms per call for 3 nodes once the capability is cached. Not a test: nothing asserts.
 */
import crypto from 'node:crypto';
import { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ethers } from 'ethers';
import { toSdkResourceRequests } from '../src/activities/mint-session-sigs';
import { createKeeperClient, type SessionKeeperClient } from '../src/client';
import { AgentSessionSigner } from '../src/client/agent-session-signer';
import { sessionKeyPairFromSeed } from '../src/client/session-key-file';
import { litNodeClientConfigFor } from '../src/lit/custom-network';
import { disposeLitClient, trackStakingListeners } from '../src/lit/lit-client-lifecycle';
import {
  LitAgentId,
  LitNetwork,
  LitSessionExpiresAt,
  LitSessionGeneration,
  LitSessionState,
} from '../src/shared/search-attributes';
import type { SessionStatus } from '../src/shared/types';
import { executableOption } from '../src/temporal/binaries';
import { createSessionWorker } from '../src/worker';
import type { BenchContext } from './common';
import { extractSection, type SectionMarkers, spliceSection } from './fleet-stats';
import type { LoadReport } from './machine';
import { type Summary, summarize } from './stats';

export interface B4Row {
  what: string;
  nodes: number;
  calls: number;
  wallMs: Summary;
  /** This process's CPU per call (user + system), ms. */
  cpuMsPerCall: number;
}

export interface B4Result {
  rows: B4Row[];
  notes: string[];
}

export const B4_SECTION: SectionMarkers = {
  start: '<!-- bench:b4-agent-held:start -->',
  end: '<!-- bench:b4-agent-held:end -->',
};

const NETWORK = 'devnet';

async function measure(
  what: string,
  nodes: number,
  calls: number,
  warmup: number,
  fn: () => unknown,
): Promise<B4Row> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    what,
    nodes,
    calls,
    wallMs: summarize(samples),
    cpuMsPerCall: (cpu.user + cpu.system) / 1000 / calls,
  };
}

async function freshStatus(keeper: SessionKeeperClient, agentId: string): Promise<SessionStatus> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const s = await keeper.querySessionStatus(agentId).catch(() => undefined);
    if (s?.state === 'fresh' && (s.sessionSigs || s.capability)) return s;
    if (Date.now() > deadline) throw new Error(`B4: ${agentId} not fresh after 120 s (${s?.state})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function runB4(ctx: BenchContext, opts: { calls?: number } = {}): Promise<B4Result> {
  const calls = opts.calls ?? 500;
  const devnet = await ctx.devnet();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: executableOption('temporal'),
      searchAttributes: [LitAgentId, LitNetwork, LitSessionState, LitSessionExpiresAt, LitSessionGeneration],
    },
  });
  const wallet = ethers.Wallet.createRandom();
  const worker = await createSessionWorker({
    connection: env.nativeConnection,
    networks: { custom: { [NETWORK]: devnet.network } },
    signerEnvironment: {
      env: { B4_WALLET_KEY: wallet.privateKey },
      readFile: () => {
        throw new Error('B4 uses no key files');
      },
    },
  });
  const running = worker.run();
  const keeper = await createKeeperClient({
    env: { LIT_NETWORKS: JSON.stringify({ networks: { [NETWORK]: devnet.network } }) },
    connection: { address: env.address },
    warn: () => undefined,
  });
  const setup = litNodeClientConfigFor(devnet.network);
  const lit = trackStakingListeners(setup.applyTo(new LitNodeClientNodeJs(setup.config)));
  const rows: B4Row[] = [];
  try {
    await lit.connect();
    const key = sessionKeyPairFromSeed(crypto.randomBytes(32));
    const base = { network: NETWORK, mode: 'eoa' as const, signer: 'env:B4_WALLET_KEY' };
    await keeper.startAgent({ ...base, agentId: 'b4-delivered' });
    await keeper.startAgent({ ...base, agentId: 'b4-held', sessionPublicKey: key.publicKey });
    const held = await freshStatus(keeper, 'b4-held');
    await freshStatus(keeper, 'b4-delivered');
    const capability = held.capability!;
    const signer = new AgentSessionSigner({
      agentId: 'b4-held',
      sessionKey: key,
      litNodeClient: lit,
      fetchStatus: (id) => keeper.querySessionStatus(id),
    });
    await signer.getSessionSigs();
    const three = [...lit.connectedNodes].sort();
    const ten = Array.from({ length: 10 }, (_, i) => three[i] ?? `http://127.0.0.1:${20000 + i}`);
    ctx.log(`B4: ${three.length} connected nodes; ${calls} calls per row`);

    rows.push(
      await measure('agent-held: make sigs locally (AgentSessionSigner.signNow)', 3, calls, 50, () =>
        signer.signNow(three),
      ),
    );
    rows.push(
      await measure('agent-held: make sigs locally (AgentSessionSigner.signNow)', 10, calls, 50, () =>
        signer.signNow(ten),
      ),
    );
    rows.push(
      await measure('agent-held: getSessionSigs, sigs cached', 3, calls, 50, () => signer.getSessionSigs()),
    );
    const sdkCalls = Math.min(calls, 60);
    rows.push(
      await measure('agent-held, stock SDK getSessionSigs (same key and capability)', 3, sdkCalls, 5, () =>
        lit.getSessionSigs({
          sessionKey: key,
          resourceAbilityRequests: toSdkResourceRequests([
            { resource: 'lit-accesscontrolcondition://*', ability: 'access-control-condition-decryption' },
          ]),
          authNeededCallback: async () => capability.authSig,
        }),
      ),
    );
    const queryCalls = Math.min(calls, 200);
    rows.push(
      await measure('agent-held: read the capability (workflow query)', 3, queryCalls, 10, () =>
        keeper.querySessionStatus('b4-held'),
      ),
    );
    rows.push(
      await measure('delivered: read the sigs (workflow query)', 3, queryCalls, 10, () =>
        keeper.querySessionStatus('b4-delivered'),
      ),
    );
  } finally {
    await disposeLitClient(lit).catch(() => undefined);
    worker.shutdown();
    await running.catch(() => undefined);
    await keeper.close().catch(() => undefined);
    await env.teardown().catch(() => undefined);
  }
  return {
    rows,
    notes: [
      "signNow makes every node's sig anew (the cost of each remake: every ~4 minutes with the default 5-minute sigs, on a node set change, on a new capability); getSessionSigs between remakes returns the cached map after checking the capability's validity and the node set.",
      'The query rows run the product worker in the same process (as the tests do), so their CPU includes the worker answering the query; their wall time is a gRPC round trip to a local Temporal dev server.',
    ],
  };
}

const fmt = (n: number) => (n >= 10 ? n.toFixed(1) : n.toFixed(3));

/** The B4 section of BENCHMARKS.md, markers included. */
export function b4Markdown(
  r: B4Result,
  context: { command?: string; machine?: string; load?: LoadReport; date?: Date } = {},
): string {
  const load = context.load;
  const out = [
    B4_SECTION.start,
    "## B4 — agent-held mode: the agent's cost of making its sigs locally vs. reading delivered sigs",
    '',
    ...(context.command
      ? [
          `Command: \`${context.command}\`${context.date ? `, ${context.date.toISOString().slice(0, 16)}Z` : ''}${context.machine ? `; ${context.machine}` : ''}.`,
          '',
        ]
      : []),
    ...(load
      ? [
          `Machine load during B4 (${load.seconds.toFixed(0)} s): this bench ${(load.oursShare * 100).toFixed(0)}% of all cores, others ${(load.othersShare * 100).toFixed(0)}% (other engineers' tests ran alongside), load average ${load.loadavg1.toFixed(2)} at the end. The p95/max of the sub-millisecond rows carry that noise (GC pauses, preemption); the medians and CPU per call are the figures to read.`,
          '',
        ]
      : []),
    "Per call, in the agent's process (issue 20, item 7; target ≤ 2 ms per call for 3 nodes once the capability is cached).",
    '',
    '| what | nodes | calls | median ms | p95 ms | max ms | CPU ms/call |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map(
      (x) =>
        `| ${x.what} | ${x.nodes} | ${x.calls} | ${fmt(x.wallMs.median)} | ${fmt(x.wallMs.p95)} | ${fmt(x.wallMs.max)} | ${fmt(x.cpuMsPerCall)} |`,
    ),
    '',
    ...r.notes.map((n) => `- ${n}`),
    B4_SECTION.end,
  ];
  return out.join('\n');
}

/**
 * The report with B4's section: this run's when B4 ran, else the one `existing` had (a run of other
 * benchmarks keeps B4's figures, as it keeps the cluster's).
 */
export function withB4Section(
  report: string,
  section: string | undefined,
  existing: string | undefined,
): string {
  const kept = section ?? (existing === undefined ? undefined : extractSection(existing, B4_SECTION));
  return kept ? spliceSection(report, kept, B4_SECTION, ['## What limits']) : report;
}
