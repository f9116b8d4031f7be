/**
 * How a Lit Action run ends, as on Lit's nodes (the rules and their sources are in
 * src/devnet/lit-action-runner.ts): un-awaited work is waited for and counts; an exception in
 * un-awaited code fails the run ("Uncaught (in promise) …") and the worker is replaced, never
 * killed by it; setResponse twice keeps the last; setResponse and logs stop at 100 KB.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  type ActionSignatureShare,
  LitActionError,
  type LitActionHost,
  LitActionPool,
  runLitAction,
} from '../../src/devnet/lit-action-runner';

const pool = new LitActionPool({ maxWorkers: 3, maxOldGenerationSizeMb: 32 });
after(() => pool.close());

/** A host whose signEcdsa answers after `delayMs`, as a node's thread does under load. */
function host(over: Partial<LitActionHost> & { delayMs?: number } = {}): LitActionHost {
  const delayMs = over.delayMs ?? 20;
  return {
    jsParams: {},
    timeoutMs: 5000,
    pool,
    rpcUrl: () => 'http://127.0.0.1:8545',
    signEcdsa: ({ sigName, toSign }) =>
      new Promise<ActionSignatureShare>((resolve) =>
        setTimeout(
          () =>
            resolve({
              sigType: 'K256',
              signatureShare: `share-of-${sigName}`,
              shareIndex: 1,
              bigR: 'r',
              publicKey: 'p',
              dataSigned: Buffer.from(toSign).toString('hex'),
              sigName,
            }),
          delayMs,
        ),
      ),
    ...over,
  };
}

/** Lit's documented shape: an async function called and not awaited. */
const UNAWAITED_SIGN = `
  (async () => {
    console.log('signing');
    const sig = await Lit.Actions.signEcdsa({ toSign: new Uint8Array(32).fill(7), publicKey: '0x04ab', sigName: 'sig1' });
    Lit.Actions.setResponse({ response: JSON.stringify({ sig }) });
    console.log('done');
  })();
`;

async function failure(code: string, h = host()): Promise<LitActionError> {
  try {
    await runLitAction(code, h);
  } catch (e) {
    assert.ok(e instanceof LitActionError, String(e));
    return e;
  }
  assert.fail('the action succeeded');
}

test('an un-awaited async action runs to its end: its share, response and logs count', async () => {
  for (let i = 0; i < 5; i++) {
    const res = await runLitAction(UNAWAITED_SIGN, host());
    assert.equal(res.signedData.sig1?.signatureShare, 'share-of-sig1');
    assert.deepEqual(JSON.parse(res.response), { sig: 'success' });
    assert.equal(res.logs, 'signing\ndone\n');
  }
});

test('three un-awaited signing actions in parallel all end with their shares', async () => {
  const runs = await Promise.all([1, 2, 3].map(() => runLitAction(UNAWAITED_SIGN, host({ delayMs: 50 }))));
  for (const res of runs) {
    assert.equal(res.signedData.sig1?.signatureShare, 'share-of-sig1');
    assert.deepEqual(JSON.parse(res.response), { sig: 'success' });
  }
});

test('un-awaited work started at the top level, several calls deep, is waited for', async () => {
  const res = await runLitAction(
    `const go = async () => {
       const a = await Lit.Actions.signEcdsa({ toSign: [1], publicKey: '0x04', sigName: 'a' });
       const b = await Lit.Actions.signEcdsa({ toSign: [2], publicKey: '0x04', sigName: 'b' });
       Lit.Actions.setResponse({ response: a + b });
     };
     go();
     Lit.Actions.signEcdsa({ toSign: [3], publicKey: '0x04', sigName: 'c' });`,
    host(),
  );
  assert.deepEqual(Object.keys(res.signedData).sort(), ['a', 'b', 'c']);
  assert.equal(res.response, 'successsuccess');
});

