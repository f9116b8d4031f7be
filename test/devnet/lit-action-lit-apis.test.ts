/**
 * `Lit.Actions.ethPersonalSignMessageEcdsa` and `Lit.Actions.runOnce` in the runner (rules 6 and
 * 7 of lit-action-runner.ts): what the host is asked to sign for a personal message, and how the
 * runs of one request share a single execution of a runOnce function.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ethers } from 'ethers';
import {
  type ActionSignatureShare,
  LitActionError,
  type LitActionHost,
  LitActionPool,
  runLitAction,
} from '../../src/devnet/lit-action-runner';

const pool = new LitActionPool({ maxWorkers: 3 });
after(() => pool.close());

/** A host whose signEcdsa records the digest it was handed; `getRpcUrl({chain:'count'})` counts. */
function host(over: Partial<LitActionHost> = {}, seen: { digests: string[]; counted: number } = fresh()) {
  const h: LitActionHost = {
    jsParams: {},
    timeoutMs: 2_000,
    pool,
    rpcUrl: (chain) => {
      if (chain === 'count') seen.counted++;
      return 'http://127.0.0.1:8545';
    },
    signEcdsa: ({ toSign, sigName }): ActionSignatureShare => {
      const hex = Buffer.from(toSign).toString('hex');
      seen.digests.push(hex);
      return {
        sigType: 'K256',
        signatureShare: 's',
        shareIndex: 1,
        bigR: 'r',
        publicKey: 'p',
        dataSigned: hex,
        sigName,
      };
    },
    ...over,
  };
  return h;
}
function fresh() {
  return { digests: [] as string[], counted: 0 };
}

const PERSONAL_SIGN = `(async () => {
  const res = await LitActions.ethPersonalSignMessageEcdsa({ message, publicKey, sigName: 'sig' });
  LitActions.setResponse({ response: res });
})();`;

test('ethPersonalSignMessageEcdsa signs the EIP-191 hash of the message’s UTF-8 text', async () => {
  const seen = fresh();
  const res = await runLitAction(
    PERSONAL_SIGN,
    host({ jsParams: { message: 'héllo', publicKey: '0x04ab' } }, seen),
  );
  assert.equal(res.response, 'success');
  assert.deepEqual(seen.digests, [ethers.utils.hashMessage('héllo').slice(2)]);
  assert.equal(res.signedData.sig?.dataSigned, ethers.utils.hashMessage('héllo').slice(2));
});

test('a message that is not a string is signed as its text: bytes as "1,2,3"', async () => {
  // jsParams carry a Uint8Array as an array (the SDK's normalizeJsParams); Lit's node turns the
  // message into text (uint8arrayFromString), so the bytes 1, 2, 3 are signed as "1,2,3".
  const seen = fresh();
  await runLitAction(PERSONAL_SIGN, host({ jsParams: { message: [1, 2, 3], publicKey: '0x04ab' } }, seen));
  assert.deepEqual(seen.digests, [ethers.utils.hashMessage('1,2,3').slice(2)]);
  assert.notEqual(seen.digests[0], ethers.utils.hashMessage(new Uint8Array([1, 2, 3])).slice(2));
});

test('ethPersonalSignMessageEcdsa refuses an empty message and a blank public key, as Lit does', async () => {
  const seen = fresh();
  for (const [params, text] of [
    [{ message: '', publicKey: '0x04ab' }, 'toSign must not be empty'],
    [{ message: 'm', publicKey: ' ' }, 'publicKey must not be blank'],
  ] as const) {
    const res = await runLitAction(
      `try { await LitActions.ethPersonalSignMessageEcdsa({ message, publicKey, sigName: 'sig' }); }
       catch (e) { LitActions.setResponse({ response: e.message }); }`,
      host({ jsParams: params }, seen),
    );
    assert.equal(res.response, text);
  }
  assert.deepEqual(seen.digests, []);
});

/** A runOnce whose function counts its executions (through the host) and answers a random number. */
const RUN_ONCE = (opts: string) => `(async () => {
  const value = await Lit.Actions.runOnce(${opts}, async () => {
    await Lit.Actions.getRpcUrl({ chain: 'count' });
    return Math.random();
  });
  Lit.Actions.setResponse({ response: JSON.stringify({ value: value ?? null }) });
})();`;

