import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isExpectedSdkNoise } from '../../src/lit/sdk-console-noise';

test('only the SDK storage-provider chatter is treated as noise', () => {
  assert.ok(isExpectedSdkNoise(['Storage key "lit-wallet-sig" is missing. Not a problem. Continue...']));
  assert.ok(isExpectedSdkNoise(['Unable to store walletSig in local storage. Not a problem. Continue...']));
  assert.ok(!isExpectedSdkNoise(['Error parsing walletSig', new Error('x')]));
  assert.ok(!isExpectedSdkNoise(['Storage key "other" is missing. Not a problem. Continue...']));
  assert.ok(!isExpectedSdkNoise([{ msg: 'object' }]));
});
