/**
 * docker-compose.yml is the one description of production; the local cluster reads from it instead
 * of repeating it: the Temporal server's version (the `temporal` service's image tag), the
 * workers' environment (`deploy/worker.env` plus the worker service's `environment`) and the
 * `setup` service's environment (which has no codec keys: setup sends no payloads). Only what
 * names a place (addresses, file paths of mounted secrets and volumes) is the cluster's own; the
 * list of those is `LOCATION_VARIABLES`, and the consistency test holds both to it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');

/** Worker variables whose compose values name container hosts or paths; the cluster sets its own. */
export const LOCATION_VARIABLES = [
  'TEMPORAL_ADDRESS',
  'SESSION_KEEPER_CODEC_KEYS_FILE',
  'SESSION_KEEPER_METRICS_ADDRESS',
  'LIT_NETWORKS_FILE',
] as const;

/** Setup variables whose compose values name container hosts; the cluster sets its own. */
export const SETUP_LOCATION_VARIABLES = ['TEMPORAL_ADDRESS'] as const;

export interface ComposeFacts {
  /** e.g. "1.28.1", from `temporalio/auto-setup:1.28.1`. */
  temporalServerVersion: string;
  /** The worker's environment as compose gives it (env files first, `environment` over them). */
  workerEnv: Record<string, string>;
  /** `workerEnv` without the location variables: what every cluster worker gets unchanged. */
  portableWorkerEnv: Record<string, string>;
  /** The `setup` service's environment as compose gives it. */
  setupEnv: Record<string, string>;
}

/** A service's environment: its env files first, its `environment` (map or `KEY=value` list) over them. */
function serviceEnv(service: any, readFile: (relative: string) => string): Record<string, string> {
  const env: Record<string, string> = {};
  const files = service?.env_file === undefined ? [] : [service.env_file].flat();
  for (const f of files) Object.assign(env, parseEnvFile(readFile(String(f))));
  const environment = service?.environment ?? {};
  if (Array.isArray(environment)) {
    for (const entry of environment) {
      const [k, ...v] = String(entry).split('=');
      env[k] = v.join('=');
    }
  } else {
    for (const [k, v] of Object.entries(environment)) env[k] = String(v);
  }
  return env;
}

/** Pure: `KEY=value` lines (comments and blanks ignored). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Pure: the facts, from the compose file's text and a reader for the env files it names. */
export function composeFacts(composeText: string, readFile: (relative: string) => string): ComposeFacts {
  const compose = parse(composeText) as { services: Record<string, any> };
  const image = String(compose.services?.temporal?.image ?? '');
  const m = /^temporalio\/(?:auto-setup|server):(\d+\.\d+\.\d+)$/.exec(image);
  if (!m) {
    throw new Error(
      `docker-compose.yml: services.temporal.image is "${image}"; the local cluster needs a pinned temporalio/auto-setup:X.Y.Z`,
    );
  }
  const workerEnv = serviceEnv(compose.services.worker, readFile);
  const portableWorkerEnv = Object.fromEntries(
    Object.entries(workerEnv).filter(([k]) => !(LOCATION_VARIABLES as readonly string[]).includes(k)),
  );
  if (!compose.services.setup) throw new Error('docker-compose.yml: no `setup` service');
  const setupEnv = serviceEnv(compose.services.setup, readFile);
  return { temporalServerVersion: m[1], workerEnv, portableWorkerEnv, setupEnv };
}

export function readComposeFacts(): ComposeFacts {
  return composeFacts(fs.readFileSync(COMPOSE_FILE, 'utf8'), (f) =>
    fs.readFileSync(path.join(REPO_ROOT, f), 'utf8'),
  );
}
