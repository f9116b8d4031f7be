/**
 * Top frames of a V8 CPU profile (`node --cpu-prof`), by self time, by inclusive time and by
 * package, as plain text:
 *
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile> [--top 25] [--filter text]
 *
 * `--filter` keeps only samples whose stack contains a frame matching the text (e.g.
 * `mintSessionSigs`), so one code path can be looked at inside a busy process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  sampledMs: number;
  self: { frame: string; ms: number }[];
  inclusive: { frame: string; ms: number }[];
  packages: { pkg: string; ms: number }[];
}

function frameKey(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url ? url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '') : '';
  const short = file.startsWith('/') ? path.relative(process.cwd(), file) : file;
  return `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
}

/** node_modules package (scoped ones with their scope), "node:" internals, or the project's own code. */
export function packageOf(url: string): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node: internals';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  return url.includes('/src/') ? 'project src/' : url.includes('/bench/') ? 'bench/' : '(other)';
}

export function summarizeProfile(
  profile: CpuProfile,
  opts: { top?: number; filter?: string } = {},
): ProfileSummary {
  const top = opts.top ?? 25;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const packages = new Map<string, number>();
  let sampled = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const leaf = byId.get(profile.samples[i]);
    if (!leaf) continue;
    const name = leaf.callFrame.functionName;
    if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') {
      if (name === '(garbage collector)' && !opts.filter) {
        self.set('(garbage collector)', (self.get('(garbage collector)') ?? 0) + dt);
        packages.set('(garbage collector)', (packages.get('(garbage collector)') ?? 0) + dt);
        sampled += dt;
      }
      continue;
    }
    const stack: ProfileNode[] = [];
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id))
      stack.push(byId.get(id)!);
    if (opts.filter && !stack.some((n) => frameKey(n).includes(opts.filter!))) continue;
    sampled += dt;
    self.set(frameKey(leaf), (self.get(frameKey(leaf)) ?? 0) + dt);
    // Attribute the sample to the first frame (from the leaf) that belongs to a package, so a
    // library's callbacks into node internals still count for the library.
    const owner = stack.find((n) => n.callFrame.url && !n.callFrame.url.startsWith('node:')) ?? leaf;
    const pkg = packageOf(owner.callFrame.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + dt);
    for (const key of new Set(stack.map(frameKey))) inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
  }
  const sorted = <K extends string>(m: Map<string, number>, k: K) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, ms]) => ({ [k]: key, ms }) as Record<K, string> & { ms: number });
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    sampledMs: sampled,
    self: sorted(self, 'frame'),
    inclusive: sorted(inclusive, 'frame'),
    packages: sorted(packages, 'pkg'),
  };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string' }, filter: { type: 'string' } },
  });
  if (positionals.length === 0) {
    console.error(
      'usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [--top N] [--filter text]',
    );
    process.exit(2);
  }
  for (const file of positionals) {
    const s = summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')), {
      top: values.top ? Number(values.top) : undefined,
      filter: values.filter,
    });
    const pctOf = (ms: number) => `${((ms / s.sampledMs) * 100).toFixed(1).padStart(5)}%`;
    console.log(
      `${file}: ${s.totalMs.toFixed(0)} ms profiled, ${s.sampledMs.toFixed(0)} ms on CPU${values.filter ? ` under "${values.filter}"` : ''}`,
    );
    console.log('\nby package (self time):');
    for (const p of s.packages) console.log(`  ${pctOf(p.ms)} ${p.ms.toFixed(0).padStart(7)} ms  ${p.pkg}`);
    console.log('\ntop frames by self time:');
    for (const f of s.self) console.log(`  ${pctOf(f.ms)} ${f.ms.toFixed(0).padStart(7)} ms  ${f.frame}`);
    console.log('\ntop frames by inclusive time:');
    for (const f of s.inclusive)
      console.log(`  ${pctOf(f.ms)} ${f.ms.toFixed(0).padStart(7)} ms  ${f.frame}`);
  }
}

if (require.main === module) main();
