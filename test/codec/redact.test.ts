import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import pino from 'pino';
import { LOG_REDACT, REDACTED, redactSecrets } from '../../src/codec/redact';

const HEX_KEY = 'ab'.repeat(32);
const SIG = 'cd'.repeat(64);
const PKP_PUBLIC_KEY = `0x04${'ef'.repeat(64)}`;

describe('redactSecrets', () => {
  const rows: [name: string, input: unknown, expected: unknown][] = [
    ['primitives unchanged', [1, true, null, undefined, 'agent-1'], [1, true, null, undefined, 'agent-1']],
    ['sig field', { sig: SIG, address: '0xabc' }, { sig: REDACTED, address: '0xabc' }],
    ['signedMessage field', { signedMessage: '{"x":1}' }, { signedMessage: REDACTED }],
    [
      'sessionSigs map, whole',
      { agentId: 'a', sessionSigs: { 'https://n1': { sig: SIG } }, generation: 3 },
      { agentId: 'a', sessionSigs: REDACTED, generation: 3 },
    ],
    ['null sessionSigs stays null', { sessionSigs: null }, { sessionSigs: null }],
    [
      'authSig and accessToken',
      { authSig: { sig: 'x' }, accessToken: 'tok' },
      { authSig: REDACTED, accessToken: REDACTED },
    ],
    [
      'case-insensitive field names',
      { SessionSigs: 1, AUTHORIZATION: 'Bearer x' },
      { SessionSigs: REDACTED, AUTHORIZATION: REDACTED },
    ],
    ['bare hex private key', HEX_KEY, REDACTED],
    ['0x hex private key in a field', { key: `0x${HEX_KEY}` }, { key: REDACTED }],
    ['hex key inside text', `bad key ${HEX_KEY} given`, `bad key ${REDACTED} given`],
    ['public key (longer hex) is kept', PKP_PUBLIC_KEY, PKP_PUBLIC_KEY],
    [
      'short hex (address) is kept',
      '0x52908400098527886E0F7030069857D2E4169EE7',
      '0x52908400098527886E0F7030069857D2E4169EE7',
    ],
    ['signer reference is kept', { signer: 'env:AGENT_KEY' }, { signer: 'env:AGENT_KEY' }],
    [
      'quoted secret fields inside text',
      `node said {"sig":"${'12'.repeat(20)}","derivedVia":"x","signedMessage":"hello \\"q\\""}`,
      `node said {"sig":"${REDACTED}","derivedVia":"x","signedMessage":"${REDACTED}"}`,
    ],
    ['bearer token in text', 'Authorization: Bearer abcdefghijklmnop', `Authorization: Bearer ${REDACTED}`],
    ['nested arrays', [{ x: [{ sig: 'a' }] }], [{ x: [{ sig: REDACTED }] }]],
    ['binary data', { data: new Uint8Array([1, 2, 3]) }, { data: REDACTED }],
  ];
  for (const [name, input, expected] of rows) {
    test(name, () => assert.deepEqual(redactSecrets(input), expected));
  }

  test('does not modify its input', () => {
    const input = { sessionSigs: { n: { sig: SIG } } };
    redactSecrets(input);
    assert.equal(input.sessionSigs.n.sig, SIG);
  });

  test('errors: message, stack and cause are redacted', () => {
    const err = new Error(`mint failed with key ${HEX_KEY}`, { cause: { sig: SIG } });
    const out = redactSecrets(err) as unknown as Record<string, any>;
    assert.equal(out.name, 'Error');
    assert.equal(out.message, `mint failed with key ${REDACTED}`);
    assert.ok(!String(out.stack).includes(HEX_KEY));
    assert.deepEqual(out.cause, { sig: REDACTED });
  });

  test('cycles do not loop', () => {
    const a: Record<string, unknown> = { sig: 'x' };
    a.self = a;
    assert.deepEqual(redactSecrets(a), { sig: REDACTED, self: '[circular]' });
  });
});

describe('LOG_REDACT with pino', () => {
  test('pino accepts the paths and censors structured secrets', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = pino({ redact: { ...LOG_REDACT, paths: [...LOG_REDACT.paths] } }, sink);
    logger.info(
      {
        status: { agentId: 'a1', sessionSigs: { n: { sig: SIG } } },
        mint: { result: { authSig: 'x' } },
        sig: SIG,
      },
      'minted',
    );
    const line = JSON.parse(lines[0]);
    assert.equal(line.status.sessionSigs, REDACTED);
    assert.equal(line.mint.result.authSig, REDACTED);
    assert.equal(line.sig, REDACTED);
    assert.equal(line.status.agentId, 'a1');
    assert.ok(!lines[0].includes(SIG));
  });
});
