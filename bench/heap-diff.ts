/**
 * What grew between two V8 heap snapshots, by object type and constructor, per unit (e.g. per
 * cached workflow):
 *
 *   node --max-old-space-size=4096 --import tsx bench/heap-diff.ts before.heapsnapshot after.heapsnapshot --per 1000
 *
 * bench/b3's memory run writes such snapshots of the worker's threads with --b3-heap-snapshots.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

export function aggregate(s: Snapshot): Map<string, { bytes: number; count: number }> {
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const ti = fields.indexOf('type');
  const ni = fields.indexOf('name');
  const si = fields.indexOf('self_size');
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + ti]];
    // Strings and code are grouped by type only; their names are their contents.
    const name = /string|code/.test(type) ? '' : s.strings[s.nodes[i + ni]].slice(0, 60);
    const key = `${type} ${name}`.trim();
    const e = out.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += s.nodes[i + si];
    e.count++;
    out.set(key, e);
  }
  return out;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { per: { type: 'string', default: '1' }, top: { type: 'string', default: '30' } },
  });
  if (positionals.length !== 2) {
    console.error('usage: bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [--per N] [--top N]');
    process.exit(2);
  }
  const per = Number(values.per);
  const [a, b] = positionals.map((f) => aggregate(JSON.parse(fs.readFileSync(f, 'utf8')) as Snapshot));
  const rows = [...b.entries()].map(([key, e]) => ({
    key,
    bytes: e.bytes - (a.get(key)?.bytes ?? 0),
    count: e.count - (a.get(key)?.count ?? 0),
  }));
  const total = rows.reduce((x, r) => x + r.bytes, 0);
  console.log(`heap grew by ${(total / 1024 / per).toFixed(1)} KiB per unit (${per} units)`);
  for (const r of rows.sort((x, y) => y.bytes - x.bytes).slice(0, Number(values.top))) {
    console.log(
      `${(r.bytes / 1024 / per).toFixed(2).padStart(9)} KiB ${(r.count / per).toFixed(1).padStart(8)} objects  ${r.key}`,
    );
  }
}

if (require.main === module) main();
