/**
 * `npm start` / `session-keeper demo`: everything on one machine, in one command.
 *
 * Starts, in order: a Temporal dev server (child process, SQLite history under the data folder,
 * the keeper's search attributes, the Web UI unless headless), the local Lit devnet (restored from
 * its state file), an in-process worker, and the demo agents (idempotent: a second run finds them
 * running and resumes them; one of them, `demo-agent-held`, keeps its session key in the data
 * folder and makes its own sigs from the keeper's capability); then shows their status until
 * SIGINT/SIGTERM. Stopping undoes every step in reverse: status polling, worker drain, Temporal connections, devnet, dev server (SIGTERM,
 * waited for), data folder lock. A second signal while stopping kills the dev server and exits.
 */
import fs from 'node:fs';
import { format } from 'node:util';
import { NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { AgentNotFoundError, AgentNotRunningError, createKeeperClient } from '../client';
import { setupPayloadEncryption } from '../codec/data-converter';
import { startDevnet } from '../devnet';
import { createLogger, temporalLoggerFor } from '../observability/logger';
import { DEFAULT_TASK_QUEUE } from '../shared/names';
import type { NetworkConfig } from '../shared/network-config';
import { type DevServer, startDevServer } from '../temporal/dev-server';
import { createSessionWorker } from '../worker';
import { AgentHeldUser } from './agent-held-use';
import { lockDataDir, resetDataDir } from './data-dir';
import { AGENT_HELD_ID, agentHeldAgent, demoAgents, ensureDemoPkps, surplusAgentIds } from './demo-agents';
import {
  ensureSessionKeyFile,
  loadDemoKeys,
  saveDemoKeys,
  signerEnvironmentOf,
  withAgentHeldWallet,
  withAgentKeys,
} from './demo-keys';
import {
  DEMO_BLOCK_TIME_MS,
  DEMO_DEVNET_NODES,
  DEMO_NETWORK,
  type DemoOptions,
  type DemoPaths,
  demoPaths,
} from './options';
import { PkpSignUser } from './pkp-sign-use';
import { checkPortsFree, devnetPortNeeds, type PortNeed } from './preflight';
import { type DemoView, LineView, TableView } from './status-view';
import { type StatusWatch, watchStatuses } from './status-watch';
import { ensureTemporalCli } from './temporal-cli';

export interface DemoIO {
  stdout: NodeJS.WriteStream | { write(text: string): unknown; columns?: number };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

const WORKER_DRAIN_TIMEOUT_MS = 30_000;
const DEV_SERVER_STOP_TIMEOUT_MS = 20_000;
const REPEAT_SIGNAL_GRACE_MS = 1_500;

/** Thrown inside the start sequence when a stop was asked for part-way; not an error. */
class StopRequested extends Error {}

/** The environment the demo's client reads: ours, minus anything pointing at another Temporal or network. */
export function demoClientEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (!/^(TEMPORAL_|LIT_NETWORKS)/.test(k)) out[k] = v;
  }
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    }),
  ]);
}

/** Sends console.log/info/warn/error/debug to `sink` until the returned function is called. */
function routeConsoleTo(sink: (text: string) => void): () => void {
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...args: unknown[]) => sink(format(...args));
  return () => {
    methods.forEach((m, i) => {
      console[m] = saved[i];
    });
  };
}

function makeView(opts: DemoOptions, io: DemoIO): DemoView {
  if (opts.output === 'table') {
    return new TableView(io.stdout, io.stderr, { color: !io.env.NO_COLOR });
  }
  return new LineView(io.stdout, io.stderr);
}

