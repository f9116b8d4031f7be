/**
 * `npm run lint:structure` as the README writes it: the checkout passes, and each rule really
 * bites — a probe file that breaks it (an import cycle, the product importing the devnet, the
 * workflow bundle reaching zod) makes the command fail naming that rule. Probes live under src/
 * only while their case runs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';

const REPO = path.resolve(__dirname, '..', '..');
const probes: string[] = [];

function lintStructure(): { status: number | null; out: string } {
  const r = spawnSync('npm', ['run', 'lint:structure'], { cwd: REPO, encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function probe(rel: string, text: string): void {
  const file = path.join(REPO, rel);
  probes.push(file);
  fs.writeFileSync(file, text);
}

function removeProbes(): void {
  for (const f of probes.splice(0)) fs.rmSync(f, { force: true });
}

after(removeProbes);

describe('npm run lint:structure', () => {
  test('the checkout passes', () => {
    const r = lintStructure();
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /no dependency violations found/);
  });

  const cases: [string, [string, string][], RegExp][] = [
    [
      'an import cycle',
      [
        ['src/shared/zz-probe-a.ts', "import { b } from './zz-probe-b';\nexport const a = () => b;\n"],
        ['src/shared/zz-probe-b.ts', "import { a } from './zz-probe-a';\nexport const b = () => a;\n"],
      ],
      /no-circular: src\/shared\/zz-probe-a\.ts/,
    ],
    [
      'the product importing the devnet',
      [['src/client/zz-probe.ts', "export { startDevnet } from '../devnet';\n"]],
      /product-not-on-devnet: src\/client\/zz-probe\.ts → src\/devnet\/index\.ts/,
    ],
    [
      'the workflow bundle reaching zod through the parser',
      [['src/workflows/zz-probe.ts', "export { parseAgentSpec } from '../shared/agent-spec';\n"]],
      /workflow-bundle-is-deterministic: src\/workflows\/zz-probe\.ts → src\/shared\/agent-spec\.ts/,
    ],
  ];
  for (const [name, files, rule] of cases) {
    test(`fails on ${name}`, () => {
      try {
        for (const [rel, text] of files) probe(rel, text);
        const r = lintStructure();
        assert.notEqual(r.status, 0, `expected a failure:\n${r.out}`);
        assert.match(r.out, rule);
      } finally {
        removeProbes();
      }
    });
  }
});