test('an exception in un-awaited code fails the run: Uncaught (in promise); the pool goes on', async () => {
  const one = new LitActionPool({ maxWorkers: 1 });
  after(() => one.close());
  await runLitAction(UNAWAITED_SIGN, host({ pool: one }));
  assert.equal(one.stats().spawned, 1);
  const err = await failure(
    `(async () => { console.log('before'); throw new Error('boom'); })();`,
    host({ pool: one }),
  );
  assert.equal(err.code, 'NodeJsExecutionError');
  assert.match(err.message, /Uncaught \(in promise\) Error: boom/);
  assert.equal(err.logs, 'before\n');
  // After its host call settles, an un-awaited rejection with a call still in flight elsewhere.
  const err2 = await failure(
    `Lit.Actions.signEcdsa({ toSign: [1], publicKey: '0x04', sigName: 'x' });
     (async () => { await Lit.Actions.getRpcUrl({ chain: 'ethereum' }); throw new Error('late'); })();`,
    host({ pool: one }),
  );
  assert.match(err2.message, /Uncaught \(in promise\) Error: late/);
  const res = await runLitAction(UNAWAITED_SIGN, host({ pool: one }));
  assert.equal(res.signedData.sig1?.signatureShare, 'share-of-sig1', 'the next run is unharmed');
  assert.equal(one.stats().spawned, 3, 'each failed run’s worker was replaced');
});

test('a synchronous throw is "Uncaught Error: …"', async () => {
  const err = await failure(`throw new Error('sync boom');`);
  assert.match(err.message, /Uncaught Error: sync boom/);
});

test('setResponse called twice: the last one wins', async () => {
  const res = await runLitAction(
    `(async () => {
       Lit.Actions.setResponse({ response: 'first' });
       await Lit.Actions.signEcdsa({ toSign: [1], publicKey: '0x04', sigName: 's' });
       Lit.Actions.setResponse({ response: 'second' });
     })();`,
    host(),
  );
  assert.equal(res.response, 'second');
});

test('a setResponse over 100 KB throws inside the action; uncaught, the run fails', async () => {
  const big = `'x'.repeat(10 * 1024 * 1024)`;
  const err = await failure(`Lit.Actions.setResponse({ response: ${big} });`);
  assert.equal(err.code, 'NodeJsExecutionError');
  assert.match(err.message, /Response is too long\. Max length is 102400 bytes/);
  const caught = await runLitAction(
    `try { Lit.Actions.setResponse({ response: ${big} }); }
     catch (e) { Lit.Actions.setResponse({ response: 'caught: ' + e.message }); }`,
    host(),
  );
  assert.equal(caught.response, 'caught: Response is too long. Max length is 102400 bytes');
  const exact = await runLitAction(`Lit.Actions.setResponse({ response: 'y'.repeat(102400) });`, host());
  assert.equal(exact.response.length, 102400);
});

test('logs stop at 100 KB in all: console.log throws past it', async () => {
  const err = await failure(`for (let i = 0; i < 200; i++) console.log('z'.repeat(1000));`);
  assert.match(err.message, /Console\.log is printing something that is too long/);
  assert.ok(err.logs.length <= 102400);
});

test('an un-awaited promise that never settles ends with the run (as when Deno’s event loop empties)', async () => {
  const res = await runLitAction(
    `(async () => { await new Promise(() => {}); console.log('never'); })();
     (async () => {
       await Lit.Actions.signEcdsa({ toSign: [1], publicKey: '0x04', sigName: 's' });
       Lit.Actions.setResponse({ response: 'set' });
     })();`,
    host(),
  );
  assert.equal(res.response, 'set', 'the other un-awaited work ran to its end');
  assert.equal(res.signedData.s?.signatureShare, 'share-of-s');
  assert.equal(res.logs, '');
});

test('a host refusal in un-awaited code keeps its Lit code; the response set before it does not count', async () => {
  await assert.rejects(
    runLitAction(
      `(async () => { Lit.Actions.setResponse({ response: 'x' });
         await Lit.Actions.signEcdsa({ toSign: [1], publicKey: '0x04', sigName: 'a' }); })();`,
      host({
        signEcdsa: async () => {
          const { litError } = await import('../../src/devnet/lit-errors');
          throw litError('NodePKPNotAuthorized', 'no');
        },
      }),
    ),
    (e: any) => e.code === 'NodePKPNotAuthorized' && !(e instanceof LitActionError),
  );
});
