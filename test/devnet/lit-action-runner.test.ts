/**
 * The Lit Action sandbox on its own: globals it exposes, how it ends (including the worker
 * thread's time and memory limits), the host operations it reaches by message, and the IPFS id
 * it derives.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  ipfsCidOf,
  LitActionError,
  type LitActionHost,
  LitActionPool,
  runLitAction,
} from '../../src/devnet/lit-action-runner';
import { litError } from '../../src/devnet/lit-errors';

/** A pool of its own, so the memory limit and worker counts below are this file's. */
const pool = new LitActionPool({ maxWorkers: 2, maxOldGenerationSizeMb: 32 });
after(() => pool.close());

const host = (over: Partial<LitActionHost> = {}): LitActionHost => ({
  jsParams: {},
  timeoutMs: 500,
  pool,
  rpcUrl: (chain) => (chain === 'ethereum' ? 'http://127.0.0.1:8545' : undefined),
  signEcdsa: () => {
    throw new Error('not in this test');
  },
  ...over,
});

async function failure(code: string, h = host()): Promise<LitActionError> {
  try {
    await runLitAction(code, h);
  } catch (e) {
    assert.ok(e instanceof LitActionError, String(e));
    return e;
  }
  assert.fail('the action succeeded');
}

/** The pool still runs actions: what every refusal below must leave intact. */
async function assertStillRuns(label: string): Promise<void> {
  const res = await runLitAction(`Lit.Actions.setResponse({ response: 'alive' });`, host());
  assert.equal(res.response, 'alive', label);
}

test('jsParams are globals and jsParams; getRpcUrl answers; console output becomes logs', async () => {
  const res = await runLitAction(
    `const url = await Lit.Actions.getRpcUrl({ chain: 'ethereum' });
     console.log('url', url);
     LitActions.setResponse({ response: JSON.stringify([x + jsParams.y, url]) });`,
    host({ jsParams: { x: 1, y: 2 } }),
  );
  assert.deepEqual(JSON.parse(res.response), [3, 'http://127.0.0.1:8545']);
  assert.equal(res.logs, 'url http://127.0.0.1:8545\n');
  assert.deepEqual(res.signedData, {});
});

test('the action sees the Lit globals, not the worker’s require / process', async () => {
  const res = await runLitAction(
    `Lit.Actions.setResponse({ response: [typeof require, typeof process, typeof Lit.Auth, typeof setTimeout].join() });`,
    host(),
  );
  assert.equal(res.response, 'undefined,undefined,object,undefined');
});

test('signEcdsa hands the host the bytes, public key and name; the share lands under sigName', async () => {
  const seen: unknown[] = [];
  const res = await runLitAction(
    `await LitActions.signEcdsa({ toSign: new Uint8Array(32).fill(1), publicKey: '0x04ab', sigName: 'one' });`,
    host({
      signEcdsa: (req) => {
        seen.push([req.toSign.length, req.toSign[0], req.publicKey, req.sigName]);
        return {
          sigType: 'K256',
          signatureShare: 's',
          shareIndex: 1,
          bigR: 'r',
          publicKey: 'p',
          dataSigned: 'd',
          sigName: req.sigName,
        };
      },
    }),
  );
  assert.deepEqual(seen, [[32, 1, '0x04ab', 'one']]);
  assert.equal(res.signedData.one.signatureShare, 's');
});

test('a refusal from the host keeps its Lit error code; a caught one lets the action go on', async () => {
  const refusing = host({
    signEcdsa: () => {
      throw litError('NodePKPNotAuthorized', 'no');
    },
  });
  await assert.rejects(
    runLitAction(`await LitActions.signEcdsa({ toSign: [1], publicKey: '0x04', sigName: 'a' });`, refusing),
    (e: any) => e.code === 'NodePKPNotAuthorized' && !(e instanceof LitActionError),
  );
  const res = await runLitAction(
    `try { await LitActions.signEcdsa({ toSign: [1], publicKey: '0x04', sigName: 'a' }); }
     catch (e) { Lit.Actions.setResponse({ response: 'caught: ' + e.message }); }`,
    refusing,
  );
  assert.equal(res.response, 'caught: no');
});

