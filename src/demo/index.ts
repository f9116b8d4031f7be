/** The one-command demo (`npm start`, `session-keeper demo`). */

export { DEMO_DEFAULTS, type DemoOptions, demoPaths, MAX_DEMO_AGENTS } from './options';
export { type DemoIO, runDemo } from './run-demo';
