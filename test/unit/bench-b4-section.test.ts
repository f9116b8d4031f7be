/** B4's report section (bench/b4-agent-held-signing.ts): where it goes and what other runs keep. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { B4_SECTION, b4Markdown, withB4Section } from '../../bench/b4-agent-held-signing';

const summary = { n: 1, min: 0.2, median: 0.3, p95: 0.5, max: 0.9, mean: 0.3 };
const section = b4Markdown({
  rows: [{ what: 'agent-held: make sigs locally', nodes: 3, calls: 1, wallMs: summary, cpuMsPerCall: 0.4 }],
  notes: ['a note'],
});
const report =
  '# Benchmarks\n\n## B3 — steady state\n\nfigures\n\n## What limits the missed targets\n\ntext\n';

test('the section carries its markers and a row per measurement', () => {
  assert.ok(section.startsWith(B4_SECTION.start) && section.endsWith(B4_SECTION.end));
  assert.match(
    section,
    /\| agent-held: make sigs locally \| 3 \| 1 \| 0\.300 \| 0\.500 \| 0\.900 \| 0\.400 \|/,
  );
});

test('a B4 run puts its section before "What limits", or replaces the old one', () => {
  const first = withB4Section(report, section, undefined);
  assert.ok(first.indexOf(B4_SECTION.start) < first.indexOf('## What limits'));
  assert.ok(first.indexOf(B4_SECTION.start) > first.indexOf('## B3'));
  const newer = section.replace('a note', 'a newer note');
  const second = withB4Section(first, newer, first);
  assert.equal(second.split(B4_SECTION.start).length, 2, 'one B4 section');
  assert.match(second, /a newer note/);
});

test('a run without B4 keeps the section the report had; none had, none added', () => {
  const existing = withB4Section(report, section, undefined);
  assert.match(withB4Section(report, undefined, existing), /a note/);
  assert.equal(withB4Section(report, undefined, report), report);
  assert.equal(withB4Section(report, undefined, undefined), report);
});
