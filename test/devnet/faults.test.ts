import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BlockClock } from '../../src/devnet/block-clock';
import {
  BlockhashAdvertiser,
  type FaultSpec,
  FaultSpecError,
  faultApplies,
  parseChainFaults,
  parseFaultSpec,
} from '../../src/devnet/faults';

describe('parseFaultSpec accepts', () => {
  const cases: [string, unknown, FaultSpec][] = [
    ['a mode name', 'down', { mode: 'down' }],
    ['none', { mode: 'none' }, { mode: 'none' }],
    ['latency with its delay', { mode: 'latency', latencyMs: 250 }, { mode: 'latency', latencyMs: 250 }],
    [
      'a 500 on one endpoint',
      { mode: 'error500', endpoints: ['sign_session_key'] },
      { mode: 'error500', endpoints: ['sign_session_key'] },
    ],
    [
      'duplicate endpoints once',
      { mode: 'hang', endpoints: ['handshake', 'handshake'] },
      { mode: 'hang', endpoints: ['handshake'] },
    ],
    ['the admin body with its node field', { node: 1, mode: 'error429' }, { mode: 'error429' }],
  ];
  for (const [name, input, expected] of cases)
    test(name, () => assert.deepEqual(parseFaultSpec(input), expected));
});

describe('parseFaultSpec refuses', () => {
  const cases: [string, unknown][] = [
    ['an unknown mode', { mode: 'explode' }],
    ['latency without delay', { mode: 'latency' }],
    ['a negative delay', { mode: 'latency', latencyMs: -1 }],
    ['a delay on another mode', { mode: 'hang', latencyMs: 5 }],
    ['down limited to endpoints', { mode: 'down', endpoints: ['handshake'] }],
    ['an unknown endpoint', { mode: 'error500', endpoints: ['execute'] }],
    ['an empty endpoint list', { mode: 'error500', endpoints: [] }],
    ['an unknown field', { mode: 'none', extra: 1 }],
    ['a list', ['down']],
  ];
  for (const [name, input] of cases)
    test(name, () => assert.throws(() => parseFaultSpec(input), FaultSpecError));
});

describe('faultApplies', () => {
  const cases: [FaultSpec, 'handshake' | 'sign_session_key' | 'encryption_sign' | 'other', boolean][] = [
    [{ mode: 'none' }, 'handshake', false],
    [{ mode: 'error500' }, 'handshake', true],
    [{ mode: 'error500' }, 'other', true],
    [{ mode: 'error500', endpoints: ['sign_session_key'] }, 'sign_session_key', true],
    [{ mode: 'error500', endpoints: ['sign_session_key'] }, 'handshake', false],
    [{ mode: 'hang', endpoints: ['encryption_sign'] }, 'other', false],
  ];
  for (const [spec, endpoint, expected] of cases) {
    test(`${JSON.stringify(spec)} on ${endpoint} → ${expected}`, () =>
      assert.equal(faultApplies(spec, endpoint), expected));
  }
});

describe('parseChainFaults', () => {
  const cases: [unknown, false | 'unknown' | 'expired'][] = [
    [{ staleBlockhash: true }, 'unknown'],
    [{ staleBlockhash: 'unknown' }, 'unknown'],
    [{ staleBlockhash: 'expired' }, 'expired'],
    [{ staleBlockhash: false }, false],
    [{}, false],
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () =>
      assert.deepEqual(parseChainFaults(input), { staleBlockhash: expected }),
    );
  }
  test('refuses other values and fields', () => {
    assert.throws(() => parseChainFaults({ staleBlockhash: 'yes' }), FaultSpecError);
    assert.throws(() => parseChainFaults({ forkChain: true }), FaultSpecError);
    assert.throws(() => parseChainFaults(null), FaultSpecError);
  });
});

describe('BlockhashAdvertiser', () => {
  const clock = new BlockClock({ blockTimeMs: 1000 });
  const advertiser = new BlockhashAdvertiser(clock);

  test('advertises the latest block normally', () => {
    clock.mine();
    assert.deepEqual(advertiser.current(), {
      blockhash: clock.latest().hash,
      timestamp: clock.latest().timestamp,
    });
  });
  test('unknown: a hash the chain never issued, unchanged by new blocks', () => {
    advertiser.setStale('unknown');
    const stale = advertiser.current();
    assert.equal(clock.byHash(stale.blockhash), undefined);
    clock.mine();
    assert.equal(advertiser.current().blockhash, stale.blockhash);
  });
  test('expired: the genesis block, older than 30 days', () => {
    advertiser.setStale('expired');
    const stale = advertiser.current();
    assert.equal(stale.blockhash, clock.genesis().hash);
    assert.ok(Date.now() / 1000 - stale.timestamp > 30 * 24 * 3600);
  });
  test('cleared: back to the latest block', () => {
    advertiser.setStale(false);
    assert.equal(advertiser.current().blockhash, clock.latest().hash);
  });
});
