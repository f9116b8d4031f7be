/**
 * No Docker engine runs here, so the compose file is checked against the code instead: the worker's
 * environment parses with the worker's own configuration parser, every variable it sets is one the
 * worker reads, ports and paths line up between services, the Dockerfile's health check and the
 * worker's metrics address agree, and the worker service can be scaled.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import {
  composeFacts,
  LOCATION_VARIABLES,
  readComposeFacts,
} from '../../deploy/local-cluster/compose-source';
import { SETUP_COMMAND, setupEnvironment } from '../../deploy/local-cluster/local-cluster';
import { buildProgram } from '../../src/cli/main';
import { DEFAULT_TASK_QUEUE } from '../../src/shared/names';
import { parseWorkerConfig, WORKER_ENV_VARS } from '../../src/worker/config';

const ROOT = path.resolve(__dirname, '..', '..');
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
const services = compose.services as Record<string, any>;

function envFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

const worker = services.worker;
const workerEnv: Record<string, string> = {
  ...Object.assign({}, ...(worker.env_file ?? []).map(envFile)),
  ...worker.environment,
};

test('the worker environment parses with the worker configuration parser', () => {
  const config = parseWorkerConfig(workerEnv);
  assert.equal(config.taskQueue, DEFAULT_TASK_QUEUE);
  assert.equal(config.connection.namespace, 'default');
});

test('every variable the compose file gives the worker is one the worker reads', () => {
  for (const name of Object.keys(workerEnv)) {
    assert.ok((WORKER_ENV_VARS as readonly string[]).includes(name), `${name} is not read by the worker`);
  }
});

test('the worker reaches Temporal by service name and port', () => {
  const [host, port] = workerEnv.TEMPORAL_ADDRESS.split(':');
  assert.ok(services[host], `no service named ${host}`);
  assert.ok(
    services[host].ports.some((p: string) => p.endsWith(`:${port}`)),
    `${host} does not serve ${port}`,
  );
});

test('metrics port: worker config, exposed port and the Dockerfile health check agree', () => {
  const port = parseWorkerConfig(workerEnv).metricsAddress?.split(':')[1];
  assert.ok(port, 'the worker must enable its operator endpoint (health checks need /readyz)');
  assert.ok(worker.expose.includes(port));
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, new RegExp(`127\\.0\\.0\\.1:${port}/readyz`));
  assert.match(dockerfile, new RegExp(`SESSION_KEEPER_METRICS_ADDRESS=0\\.0\\.0\\.0:${port}`));
});

test('the worker can be scaled: no container name, no fixed host ports', () => {
  assert.equal(worker.container_name, undefined);
  assert.equal(worker.ports, undefined);
});

test('secrets the worker and codec server read are mounted Docker secrets', () => {
  for (const svc of ['worker', 'codec-server']) {
    const env = services[svc].environment as Record<string, string>;
    for (const [name, value] of Object.entries(env)) {
      if (!name.endsWith('_FILE') || !value.startsWith('/run/secrets/')) continue;
      const secret = value.slice('/run/secrets/'.length);
      assert.ok(services[svc].secrets.includes(secret), `${svc} does not mount ${secret}`);
      assert.ok(compose.secrets[secret], `secret ${secret} is not declared`);
    }
  }
  // Nothing secret is set inline.
  assert.equal(workerEnv.SESSION_KEEPER_CODEC_KEYS, undefined);
});

/** Every published port of every service, as [host ip, host port, container port]. */
function publishedPorts(): Array<{ service: string; spec: string; hostIp: string; container: string }> {
  const out: Array<{ service: string; spec: string; hostIp: string; container: string }> = [];
  for (const [service, svc] of Object.entries(services)) {
    for (const spec of (svc.ports ?? []) as string[]) {
      // "${VAR:-127.0.0.1}:7233:7233": the host ip, as compose fills it in with the variable unset.
      const filled = spec.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
      const parts = filled.split(':');
      assert.equal(
        parts.length,
        3,
        `${service}: port ${spec} must name the host address (ip:host:container)`,
      );
      out.push({ service, spec, hostIp: parts[0], container: parts[2] });
    }
  }
  return out;
}

test('safe by default: every published port is bound to loopback unless the operator opts in', () => {
  const ports = publishedPorts();
  assert.deepEqual(ports.map((p) => p.service).sort(), ['codec-server', 'temporal']);
  for (const p of ports) {
    assert.equal(p.hostIp, '127.0.0.1', `${p.service}: ${p.spec}`);
    assert.match(p.spec, /^\$\{[A-Z_]+_PUBLISH_HOST:-127\.0\.0\.1\}:/, `${p.service}: opt in by a variable`);
  }
  // Nothing else is reachable from outside compose's network: the UI, PostgreSQL, the workers, the devnet.
  for (const name of ['temporal-ui', 'postgresql', 'worker', 'devnet'])
    assert.equal(services[name].ports, undefined, name);
});

