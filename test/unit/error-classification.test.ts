import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyLitError, shortMessage, TypedActivityError } from '../../src/lit/error-classification';

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
  [
    'a Lit Action out of memory is retried',
    nodeError('NodeJsMemoryLimitError'),
    'NodeJsMemoryLimitError',
    true,
  ],
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

// The network bounds (issue 17): a deadline or size bound that trips inside the SDK or ethers comes
// back wrapped; the classifier reports the bound's own type and message, transient either way.
const rpcDeadline = () =>
  new TypedActivityError('NodeTimeout', 'RPC http://127.0.0.1:8545 did not answer within 10000 ms');
const bounded: [string, unknown, string, string][] = [
  [
    // ethers' JsonRpcProvider turns a failed eth_call into CALL_EXCEPTION with the cause in `error`.
    'an RPC deadline inside ethers CALL_EXCEPTION',
    Object.assign(
      new Error('missing revert data in call exception; Transaction reverted without a reason string'),
      {
        code: 'CALL_EXCEPTION',
        error: rpcDeadline(),
      },
    ),
    'NodeTimeout',
    'RPC http://127.0.0.1:8545 did not answer within 10000 ms',
  ],
  [
    'an RPC deadline as a VError cause',
    Object.assign(new Error('[_fetchCurrentEpochNumber] Error getting current epoch number'), {
      jse_cause: rpcDeadline(),
    }),
    'NodeTimeout',
    'RPC http://127.0.0.1:8545 did not answer within 10000 ms',
  ],
  [
    'an RPC answer over the size bound, as an Error cause',
    new Error('connect failed', {
      cause: new TypedActivityError(
        'NetworkError',
        'RPC http://rpc sent more than 4194304 bytes; stopped reading (limit 4194304 bytes)',
      ),
    }),
    'NetworkError',
    'RPC http://rpc sent more than 4194304 bytes; stopped reading (limit 4194304 bytes)',
  ],
  [
    // The SDK gathers failed node requests with JSON.stringify: TypedActivityError.toJSON keeps them.
    'a node request deadline in the SDK aggregate',
    new Error(
      `There was an error getting the signing shares from the nodes. Response from the nodes: ${JSON.stringify(
        {
          success: false,
          error: new TypedActivityError(
            'NodeTimeout',
            'Lit node http://127.0.0.1:7473/web/sign_session_key/v2 did not answer within 30000 ms',
          ),
        },
      )}`,
    ),
    'NodeTimeout',
    'Lit node http://127.0.0.1:7473/web/sign_session_key/v2 did not answer within 30000 ms',
  ],
  [
    'a node answer over the size bound in the SDK aggregate',
    new Error(
      `Response from the nodes: ${JSON.stringify({
        success: false,
        error: new TypedActivityError(
          'NetworkError',
          'Lit node http://n1 sent more than 4194304 bytes; "quoted"',
        ),
      })}`,
    ),
    'NetworkError',
    'Lit node http://n1 sent more than 4194304 bytes; "quoted"',
  ],
];
for (const [name, err, type, message] of bounded) {
  test(`classifyLitError (network bounds): ${name}`, () => {
    const c = classifyLitError(err);
    assert.deepEqual(c, { type, retryable: true, message });
  });
}

test('classifyLitError: a typed error serialised into a message is read only for known types', () => {
  const known = classifyLitError(
    new Error('Response from the nodes: {"typedError":"NetworkError","source":"lit","message":"x"}'),
  );
  assert.deepEqual(known, { type: 'NetworkError', retryable: true, message: 'x' });
  const bogus = classifyLitError(
    new Error('Response from the nodes: {"typedError":"Bogus","source":"lit","message":"x"}'),
  );
  assert.equal(bogus.type, 'Unknown');
});