function writeNetworksFile(paths: DemoPaths, networks: NetworkConfig): void {
  fs.mkdirSync(paths.demoDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(paths.networksFile, `${JSON.stringify({ networks: networks.custom }, null, 2)}\n`);
}

/** Runs the demo until a signal; resolves with the exit code (0 after a clean stop). */
export async function runDemo(opts: DemoOptions, io: DemoIO): Promise<number> {
  const paths = demoPaths(opts.dataDir);
  const release = lockDataDir(paths);
  const view = makeView(opts, io);

  // Undone in reverse order when stopping, whatever the point the start sequence reached.
  const cleanups: { what: string; run: () => Promise<unknown> }[] = [
    { what: 'data folder lock', run: async () => release() },
  ];
  let devServer: DevServer | undefined;
  let stopReason: { reason: string; exitCode: number } | undefined;
  let cleaningUp = false;
  let resolveStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => {
    resolveStop = resolve;
  });
  const requestStop = (reason: string, exitCode: number) => {
    if (stopReason || cleaningUp) return;
    stopReason = { reason, exitCode };
    resolveStop();
  };
  const checkpoint = () => {
    if (stopReason) throw new StopRequested();
  };
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!firstSignalAt) {
      firstSignalAt = Date.now();
      requestStop(signal, 0);
      return;
    }
    // `npm start` forwards the terminal's Ctrl-C to us, which gets it from the terminal too: one
    // keypress, two signals. Only a later one means "hurry up".
    if (Date.now() - firstSignalAt < REPEAT_SIGNAL_GRACE_MS) return;
    // A second signal: do not leave the dev server behind, and go.
    io.stderr.write(`${signal} again: killing the Temporal dev server and exiting\n`);
    devServer?.process.kill('SIGKILL');
    release();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let startError: unknown;
  try {
    if (opts.reset) {
      const removed = resetDataDir(paths);
      io.stderr.write(
        `reset: removed ${removed.length} demo entr${removed.length === 1 ? 'y' : 'ies'} from ${paths.dataDir}\n`,
      );
    }
    const ports: PortNeed[] = [
      { port: opts.temporalPort, what: 'Temporal frontend', flag: '--temporal-port' },
    ];
    if (!opts.headless)
      ports.push({ port: opts.uiPort, what: 'Temporal Web UI', flag: '--ui-port (or --headless)' });
    ports.push(...devnetPortNeeds(paths.devnetState, opts.devnetPort, DEMO_DEVNET_NODES));
    await checkPortsFree(ports);

    fs.mkdirSync(paths.logDir, { recursive: true });
    const logger = createLogger(
      io.env.SESSION_KEEPER_LOG_LEVEL ?? 'info',
      pino.destination({ dest: paths.demoLog, sync: true, mkdir: true }),
    );
    // Libraries' console chatter would tear the table apart, and break the one-JSON-record-a-line
    // output (the Lit SDK's decrypt console.logs unconditionally): log it, in both modes.
    const restore = routeConsoleTo((text) => logger.info({ component: 'console' }, text));
    cleanups.push({ what: 'console', run: async () => restore() });
    try {
      Runtime.install({ logger: temporalLoggerFor(logger.child({ component: 'temporal' })) });
    } catch {
      // A runtime already exists in this process (an embedding caller installed one).
    }

    // 1. Temporal.
    const cli = await ensureTemporalCli({ env: io.env, downloadDir: paths.binDir });
    // startDevServer finds the binary through the environment, like every other tool here.
    if (cli.source === 'downloaded') process.env.TEMPORAL_CLI_PATH = cli.path;
    checkpoint();
    devServer = await startDevServer({
      dbFile: paths.temporalDb,
      port: opts.temporalPort,
      ...(opts.headless ? { headless: true } : { uiPort: opts.uiPort }),
      logFile: paths.temporalLog,
      ownProcessGroup: true,
    });
    const server = devServer;
    cleanups.push({
      what: 'Temporal dev server',
      run: async () => {
        if ((await withTimeout(server.stop(), DEV_SERVER_STOP_TIMEOUT_MS)) === 'timeout') await server.kill();
      },
    });
    server.process.once('exit', (code, signal) => {
      requestStop(
        `the Temporal dev server exited (${signal ?? `code ${code}`}); see ${paths.temporalLog}`,
        1,
      );
    });
    view.temporal({
      address: server.address,
      uiUrl: server.uiUrl,
      pid: server.process.pid,
      dataDir: paths.dataDir,
      dbFile: paths.temporalDb,
      logDir: paths.logDir,
    });
    checkpoint();

    // 2. The Lit devnet, the same network as last time.
    const devnet = await startDevnet({
      stateFile: paths.devnetState,
      basePort: opts.devnetPort,
      blockTimeMs: DEMO_BLOCK_TIME_MS,
      logger: logger.child({ component: 'devnet' }),
    });
    cleanups.push({ what: 'devnet', run: () => devnet.close() });
    const networks: NetworkConfig = { custom: { [DEMO_NETWORK]: devnet.networkConfig() } };
    writeNetworksFile(paths, networks);
    view.devnet({
      rpcUrl: devnet.rpcUrl,
      nodeUrls: devnet.nodeUrls,
      adminUrl: devnet.adminUrl,
      restored: devnet.restored,
      stateFile: paths.devnetState,
      networksFile: paths.networksFile,
    });
    checkpoint();

    // 3. The agents' keys (and PKPs), kept under the data folder.
    // The agent-held agent's wallet sits with them; its session key pair in its own key file.
    const generated = withAgentKeys(loadDemoKeys(paths.keysFile), opts.agents);
    const withHeld = withAgentHeldWallet(generated.keys);
    const withPkps = ensureDemoPkps(withHeld.keys, devnet, opts.agents);
    if (
      generated.added.length ||
      withHeld.added ||
      withPkps.minted.length ||
      !fs.existsSync(paths.keysFile)
    ) {
      saveDemoKeys(paths.keysFile, withPkps.keys);
    }
    const keys = withPkps.keys;
    const agentHeldKey = ensureSessionKeyFile(paths.agentHeldKeyFile).key;

    // 4. The worker, in this process; keys reach it only through its signer environment.
    const clientEnv = demoClientEnv(io.env);
    const warn = (m: string) => view.notice(m);
    const encryption = setupPayloadEncryption({ temporalAddress: server.address, env: clientEnv, warn });
    const connection = await NativeConnection.connect({ address: server.address });
    cleanups.push({ what: 'worker connection', run: () => connection.close() });
    const keeper = await createKeeperClient({
      env: clientEnv,
      connection: { address: server.address, namespace: 'default', disableConfigFile: true },
      networks,
      queryTimeoutMs: 5_000,
      identity: `session-keeper-demo@${process.pid}`,
      warn,
    });
    cleanups.push({ what: 'client connection', run: () => keeper.close() });
    checkpoint();
    const sessionWorker = await createSessionWorker({
      connection,
      namespace: 'default',
      taskQueue: DEFAULT_TASK_QUEUE,
      networks,
      client: keeper.temporal,
      dataConverter: encryption.dataConverter,
      signerEnvironment: {
        env: signerEnvironmentOf(keys),
        readFile: (p) => fs.readFileSync(p, 'utf8'),
      },
      maxConcurrentActivities: 10,
      logger: logger.child({ component: 'worker' }),
    });
    const running = sessionWorker.run();
    running.then(
      () => requestStop('the worker stopped', 1),
      (err: Error) => requestStop(`the worker failed: ${err.message.split('\n')[0]}`, 1),
    );
    cleanups.push({
      what: 'worker',
      run: async () => {
        sessionWorker.shutdown();
        const drained = await withTimeout(
          running.catch(() => undefined),
          WORKER_DRAIN_TIMEOUT_MS,
        );
        if (drained === 'timeout') logger.warn({}, 'worker did not drain in time; stopping anyway');
      },
    });
    checkpoint();

    // 5. The agents: started, or found running with the same spec (a restart resumes them).
    const heldAgent = agentHeldAgent(keys, agentHeldKey.publicKey, opts.ttlMs, opts.agents + 1);
    const agents = [...demoAgents(keys, opts.agents, opts.ttlMs), ...(heldAgent ? [heldAgent] : [])];
    const results = await keeper.startAgents(
      agents.map((a) => a.spec),
      { replace: true },
    );
    for (const r of results) {
      const mode = agents.find((a) => a.agentId === r.agentId)?.mode ?? '?';
      view.agent(
        r.result
          ? { agentId: r.agentId, mode, outcome: r.result.outcome }
          : { agentId: r.agentId, mode, outcome: 'error', message: r.error?.message.split('\n')[0] },
      );
    }
    for (const agentId of surplusAgentIds(keys, opts.agents)) {
      try {
        await keeper.stopAgent(agentId, { reason: 'demo started with fewer agents' });
        view.agent({ agentId, mode: agentId.includes('-pkp-') ? 'pkp' : 'eoa', outcome: 'stopped' });
      } catch (err) {
        if (!(err instanceof AgentNotFoundError || err instanceof AgentNotRunningError)) throw err;
      }
    }
    view.ready({ agents: agents.length, ttlMs: opts.ttlMs, taskQueue: DEFAULT_TASK_QUEUE });
    checkpoint();

    // 6. The live status, until asked to stop.
    // The PKP agents' sigs are used as an agent would: pkpSign with every new generation; the
    // agent-held agent's capability too: a decrypt with its own per-node sigs.
    const pkpUser = new PkpSignUser(networks.custom[DEMO_NETWORK]);
    cleanups.push({ what: 'pkpSign client', run: () => pkpUser.close() });
    const pkpKeys = new Map(
      keys.agents.filter((a) => a.pkpPublicKey).map((a) => [a.agentId, a.pkpPublicKey as string]),
    );
    // The agent-held agent decrypts with sigs it makes itself (its key, its own Lit client).
    const heldUser = new AgentHeldUser({
      network: networks.custom[DEMO_NETWORK],
      agentId: AGENT_HELD_ID,
      sessionKey: agentHeldKey,
      address: keys.agentHeld?.address ?? '',
      fetchStatus: (id) => keeper.querySessionStatus(id),
    });
    cleanups.push({ what: 'agent-held client', run: () => heldUser.close() });
    const watch: StatusWatch = watchStatuses({
      agents: agents.map((a) => ({ agentId: a.agentId, mode: a.mode })),
      fetchStatus: async (id) => {
        const status = await keeper.querySessionStatus(id);
        const pkpPublicKey = pkpKeys.get(id);
        if (pkpPublicKey && status.state === 'fresh') await pkpUser.useOnce(status, pkpPublicKey);
        if (id === AGENT_HELD_ID && status.state === 'fresh') await heldUser.useOnce(status);
        return status;
      },
      intervalMs: opts.pollIntervalMs,
      onStatuses: (list, now) =>
        view.statuses(
          list.map((s) => ({ ...s, lastUse: pkpUser.lastUse(s.agentId) ?? heldUser.lastUse(s.agentId) })),
          now,
        ),
    });
    cleanups.push({ what: 'status view', run: () => watch.stop() });
    await stopRequested;
  } catch (err) {
    // After a signal, a failing start step is its consequence (a signal may reach the dev server too).
    if (!(err instanceof StopRequested) && !firstSignalAt) startError = err;
  }

  cleaningUp = true;
  const reason = stopReason?.reason ?? 'start-up failed';
  if (stopReason || cleanups.length > 1) view.stopping(reason);
  for (const c of cleanups.reverse()) {
    try {
      await c.run();
    } catch (err) {
      io.stderr.write(`warning: stopping the ${c.what} failed: ${(err as Error).message.split('\n')[0]}\n`);
    }
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (startError) throw startError;
  const exitCode = stopReason?.exitCode ?? 0;
  if (exitCode !== 0) io.stderr.write(`error: ${reason}\n`);
  view.stopped({ exitCode });
  return exitCode;
}
