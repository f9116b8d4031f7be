/**
 * `session-keeper rotate`: mint new session sigs now, for one agent (signal, or update with
 * --wait) or for a fleet (server-side batch operation, rate-limited, with a progress bar on
 * stderr and a summary on stdout).
 */
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import type { FleetRotationProgress } from '../../client';
import {
  addConnectionOptions,
  type ConnectionOptionValues,
  durationArg,
  positiveNumberArg,
  withKeeperClient,
} from '../connection-flags';
import {
  expiresIn,
  type OutputFormat,
  oneLineErrors,
  outputOption,
  printJson,
  printLine,
  renderTable,
} from '../output';

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

interface RotateFlags extends ConnectionOptionValues {
  output: OutputFormat;
  wait?: boolean;
  timeout: number;
  all?: boolean;
  query?: string;
  rps?: number;
  spread?: number;
  reason?: string;
  jobId?: string;
  detach?: boolean;
  progress: ProgressMode;
}

/** Pure: which rotation the flags ask for, or the one-line reason they are wrong. */
export function rotationTarget(
  agentId: string | undefined,
  o: Pick<RotateFlags, 'all' | 'query' | 'wait' | 'rps' | 'detach' | 'jobId'>,
): { kind: 'agent'; agentId: string } | { kind: 'fleet'; query?: string } {
  const given = [agentId !== undefined, Boolean(o.all), o.query !== undefined].filter(Boolean).length;
  if (given !== 1) {
    throw new Error("give exactly one of: an agent id, --all, or --query '<visibility query>'");
  }
  if (agentId !== undefined) {
    if (o.rps !== undefined || o.detach || o.jobId !== undefined) {
      throw new Error('--rps, --detach and --job-id apply to --all / --query only');
    }
    return { kind: 'agent', agentId };
  }
  if (o.wait) throw new Error('--wait applies to one agent; a fleet rotation always reports its progress');
  if (o.query !== undefined && !o.query.trim())
    throw new Error('--query is empty; use --all to rotate every agent');
  return { kind: 'fleet', query: o.all ? undefined : o.query };
}

/** Pure: the percentage the bar shows; a batch that found nothing is done. */
export function progressPercent(
  p: Pick<FleetRotationProgress, 'state' | 'total' | 'completed' | 'failed'>,
): number {
  if (p.total > 0) return Math.min(100, Math.round(((p.completed + p.failed) / p.total) * 100));
  return p.state === 'completed' ? 100 : 0;
}

interface ProgressView {
  update(p: FleetRotationProgress): void;
  stop(): void;
}

function progressView(mode: ProgressMode, expected: number): ProgressView {
  const resolved = mode === 'auto' ? (process.stderr.isTTY ? 'bar' : 'lines') : mode;
  if (resolved === 'none') return { update() {}, stop() {} };
  if (resolved === 'lines') {
    let last = '';
    return {
      update(p) {
        const line = `rotating: ${p.completed + p.failed}/${p.total || expected} (${progressPercent(p)}%), failed ${p.failed}, ${p.state}`;
        if (line !== last) process.stderr.write(`${line}\n`);
        last = line;
      },
      stop() {},
    };
  }
  // A real bar, also when stderr is not a terminal (e.g. `--progress bar 2>log`): the stream
  // then receives the bar's frames with their control sequences.
  const stream = process.stderr.isTTY
    ? process.stderr
    : ({
        isTTY: true,
        columns: 100,
        write: (chunk: string) => process.stderr.write(chunk),
      } as unknown as NodeJS.WriteStream);
  const bar = new SingleBar({
    format:
      'rotating |{bar}| {percentage}% | {value}/{total} agents signalled | failed {failed} | {duration}s',
    stream,
    hideCursor: true,
    clearOnComplete: false,
    barsize: 30,
  });
  bar.start(Math.max(expected, 1), 0, { failed: 0 });
  return {
    update(p) {
      const total = p.total || expected;
      if (total > 0) bar.setTotal(total);
      const done = p.completed + p.failed;
      if (total === 0 && p.state === 'completed') {
        bar.setTotal(1);
        bar.update(1, { failed: p.failed });
      } else {
        bar.update(done, { failed: p.failed });
      }
    },
    stop() {
      bar.stop();
    },
  };
}