test('the Web UI is served through the codec server, its codec endpoint on the same origin', () => {
  const codec = services['codec-server'];
  const ui = services['temporal-ui'];
  const arg = (flag: string) => codec.command[codec.command.indexOf(flag) + 1];
  // The gateway proxies to the UI service's port, on compose's network.
  const upstream = new URL(arg('--ui-upstream'));
  assert.ok(services[upstream.hostname], `no service ${upstream.hostname}`);
  assert.equal(upstream.hostname, 'temporal-ui');
  assert.ok(ui.expose.includes(upstream.port));
  // The UI's codec endpoint is relative (the gateway's origin) and is the gateway's codec path.
  const program = buildProgram();
  const codecCommand = program.commands.find((c) => c.name() === 'codec-server')!;
  const defaultCodecPath = codecCommand.options.find((o) => o.long === '--ui-codec-path')!.defaultValue;
  const codecPath = codec.command.includes('--ui-codec-path') ? arg('--ui-codec-path') : defaultCodecPath;
  assert.equal(ui.environment.TEMPORAL_CODEC_ENDPOINT, codecPath);
  assert.ok(ui.environment.TEMPORAL_CODEC_ENDPOINT.startsWith('/'));
  // The gateway publishes the port it listens on, and serves the origins it is reached by.
  const port = arg('--port');
  const published = publishedPorts().find((p) => p.service === 'codec-server')!;
  assert.equal(published.container, port);
  const origins = codec.command
    .map((a: string, i: number) => (codec.command[i - 1] === '--origin' ? a : undefined))
    .filter(Boolean)
    .map((o: string) => o.replace(/\$\{[A-Z_]+:-([^}]*)\}/, '$1'));
  assert.ok(origins.includes(`http://localhost:${published.spec.split(':').at(-2)}`));
  assert.ok(origins.includes(`http://127.0.0.1:${published.spec.split(':').at(-2)}`));
  // A token is required (the browser's sign-in password); it comes from a mounted secret.
  assert.equal(codec.environment.SESSION_KEEPER_CODEC_SERVER_TOKEN_FILE, '/run/secrets/codec_server_token');
  assert.ok(!codec.command.includes('--no-auth'));
});

test('the devnet runs as the image user, which owns the volume it writes to', () => {
  const devnet = services.devnet;
  assert.equal(devnet.user, undefined, 'no user override: the image runs as node');
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
  assert.match(runtime, /^USER node$/m);
  const dir = path.posix.dirname(devnet.command[devnet.command.indexOf('--write-config') + 1]);
  assert.equal(path.posix.dirname(devnet.command[devnet.command.indexOf('--state-file') + 1]), dir);
  assert.match(runtime, new RegExp(`mkdir -p ${dir} && chown node:node ${dir}`));
  assert.ok(runtime.indexOf(`chown node:node ${dir}`) < runtime.indexOf('USER node'));
});

test('local profile: the devnet writes the network file the worker reads, on a shared volume', () => {
  const devnet = services.devnet;
  assert.deepEqual(devnet.profiles, ['local']);
  const written = devnet.command[devnet.command.indexOf('--write-config') + 1];
  assert.equal(written, workerEnv.LIT_NETWORKS_FILE);
  const dir = path.posix.dirname(written);
  const volumeOf = (svc: any) => svc.volumes.find((v: string) => v.split(':')[1] === dir)?.split(':')[0];
  assert.ok(volumeOf(devnet) && volumeOf(devnet) === volumeOf(worker));
});

test('every command the compose file runs is a CLI command, with the options it passes', () => {
  const program = buildProgram();
  for (const [name, svc] of Object.entries(services)) {
    if (svc.image !== services.worker.image) continue;
    const [command, ...args] = svc.command as string[];
    const cmd = program.commands.find((c) => c.name() === command);
    assert.ok(cmd, `${name}: no CLI command ${command}`);
    for (const flag of args.filter((a) => a.startsWith('--'))) {
      assert.ok(
        cmd.options.some((o) => o.long === flag),
        `${name}: ${command} has no option ${flag}`,
      );
    }
  }
});

// The local cluster (deploy/local-cluster) runs the same production shape without Docker; it
// reads the server version and the worker environment from this compose file, so they cannot drift.

test('the local cluster builds the Temporal server release compose pins', () => {
  const facts = readComposeFacts();
  assert.equal(`temporalio/auto-setup:${facts.temporalServerVersion}`, services.temporal.image);
  assert.throws(
    () => composeFacts('services:\n  temporal:\n    image: temporalio/auto-setup:latest\n', () => ''),
    /services\.temporal\.image is "temporalio\/auto-setup:latest".*pinned/,
  );
});

test("the local cluster's workers get compose's worker environment; only the location variables differ", () => {
  const facts = readComposeFacts();
  assert.deepEqual(facts.workerEnv, workerEnv);
  // Each location variable is one compose sets to a container host or path.
  for (const name of LOCATION_VARIABLES) {
    assert.ok(workerEnv[name], `compose does not set ${name}; drop it from LOCATION_VARIABLES`);
    assert.match(
      workerEnv[name],
      /^(temporal:|\/|0\.0\.0\.0:)/,
      `${name}=${workerEnv[name]} is not a location`,
    );
  }
  // Whatever else compose sets (task queue, tuning, namespace) reaches the cluster's workers unchanged.
  for (const [name, value] of Object.entries(workerEnv)) {
    if ((LOCATION_VARIABLES as readonly string[]).includes(name)) continue;
    assert.equal(facts.portableWorkerEnv[name], value, name);
  }
});

test('the local cluster registers the search attributes with the command and environment compose runs', () => {
  assert.deepEqual(services.setup.command, SETUP_COMMAND);
  const facts = readComposeFacts();
  assert.deepEqual(facts.setupEnv, services.setup.environment);
  const env = setupEnvironment(
    facts,
    { PATH: '/bin', SESSION_KEEPER_CODEC_KEYS: 'k1:x' },
    '127.0.0.1:7233',
    'default',
  );
  // Compose's setup variables, only the address the cluster's; not the workers' (no codec keys).
  assert.deepEqual(env, { PATH: '/bin', ...services.setup.environment, TEMPORAL_ADDRESS: '127.0.0.1:7233' });
  assert.notDeepEqual(env, { PATH: '/bin', ...facts.workerEnv, TEMPORAL_ADDRESS: '127.0.0.1:7233' });
});
