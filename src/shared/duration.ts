/**
 * Durations as people write them ("90s", "24h", "7d", with the `ms` library) and as the code
 * keeps them (milliseconds). One place for the spec, the CLI's flags and the worker's environment.
 */
import ms from 'ms';

/** Milliseconds of "90s" / "24h" / "7d", or of a plain integer string (taken as milliseconds). */
export function parseDuration(text: string): number | undefined {
  if (/^\d+$/.test(text.trim())) return Number(text.trim());
  const n = ms(text.trim() as ms.StringValue);
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** "90s", "24h", "7d": the short form of a number of milliseconds. */
export function formatDuration(msValue: number): string {
  return ms(msValue, { long: false });
}