test('a throw, an endless loop, a never-settling await and an unknown chain are refused', async () => {
  assert.equal((await failure(`console.log('before'); throw new Error('x');`)).logs, 'before\n');
  assert.equal((await failure(`for (;;) {}`)).code, 'NodeJsTimeoutError');
  assert.equal((await failure(`await new Promise(() => {});`)).code, 'NodeJsExecutionError');
  assert.match((await failure(`await Lit.Actions.getRpcUrl({ chain: 'solana' });`)).message, /no RPC URL/);
  await assertStillRuns('after the refusals');
});

test('an endless loop of promise jobs is stopped by the time limit (the worker is terminated)', async () => {
  const started = Date.now();
  const err = await failure(`console.log('spinning'); while (true) await null;`, host({ timeoutMs: 300 }));
  assert.equal(err.code, 'NodeJsTimeoutError');
  assert.equal(err.logs, 'spinning\n', 'the logs written before the limit come back');
  assert.ok(Date.now() - started < 5000, 'stopped near the limit');
  await assertStillRuns('after the async loop');
});

test('an action that allocates without end is refused at the memory limit; the pool goes on', async () => {
  const spawnedBefore = pool.stats().spawned;
  const err = await failure(
    `const keep = []; for (;;) keep.push(new Array(1 << 16).fill(keep.length));`,
    host({ timeoutMs: 20_000 }),
  );
  assert.equal(err.code, 'NodeJsMemoryLimitError');
  assert.match(err.message, /maximum memory of 32 MB/);
  await assertStillRuns('after running out of memory');
  assert.ok(pool.stats().spawned > spawnedBefore, 'the dead worker was replaced');
});

test('checkConditions and decryptAndCombine reach the host with what the action passed', async () => {
  const seen: unknown[] = [];
  const res = await runLitAction(
    `const ok = await Lit.Actions.checkConditions({ conditions: [{ a: 1 }], chain: 'ethereum' });
     const text = await Lit.Actions.decryptAndCombine({
       accessControlConditions: [{ b: 2 }], ciphertext: 'c', dataToEncryptHash: 'h', chain: 'ethereum', authSig: null });
     Lit.Actions.setResponse({ response: JSON.stringify({ ok, text }) });`,
    host({
      checkConditions: (req) => {
        seen.push(req);
        return true;
      },
      decryptAndCombine: async (req) => {
        seen.push(req);
        return 'plain';
      },
    }),
  );
  assert.deepEqual(JSON.parse(res.response), { ok: true, text: 'plain' });
  assert.deepEqual(seen, [
    { conditions: [{ a: 1 }], authSig: undefined, chain: 'ethereum' },
    {
      accessControlConditions: [{ b: 2 }],
      ciphertext: 'c',
      dataToEncryptHash: 'h',
      chain: 'ethereum',
      authSig: null,
    },
  ]);
  // A host without them refuses.
  await assert.rejects(
    runLitAction(`await Lit.Actions.decryptAndCombine({});`, host()),
    (e: any) => e.code === 'NodeNotAuthorized',
  );
});

test('runs beyond the pool size wait for a worker; each gets its own context', async () => {
  const runs = await Promise.all(
    [1, 2, 3, 4, 5].map((n) =>
      runLitAction(
        `globalThis.seen = (globalThis.seen ?? 0) + n; Lit.Actions.setResponse({ response: String(seen) });`,
        host({ jsParams: { n } }),
      ),
    ),
  );
  assert.deepEqual(
    runs.map((r) => r.response),
    ['1', '2', '3', '4', '5'],
  );
  assert.ok(pool.stats().workers <= 2);
});

test('ipfsCidOf matches known CIDv0s', () => {
  assert.equal(ipfsCidOf('a'), 'QmfDmsHTywy6L9Ne5RXsj5YumDedfBLMvCvmaxjBoe6w4d');
  assert.equal(ipfsCidOf('x'.repeat(300)), 'Qmaho9ndeJbsShhzzuaykpLi9SyVJ6FZ45uuStbjCbnr2P');
  assert.throws(() => ipfsCidOf(''), RangeError);
});
