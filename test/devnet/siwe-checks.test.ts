import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ethers } from 'ethers';
import { SiweMessage } from 'siwe';
import { LitNodeError } from '../../src/devnet/lit-errors';
import {
  checkExpirationWindow,
  checkNonceBlock,
  checkSessionSiweTimes,
  parseSiwe,
  siweValidAt,
  verifyEthWalletAccessToken,
} from '../../src/devnet/siwe-checks';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const iso = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const MIN = 60_000;
const DAY = 24 * 3600_000;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof LitNodeError, `expected a LitNodeError, got ${e}`);
    return e.code;
  }
}

describe('checkSessionSiweTimes (sign_session_key)', () => {
  const cases: [string, { issuedAt?: string; expirationTime?: string }, string | undefined][] = [
    ['fresh, expiring in a day', { issuedAt: iso(0), expirationTime: iso(DAY) }, undefined],
    ['issued 30 s ahead (within grace)', { issuedAt: iso(30_000), expirationTime: iso(DAY) }, undefined],
    ['issued 2 min ahead', { issuedAt: iso(2 * MIN), expirationTime: iso(DAY) }, 'NodeSIWEMessageError'],
    ['no expiration', { issuedAt: iso(0) }, 'NodeSIWEMessageError'],
    ['expiration before issue', { issuedAt: iso(0), expirationTime: iso(-MIN) }, 'NodeExpWrongOrTooLarge'],
    ['expired 30 s ago (within grace)', { issuedAt: iso(-DAY), expirationTime: iso(-30_000) }, undefined],
    ['expired 2 min ago', { issuedAt: iso(-DAY), expirationTime: iso(-2 * MIN) }, 'NodeSIWEMessageError'],
    ['exactly 30 days', { issuedAt: iso(0), expirationTime: iso(30 * DAY) }, undefined],
    [
      '30 days and a second',
      { issuedAt: iso(0), expirationTime: iso(30 * DAY + 1000) },
      'NodeSIWEMessageError',
    ],
    ['unparseable expiration', { issuedAt: iso(0), expirationTime: 'soon' }, 'NodeSIWEMessageError'],
  ];
  for (const [name, siwe, expected] of cases) {
    test(name, () =>
      assert.equal(
        codeOf(() => checkSessionSiweTimes(siwe, NOW)),
        expected,
      ),
    );
  }
});

describe('checkNonceBlock', () => {
  const cases: [string, { timestamp: number } | undefined, string | undefined][] = [
    ['a block this chain never issued', undefined, 'NodeInvalidBlockhash'],
    ['a block of a second ago', { timestamp: (NOW - 1000) / 1000 }, undefined],
    ['a block of 29 days ago', { timestamp: (NOW - 29 * DAY) / 1000 }, undefined],
    ['a block of 31 days ago', { timestamp: (NOW - 31 * DAY) / 1000 }, 'NodeInvalidBlockhash'],
  ];
  for (const [name, block, expected] of cases) {
    test(name, () =>
      assert.equal(
        codeOf(() => checkNonceBlock('0xabc', block, NOW)),
        expected,
      ),
    );
  }
});

test('checkExpirationWindow allows 30 days and no more', () => {
  assert.equal(
    codeOf(() => checkExpirationWindow(NOW, NOW + 30 * DAY)),
    undefined,
  );
  assert.equal(
    codeOf(() => checkExpirationWindow(NOW, NOW + 30 * DAY + 1)),
    'NodeSIWEMessageError',
  );
});

describe('siweValidAt', () => {
  const cases: [string, { expirationTime?: string; notBefore?: string }, boolean][] = [
    ['no times', {}, true],
    ['expires later', { expirationTime: iso(1000) }, true],
    ['expires now', { expirationTime: iso(0) }, false],
    ['not before later', { notBefore: iso(1000) }, false],
    ['not before earlier', { notBefore: iso(-1000), expirationTime: iso(1000) }, true],
  ];
  for (const [name, siwe, expected] of cases)
    test(name, () => assert.equal(siweValidAt(siwe, NOW), expected));
});

test('parseSiwe reports an unparseable message with the given code', () => {
  assert.equal(
    codeOf(() => parseSiwe('hello')),
    'NodeSIWEMessageError',
  );
  assert.equal(
    codeOf(() => parseSiwe(undefined, 'NodeInvalidAuthSig')),
    'NodeInvalidAuthSig',
  );
});

describe('verifyEthWalletAccessToken', () => {
  const wallet = ethers.Wallet.createRandom();
  const other = ethers.Wallet.createRandom();
  const message = (expirationTime: string, address = wallet.address) =>
    new SiweMessage({
      domain: 'localhost',
      address,
      uri: 'https://localhost/login',
      version: '1',
      chainId: 1,
      nonce: '0x1234567890abcdef',
      issuedAt: iso(-MIN),
      expirationTime,
    }).prepareMessage();
  const token = async (opts: { signer?: ethers.Wallet; expirationTime?: string; address?: string } = {}) => {
    const signedMessage = message(opts.expirationTime ?? iso(10 * MIN));
    const sig = await (opts.signer ?? wallet).signMessage(signedMessage);
    return JSON.stringify({
      sig,
      derivedVia: 'web3.eth.personal.sign',
      signedMessage,
      address: opts.address ?? wallet.address,
    });
  };

  test('returns the address a valid auth sig proves', async () => {
    assert.equal(verifyEthWalletAccessToken(await token(), NOW), wallet.address);
  });
  test('refuses a SIWE signed by another wallet', async () => {
    const t = await token({ signer: other });
    assert.equal(
      codeOf(() => verifyEthWalletAccessToken(t, NOW)),
      'NodeInvalidAuthSig',
    );
  });
  test('refuses an auth sig whose address is not the signer', async () => {
    const t = await token({ address: other.address });
    assert.equal(
      codeOf(() => verifyEthWalletAccessToken(t, NOW)),
      'NodeInvalidAuthSig',
    );
  });
  test('refuses an expired SIWE', async () => {
    const t = await token({ expirationTime: iso(-1000) });
    assert.equal(
      codeOf(() => verifyEthWalletAccessToken(t, NOW)),
      'NodeInvalidAuthSig',
    );
  });
  test('refuses a token that is not a JSON auth sig', () => {
    assert.equal(
      codeOf(() => verifyEthWalletAccessToken('not json', NOW)),
      'NodeInvalidAuthSig',
    );
    assert.equal(
      codeOf(() => verifyEthWalletAccessToken('{"sig":1}', NOW)),
      'NodeInvalidAuthSig',
    );
  });
});
