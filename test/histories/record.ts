/**
 * Records the histories the replay test (test/workflows/session-refresh-replay.test.ts) replays, so
 * a workflow change that breaks determinism for running workflows fails CI.
 *
 *   node --import tsx test/histories/record.ts
 *
 * Re-record only for an intended, compatible change (or one guarded with `patched()`): histories
 * recorded by the previous code are what running workflows have. Keep the old files if unsure.
 * Runs on the time-skipping test server with the fake mint activity, like the workflow tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { rotateSessionKeyUpdate, rotateSignal, stopSignal } from '../../src/shared/messages';
import {
  agentSpec,
  type Harness,
  HOUR,
  now,
  permanentError,
  rotateNow,
  startAgent,
  startHarness,
  transientError,
} from '../workflows/session-refresh.fixtures';
import { historyToJson } from './history-json';

const OUT_DIR = __dirname;

async function save(h: Harness, name: string, handle: WorkflowHandle, runId?: string): Promise<void> {
  const history = await h.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
  const file = path.join(OUT_DIR, `${name}.json`);
  fs.writeFileSync(file, historyToJson(history));
  console.log(`wrote ${path.relative(process.cwd(), file)} (${history.events?.length} events)`);
}

async function stop(handle: WorkflowHandle): Promise<void> {
  await handle.signal(stopSignal, { reason: 'recorded' });
  await handle.result();
}

const scenarios: Record<string, (h: Harness) => Promise<void>> = {
  /** Start, three days of steady refreshes, stop. */
  async 'refresh-cycle'(h) {
    const handle = await startAgent(h, agentSpec('history-refresh'));
    await h.env.sleep(72 * HOUR);
    await stop(handle);
    await save(h, 'refresh-cycle', handle);
  },

  /** A rotate signal, a spread rotate with a coalesced second signal, a rotateNow update. */
  async rotate(h) {
    const handle = await startAgent(h, agentSpec('history-rotate'));
    await h.env.sleep(HOUR);
    await handle.signal(rotateSignal, { reason: 'validator-set-changed' });
    await h.env.sleep(HOUR);
    await handle.signal(rotateSignal, { reason: 'operator', spreadMs: HOUR });
    await handle.signal(rotateSignal, { reason: 'operator', spreadMs: HOUR });
    await h.env.sleep(2 * HOUR);
    await rotateNow(handle, { reason: 'update' });
    await h.env.sleep(HOUR);
    await stop(handle);
    await save(h, 'rotate', handle);
  },

  /** Transient failures through expiry and recovery, then a permanent one, fixed by a rotate. */
  async 'failure-recovery'(h) {
    const t0 = await now(h);
    let permanent = false;
    h.fake.behaviour = (call, fake) => {
      if (permanent) throw permanentError('NodePKPNotAuthorized');
      if (call.request.generation > 1 && call.at < t0 + 90 * 60_000) throw transientError('NotEnoughNodes');
      return fake.sigsFor(call);
    };
    const handle = await startAgent(h, agentSpec('history-failure', { sessionTtl: '1h' }));
    await h.env.sleep(2 * HOUR);
    permanent = true;
    await h.env.sleep(2 * HOUR);
    permanent = false;
    await handle.signal(rotateSignal, { reason: 'fixed' });
    await h.env.sleep(HOUR);
    h.fake.reset();
    await stop(handle);
    await save(h, 'failure-recovery', handle);
  },

  /**
   * Agent-held mode: capability refreshes, a rotateSessionKey update (the old key's capability
   * served until its own expiry wakes the workflow), a refused rotateSessionKey, then a stop.
   */
  async 'agent-held'(h) {
    h.fake.behaviour = (call, fake) => {
      const sigs = fake.sigsFor(call);
      const key = call.request.sessionPublicKey!;
      return {
        ...sigs,
        sessionSigs: {},
        capability: {
          sessionPublicKey: key,
          authSig: {
            sig: `cap-${call.request.generation}`,
            derivedVia: 'web3.eth.personal.sign',
            signedMessage: `lit:session:${key}`,
            address: '0xabc',
          },
          expiresAt: sigs.expiresAt,
        },
      };
    };
    const handle = await startAgent(
      h,
      agentSpec('history-agent-held', { sessionTtl: '1h', sessionPublicKey: 'a1'.repeat(32) }),
    );
    await h.env.sleep(2 * HOUR);
    await handle.executeUpdate(rotateSessionKeyUpdate, {
      args: [{ sessionPublicKey: 'b2'.repeat(32), reason: 'recorded' }],
    });
    await handle
      .executeUpdate(rotateSessionKeyUpdate, { args: [{ sessionPublicKey: 'not a key' }] })
      .catch(() => undefined);
    await h.env.sleep(2 * HOUR);
    h.fake.reset();
    await stop(handle);
    await save(h, 'agent-held', handle);
  },

  /** maxMintsPerRun 2: the run continues as new while a rotate is pending; both runs saved. */
  async 'continue-as-new'(h) {
    const handle = await startAgent(h, agentSpec('history-can'), { maxMintsPerRun: 2 });
    await h.env.sleep(HOUR);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.fake.behaviour = async (call, fake) => {
      if (call.request.generation === 2) await gate;
      return fake.sigsFor(call);
    };
    const base = h.fake.calls.length;
    const skipping = h.env.sleep(20 * HOUR);
    await h.fake.waitForCalls(base + 1);
    await handle.signal(rotateSignal, { reason: 'validator-set-changed' });
    release();
    await skipping;
    h.fake.reset();
    const secondRunId = (await handle.describe()).runId;
    await stop(handle);
    await save(h, 'continue-as-new-run1', handle, handle.firstExecutionRunId);
    await save(h, 'continue-as-new-run2', handle, secondRunId);
  },
};

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const h = await startHarness('session-refresh-record');
  try {
    for (const [name, scenario] of Object.entries(scenarios)) {
      if (only.length && !only.includes(name)) continue;
      await scenario(h);
    }
  } finally {
    await h.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
