import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NodeError } from '@lit-protocol/constants';
import {
  isLitErrorCode,
  type LIT_ERROR_CODES,
  litError,
  litErrorBody,
  litErrorCodeOf,
} from '../../src/devnet/lit-errors';

describe('litErrorBody', () => {
  test("has Lit's fields, status and kind", () => {
    const body = litErrorBody(litError('NodeInvalidBlockhash', 'Invalid block hash'), 'lit_abc');
    assert.deepEqual(body, {
      errorKind: 'Validation',
      errorCode: 'NodeInvalidBlockhash',
      status: 502,
      message: 'Invalid block hash',
      correlationId: 'lit_abc',
      details: ['Invalid block hash'],
    });
  });
  const statuses: [keyof typeof LIT_ERROR_CODES, number][] = [
    ['NodeSystemFault', 500],
    ['NodeConcurrencyOverload', 429],
    ['NodeBadInput', 422],
    ['NodePKPNotAuthorized', 401],
    ['NodeInvalidAuthSig', 401],
    ['NodeExpWrongOrTooLarge', 403],
    ['NodeIatOutsideGracePeriod', 403],
    ['NodeSIWEMessageError', 400],
    ['NodeNotAuthorized', 403],
  ];
  for (const [code, status] of statuses) {
    test(`${code} answers HTTP ${status}`, () => assert.equal(litError(code, 'x').status, status));
  }
  test('isLitErrorCode knows the table and nothing else', () => {
    assert.ok(isLitErrorCode('NodeSystemFault'));
    assert.equal(isLitErrorCode('toString'), false);
    assert.equal(isLitErrorCode(42), false);
  });
});

describe('litErrorCodeOf reads the code the SDK surfaces', () => {
  const body = litErrorBody(litError('NodePKPNotAuthorized', 'no'), 'lit_1');
  // Built the way the SDK's _throwNodeError builds it from the most common node error.
  const sdkError = new NodeError(
    { info: { requestId: '1', errorCode: body.errorCode, message: body.message }, cause: body },
    'There was an error getting the signing shares from the nodes. Response from the nodes: %s',
    JSON.stringify({ success: false, error: body }),
  );
  const cases: [string, unknown, string | undefined][] = [
    ['an SDK NodeError', sdkError, 'NodePKPNotAuthorized'],
    ['a raw node body (connect rejects with it)', body, 'NodePKPNotAuthorized'],
    ['a message embedding a body', new Error(`failed: ${JSON.stringify(body)}`), 'NodePKPNotAuthorized'],
    ['a network error', new TypeError('fetch failed'), undefined],
    ['not an error', 'oops', undefined],
    ['nothing', undefined, undefined],
  ];
  for (const [name, err, expected] of cases) test(name, () => assert.equal(litErrorCodeOf(err), expected));
});