async function runNodes(code: string, requestIds: (string | undefined)[], seen = fresh()) {
  const results = await Promise.all(
    requestIds.map((requestId) => runLitAction(code, host({ requestId }, seen))),
  );
  return { values: results.map((r) => JSON.parse(r.response).value), results, seen };
}

test('runOnce: the runs of one request execute the function once and all get its answer', async () => {
  const { values, seen } = await runNodes(RUN_ONCE(`{ waitForResponse: true, name: 'pick' }`), [
    'req-a',
    'req-a',
    'req-a',
  ]);
  assert.equal(seen.counted, 1, 'one execution');
  assert.equal(typeof values[0], 'string', 'the leader’s answer, as text');
  assert.deepEqual(values, [values[0], values[0], values[0]]);
});

test('runOnce: another request, or a run with no request id, executes on its own', async () => {
  const { values, seen } = await runNodes(RUN_ONCE(`{ waitForResponse: true }`), [
    'req-b',
    'req-c',
    undefined,
    undefined,
  ]);
  assert.equal(seen.counted, 4);
  assert.equal(new Set(values).size, 4);
});

test('runOnce without waitForResponse: the leader gets the answer, the others undefined', async () => {
  const { values, seen } = await runNodes(RUN_ONCE(`{ waitForResponse: false, name: 'fire' }`), [
    'req-d',
    'req-d',
    'req-d',
  ]);
  assert.equal(seen.counted, 1);
  assert.equal(values.filter((v) => v === null).length, 2);
  assert.equal(values.filter((v) => typeof v === 'string').length, 1);
});

test('runOnce: a function that throws answers "[ERROR]" everywhere; the leader logs the error', async () => {
  const { results, values } = await runNodes(
    `(async () => {
       const v = await Lit.Actions.runOnce({ waitForResponse: true, name: 'x' }, async () => { throw new Error('boom'); });
       Lit.Actions.setResponse({ response: JSON.stringify({ value: v }) });
     })();`,
    ['req-e', 'req-e', 'req-e'],
  );
  assert.deepEqual(values, ['[ERROR]', '[ERROR]', '[ERROR]']);
  const logs = results.map((r) => r.logs).filter(Boolean);
  assert.equal(logs.length, 1);
  assert.match(logs[0], /^Error running function: Error: boom/);
});

test('runOnce: when the leader’s run ends without an answer, the waiting runs fail', async () => {
  // The leader's function never settles: its run ends when nothing is left to run (rule 1).
  const code = `(async () => {
    const v = await Lit.Actions.runOnce({ waitForResponse: true, name: 'stuck' }, () => new Promise(() => {}));
    Lit.Actions.setResponse({ response: 'got ' + v });
  })();`;
  const outcomes = await Promise.allSettled(
    ['req-f', 'req-f', 'req-f'].map((requestId) => runLitAction(code, host({ requestId }))),
  );
  const fulfilled = outcomes.filter((o) => o.status === 'fulfilled');
  const failed = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
  assert.equal(fulfilled.length, 1, 'the leader ends, with no response');
  assert.equal(fulfilled[0].value.response, '');
  assert.equal(failed.length, 2);
  for (const f of failed) {
    assert.ok(f.reason instanceof LitActionError);
    assert.match(f.reason.message, /Uncaught \(in promise\) Error: runOnce stuck: the leader's run ended/);
  }
});

test('runOnce: the leader asked again under the same name runs the function again', async () => {
  // Lit's leader is fixed per request: it runs each runOnce call itself, never waits on itself.
  const code = `(async () => {
    const first = await Lit.Actions.runOnce({ waitForResponse: true, name: 'twice' }, async () => {
      await Lit.Actions.getRpcUrl({ chain: 'count' });
      return 'first';
    });
    const second = await Lit.Actions.runOnce({ waitForResponse: true, name: 'twice' }, async () => {
      await Lit.Actions.getRpcUrl({ chain: 'count' });
      return 'second';
    });
    Lit.Actions.setResponse({ response: first + ' ' + second });
  })();`;
  const seen = fresh();
  const res = await runLitAction(code, host({ requestId: 'req-g' }, seen));
  assert.equal(res.response, 'first second');
  assert.equal(seen.counted, 2);
});
