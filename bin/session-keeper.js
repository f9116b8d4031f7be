#!/usr/bin/env node
// Entry point of `npx session-keeper`, however it is reached (npx's cache link, a global install,
// a dependency's node_modules/.bin, a symlink, `node bin/session-keeper.js`): it always calls the
// CLI's main() itself, so no guess from argv[1] decides whether the CLI runs.
//
// A checkout (src/ beside bin/, tsx installed) runs the TypeScript sources, so a stale dist/
// never shadows the code being edited; the packed package and the image ship only the
// compiled dist/. SESSION_KEEPER_FROM_DIST=1 forces dist/ in a checkout (after `npm run build`).
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
const source = path.join(root, 'src', 'cli', 'main.ts');
const compiled = path.join(root, 'dist', 'cli', 'main.js');

function loadCli() {
  if (fs.existsSync(source) && process.env.SESSION_KEEPER_FROM_DIST !== '1') {
    try {
      require.resolve('tsx/cjs');
    } catch {
      if (!fs.existsSync(compiled)) {
        throw new Error(
          'this checkout has no node_modules/tsx and no dist/: run `npm ci` (or `npm run build`)',
        );
      }
      return require(compiled);
    }
    require('tsx/cjs');
    return require(source);
  }
  if (!fs.existsSync(compiled)) {
    throw new Error(
      `no compiled CLI at ${compiled}: reinstall the package (or run \`npm run build\` in a checkout)`,
    );
  }
  return require(compiled);
}

let cli;
try {
  cli = loadCli();
} catch (err) {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
cli.main(process.argv).then(
  (code) => {
    if (typeof code === 'number' && code !== 0) process.exitCode = code;
  },
  (err) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message.split('\n')[0]}\n`);
    process.exit(1);
  },
);