export function register(program: Command): void {
  const cmd = new Command('rotate')
    .description(
      'Mint new session sigs now: for one agent, or for every agent (--all) or a selection (--query) ' +
        'through a server-side, rate-limited batch',
    )
    .argument('[agentId]', 'the agent to rotate')
    .option('--wait', 'one agent: wait for the new sigs and show them (update rotateNow)')
    .option('--timeout <duration>', 'with --wait: give up after this long', durationArg, 120_000)
    .option('--all', 'rotate every running agent')
    .option(
      '-q, --query <query>',
      'rotate the agents matching this visibility query, e.g. \'LitNetwork = "datil"\'',
    )
    .option(
      '--rps <n>',
      'fleet: signals per second the server sends (default: server limit)',
      positiveNumberArg,
    )
    .option(
      '--spread <duration>',
      'each agent waits a random delay up to this long before minting',
      durationArg,
    )
    .option('--reason <text>', 'recorded in each workflow history')
    .option('--job-id <id>', 'fleet: batch job id (default rotate-<uuid>)')
    .option('--detach', 'fleet: print the job id and return; the batch runs on the server')
    .addOption(
      new Option(
        '--progress <mode>',
        'fleet: progress display on stderr (auto = bar on a terminal, lines otherwise)',
      )
        .choices(['auto', 'bar', 'lines', 'none'])
        .default('auto'),
    )
    .addHelpText(
      'after',
      `
Examples:
  session-keeper rotate agent-1 --wait
  session-keeper rotate --all --rps 50 --spread 5m
  session-keeper rotate --query 'LitNetwork = "datil" AND LitSessionState = "degraded"'`,
    );
  addConnectionOptions(cmd);
  cmd.addOption(outputOption());
  oneLineErrors(cmd, 'session-keeper rotate');
  cmd.action(async (agentId: string | undefined, o: RotateFlags) => {
    const target = rotationTarget(agentId, o);
    await withKeeperClient(o, async (keeper) => {
      if (target.kind === 'agent') {
        const result = await keeper.rotate(target.agentId, {
          wait: o.wait,
          timeout: o.timeout,
          reason: o.reason,
          spread: o.spread,
        });
        const s = result.status;
        if (o.output === 'json') {
          printJson(
            s
              ? {
                  agentId: s.agentId,
                  state: s.state,
                  generation: s.generation,
                  issuedAt: s.issuedAt,
                  expiresAt: s.expiresAt,
                }
              : { agentId: target.agentId, requested: true },
          );
        } else if (s) {
          printLine(
            `rotated agent ${s.agentId}: generation ${s.generation}, state ${s.state}, expires in ${expiresIn(s.expiresAt, Date.now())}`,
          );
        } else {
          printLine(`asked agent ${target.agentId} to rotate`);
        }
        return;
      }
      const { jobId, matched } = await keeper.rotateFleet({
        query: target.query,
        rps: o.rps,
        spread: o.spread,
        reason: o.reason ?? 'fleet rotation (CLI)',
        jobId: o.jobId,
      });
      if (o.detach) {
        if (o.output === 'json') printJson({ jobId, matched });
        else
          printLine(
            `started fleet rotation ${jobId} for ${matched} agents; follow it with \`temporal batch describe --job-id ${jobId}\``,
          );
        return;
      }
      const view = progressView(o.progress, matched);
      let result: Awaited<ReturnType<typeof keeper.waitForFleetRotation>>;
      try {
        result = await keeper.waitForFleetRotation(jobId, (p) => view.update(p));
      } finally {
        view.stop();
      }
      const summary = {
        jobId,
        state: result.state,
        total: result.total,
        completed: result.completed,
        failed: result.failed,
        seconds: Number(result.seconds.toFixed(2)),
      };
      if (o.output === 'json') printJson(summary);
      else {
        printLine(
          renderTable(
            ['job id', 'state', 'total', 'completed', 'failed', 'seconds'],
            [[jobId, summary.state, summary.total, summary.completed, summary.failed, summary.seconds]],
          ),
        );
      }
      if (result.state === 'failed' || result.failed > 0) {
        throw new Error(
          `fleet rotation ${jobId} ${result.state === 'failed' ? 'failed' : 'finished with failures'}: ` +
            `${result.failed} of ${result.total} agents not signalled (\`temporal batch describe --job-id ${jobId}\`)`,
        );
      }
    });
  });
  program.addCommand(cmd);
}
