/**
 * Agent keys derived from a per-run seed, so the orchestrator and the worker process agree on
 * 1,000 keys without shipping them around: key i = sha256(seed:i). Bench-only throwaway keys.
 */
import { createHash } from 'node:crypto';

export function keyName(i: number): string {
  return `BENCH_KEY_${i}`;
}

export function keyFor(seed: string, i: number): string {
  return `0x${createHash('sha256').update(`${seed}:${i}`).digest('hex')}`;
}

/** The environment a worker resolves `env:BENCH_KEY_<i>` signer references from. */
export function signerEnv(seed: string, count: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i < count; i++) env[keyName(i)] = keyFor(seed, i);
  return env;
}
