import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classifyLitError,
  shortMessage,
  TypedActivityError,
} from '../../src/activities/error-classification';

function nodeError(errorCode: string): Error {
  // The SDK's NodeError: VError with info.errorCode and the node's body as cause.
  const err = new Error(
    `There was an error getting the signing shares from the nodes. Response from the nodes: {"success":false,"error":{"errorCode":"${errorCode}"}}`,
  );
  Object.assign(err, { info: { errorCode }, cause: { errorKind: 'Validation', errorCode, status: 400 } });
  return err;
}

const cases: [string, unknown, string, boolean][] = [
  ['NodePKPNotAuthorized is permanent', nodeError('NodePKPNotAuthorized'), 'NodePKPNotAuthorized', false],
  ['NodeInvalidAuthSig is permanent', nodeError('NodeInvalidAuthSig'), 'NodeInvalidAuthSig', false],
  ['NodeBadInput is permanent', nodeError('NodeBadInput'), 'NodeBadInput', false],
  [
    'a Lit Action that says no (NodeAuthFailed) is permanent',
    nodeError('NodeAuthFailed'),
    'NodeAuthFailed',
    false,
  ],
  ['a Lit Action that threw is retried', nodeError('NodeJsExecutionError'), 'NodeJsExecutionError', true],
  ['a Lit Action that timed out is retried', nodeError('NodeJsTimeoutError'), 'NodeJsTimeoutError', true],
  ['NodeSystemFault is transient', nodeError('NodeSystemFault'), 'NodeSystemFault', true],
  [
    'NodeConcurrencyOverload is transient',
    nodeError('NodeConcurrencyOverload'),
    'NodeConcurrencyOverload',
    true,
  ],
  [
    'NodeInvalidBlockhash retries with a new nonce',
    nodeError('NodeInvalidBlockhash'),
    'NodeInvalidBlockhash',
    true,
  ],
  [
    'code only in the message JSON',
    new Error('Response from the nodes: {"error":{"errorCode":"NodeSIWEMessageError"}}'),
    'NodeSIWEMessageError',
    true,
  ],
  [
    'code deep in a cause chain',
    { message: 'outer', cause: { cause: { errorCode: 'NodeAuthFailed' } } },
    'NodeAuthFailed',
    false,
  ],
  ['snake-case not_authorized', { errorCode: 'not_authorized' }, 'NodeNotAuthorized', true],
  ['connection refused', new Error('fetch failed: connect ECONNREFUSED 127.0.0.1:1'), 'NetworkError', true],
  ['handshake shortfall', new Error('Could not handshake with nodes after timeout'), 'NotEnoughNodes', true],
  [
    // Seen with two of three nodes down after connecting: the SDK turns the fetch errors into `{}`.
    'nodes unreachable while signing',
    new Error(
      'There was an error getting the signing shares from the nodes. Response from the nodes: {"success":false,"error":{}}: [object Object]',
    ),
    'NotEnoughNodes',
    true,
  ],
  ['our own typed error', new TypedActivityError('InvalidSigner', 'bad key'), 'InvalidSigner', false],
  ['typed transient', new TypedActivityError('StaleBlockhash', 'old'), 'StaleBlockhash', true],
  ['anything else retries', new Error('weird'), 'Unknown', true],
];

for (const [name, err, type, retryable] of cases) {
  test(`classifyLitError: ${name}`, () => {
    const c = classifyLitError(err);
    assert.equal(c.type, type);
    assert.equal(c.retryable, retryable);
  });
}

test('shortMessage drops node payloads and bounds length', () => {
  const m = shortMessage(new Error(`boom. Response from the nodes: {"signedMessage":"secret"}\nstack`));
  assert.equal(m, 'boom. Response from the nodes: …');
  assert.ok(shortMessage(new Error('x'.repeat(1000))).length <= 300);
});
