/**
 * The worker's entry point: runs the session refresh workflows and their mint activity, with one
 * pooled Lit client per network.
 * - `runWorkerFromEnv` is the production process (`npx session-keeper worker`): configuration from
 *   the environment, payload encryption, metrics, health, graceful drain (worker/boot.ts);
 * - `createSessionWorker` is the wiring, for tests, the demo and the benchmarks (worker/compose.ts);
 * - reactions to Lit network events live in worker/network-events.ts, the environment's
 *   configuration in worker/config.ts.
 */
export { runWorkerFromEnv } from './worker/boot';
export {
  createSessionWorker,
  type SessionWorker,
  type SessionWorkerOptions,
} from './worker/compose';
