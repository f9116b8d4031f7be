import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { isOwnFreshAuthSig, markOwnAuthSig, skipRecheckOfOwnAuthSigs } from '../../src/lit/own-auth-sig';

const URI = 'lit:session:abc';

test('only a wallet signature our callback made, for this session key, skips the re-check', () => {
  const own = markOwnAuthSig({ sig: '0x1', signedMessage: 'm', address: '0xa' }, URI);
  const ownBls = markOwnAuthSig({ sig: '0x2', signedMessage: 'm', address: '0xa', algo: 'LIT_BLS' }, URI);
  const unmarked = { sig: '0x1', signedMessage: 'm', address: '0xa' };
  const noUri = markOwnAuthSig({ sig: '0x3', signedMessage: 'm', address: '0xa' }, undefined);
  const table: [string, Parameters<typeof isOwnFreshAuthSig>[0], boolean][] = [
    ['ours, same session key', { authSig: own, sessionKeyUri: URI }, true],
    ['ours, another session key', { authSig: own, sessionKeyUri: 'lit:session:other' }, false],
    ['an equal copy is not ours', { authSig: { ...own }, sessionKeyUri: URI }, false],
    ['never marked', { authSig: unmarked, sessionKeyUri: URI }, false],
    ['a BLS (node-signed) capability', { authSig: ownBls, sessionKeyUri: URI }, false],
    ['marked without a URI', { authSig: noUri, sessionKeyUri: URI }, false],
  ];
  for (const [name, params, expected] of table) assert.equal(isOwnFreshAuthSig(params), expected, name);
});

test("the client's check runs for every other signature, and installing twice wraps once", async () => {
  const seen: unknown[] = [];
  const fake = {
    checkNeedToResignSessionKey: async (params: unknown) => {
      seen.push(params);
      return true;
    },
  };
  const client = fake as unknown as LitNodeClientNodeJs;
  skipRecheckOfOwnAuthSigs(client);
  skipRecheckOfOwnAuthSigs(client);
  const own = markOwnAuthSig({ sig: '0x1' }, URI);
  const check = (client as any).checkNeedToResignSessionKey;
  assert.equal(await check({ authSig: own, sessionKeyUri: URI }), false);
  assert.equal(seen.length, 0);
  const foreign = { authSig: { sig: '0x9' }, sessionKeyUri: URI };
  assert.equal(await check(foreign), true);
  assert.deepEqual(seen, [foreign]);
});
