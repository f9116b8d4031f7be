#!/usr/bin/env node
// Entry point for `npx session-keeper`. Runs the compiled CLI when a build exists (the
// container image), otherwise loads the TypeScript sources through tsx (a checkout).
const path = require('node:path');
const fs = require('node:fs');
const compiled = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (fs.existsSync(compiled) && process.env.SESSION_KEEPER_FROM_SOURCE !== '1') {
  require(compiled);
} else {
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'src', 'cli', 'main.ts'));
}
