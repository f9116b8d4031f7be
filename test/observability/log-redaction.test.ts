/**
 * The worker's logger (createLogger, what `session-keeper worker` logs through) redacts key-shaped
 * text in free text too: an error's message and stack, a message string, nested fields. Field
 * paths alone (pino's redact) missed a key quoted in an error message.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/observability/logger';

const KEY = 'ab'.repeat(32);

test('key-shaped text is redacted from err, other errors, nested fields and the message', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const log = createLogger('info', sink as never);
  const err = new Error(`signer env:${KEY}: environment variable ${KEY} is not set`);
  Object.assign(err, { details: { path: `file:/${KEY}` } });
  log.error({ err, agentId: 'a1' }, `mint failed for ${KEY}`);
  log.warn({ error: err, nested: { deeper: [`0x${KEY}`] } }, 'retrying');
  log.info('plain %s', KEY);
  const out = lines.join('');
  assert.equal(lines.length, 3, out);
  assert.ok(!out.includes(KEY), `a key reached the log:\n${out}`);
  const first = JSON.parse(lines[0]);
  assert.equal(first.err.type, 'Error', 'the error keeps its type');
  assert.match(first.err.message, /^signer env:\[redacted\]: environment variable \[redacted\] is not set$/);
  assert.equal(first.err.details.path, 'file:/[redacted]');
  assert.equal(first.msg, 'mint failed for [redacted]');
  assert.equal(first.agentId, 'a1', 'other fields are kept');
  assert.equal(JSON.parse(lines[1]).nested.deeper[0], '[redacted]');
  assert.equal(JSON.parse(lines[2]).msg, 'plain [redacted]');
});
