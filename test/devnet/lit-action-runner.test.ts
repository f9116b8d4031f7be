/**
 * The Lit Action sandbox on its own: globals it exposes, how it ends, and the IPFS id it derives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ipfsCidOf,
  LitActionError,
  type LitActionHost,
  runLitAction,
} from '../../src/devnet/lit-action-runner';
import { litError } from '../../src/devnet/lit-errors';

const host = (over: Partial<LitActionHost> = {}): LitActionHost => ({
  jsParams: {},
  timeoutMs: 200,
  rpcUrl: (chain) => (chain === 'ethereum' ? 'http://127.0.0.1:8545' : undefined),
  signEcdsa: () => {
    throw new Error('not in this test');
  },
  ...over,
});

function failure(code: string, h = host()): LitActionError {
  try {
    runLitAction(code, h);
  } catch (e) {
    assert.ok(e instanceof LitActionError, String(e));
    return e;
  }
  assert.fail('the action succeeded');
}

test('jsParams are globals and jsParams; getRpcUrl answers; console output becomes logs', () => {
  const res = runLitAction(
    `const url = await Lit.Actions.getRpcUrl({ chain: 'ethereum' });
     console.log('url', url);
     LitActions.setResponse({ response: JSON.stringify([x + jsParams.y, url]) });`,
    host({ jsParams: { x: 1, y: 2 } }),
  );
  assert.deepEqual(JSON.parse(res.response), [3, 'http://127.0.0.1:8545']);
  assert.equal(res.logs, 'url http://127.0.0.1:8545\n');
  assert.deepEqual(res.signedData, {});
});

test('signEcdsa hands the host the bytes, public key and name; the share lands under sigName', () => {
  const seen: unknown[] = [];
  const res = runLitAction(
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

test('a refusal from the host keeps its Lit error code', () => {
  assert.throws(
    () =>
      runLitAction(
        `await LitActions.signEcdsa({ toSign: [1], publicKey: '0x04', sigName: 'a' });`,
        host({
          signEcdsa: () => {
            throw litError('NodePKPNotAuthorized', 'no');
          },
        }),
      ),
    (e: any) => e.code === 'NodePKPNotAuthorized',
  );
});

// Not tested here: an endless loop of promise jobs (`while (true) await null`) also times out, but
// only outside the test runner — see the note in lit-action-runner.ts.
test('a throw, an endless loop, a never-settling await and an unknown chain are refused', () => {
  assert.equal(failure(`console.log('before'); throw new Error('x');`).logs, 'before\n');
  assert.equal(failure(`for (;;) {}`).code, 'NodeJsTimeoutError');
  assert.equal(failure(`await new Promise(() => {});`).code, 'NodeJsExecutionError');
  assert.match(failure(`await Lit.Actions.getRpcUrl({ chain: 'solana' });`).message, /no RPC URL/);
});

test('ipfsCidOf matches known CIDv0s', () => {
  assert.equal(ipfsCidOf('a'), 'QmfDmsHTywy6L9Ne5RXsj5YumDedfBLMvCvmaxjBoe6w4d');
  assert.equal(ipfsCidOf('x'.repeat(300)), 'Qmaho9ndeJbsShhzzuaykpLi9SyVJ6FZ45uuStbjCbnr2P');
  assert.throws(() => ipfsCidOf(''), RangeError);
});
