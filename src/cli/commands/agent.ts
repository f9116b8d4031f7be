/**
 * `session-keeper agent start|stop|sigs|status|list`: one agent's lifecycle, its sigs and the
 * fleet's state. Every sub-command takes the Temporal connection flags and `--output`.
 */
import fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { Command, InvalidArgumentError } from 'commander';
import type { AgentStatus, BulkStartItem, SessionKeeperClient, StartAgentResult } from '../../client';
import { readSessionPublicKey } from '../../client/session-key-file';
import { describeReferenceProblem, unresolvedReferences } from '../../client/signer-preflight';
import { validateAgentSpec, validateAgentSpecs } from '../../client/validate';
import { statusFromPublished } from '../../client/visibility';
import { AgentSpecError, MAX_LIT_ACTION_CODE_CHARS } from '../../shared/agent-spec';
import type { AgentSpec, ResourceAbility, SessionCapability, SessionStatus } from '../../shared/types';
import { isLocalAddress } from '../../temporal/connection-config';
import {
  addConnectionOptions,
  type ConnectionOptionValues,
  durationArg,
  positiveNumberArg,
  withKeeperClient,
} from '../connection-flags';
import {
  cell,
  expiresIn,
  type OutputFormat,
  oneLineErrors,
  outputOption,
  printJson,
  printLine,
  relativeTime,
  renderTable,
} from '../output';
import { registerSessionKeyCommands } from './agent-session-key';

export interface StartFlags {
  network?: string;
  mode?: string;
  signer?: string;
  pkpPublicKey?: string;
  ttl?: string;
  refreshAt?: string;
  jitter?: number;
  resources?: ResourceAbility[];
  label?: Record<string, string>;
  capacitySigner?: string;
  capacityTokenId?: string;
  capacityTtl?: string;
  /**
   * The Lit Action's source, read from `--lit-action-file` (commander stores an option under its
   * long name in camel case: this name must stay `litActionFile`).
   */
  litActionFile?: string;
  litActionIpfsId?: string;
  litActionParams?: unknown;
  /** Agent-held mode: the agent's session public key, as given. */
  sessionPublicKey?: string;
  /**
   * Agent-held mode: the public key read from `--session-key-file` (its parser reads the file and
   * keeps only the public half; commander stores it under this name).
   */
  sessionKeyFile?: string;
}

/** A fleet file beyond this is refused before it is read (64 MiB: ~100,000 specs). */
export const MAX_AGENTS_FILE_BYTES = 64 * 1024 * 1024;

/** commander parser for `--lit-action-file <path>`: the action's JavaScript source. */
export function readLitActionFile(file: string): string {
  try {
    // Checked before reading: a wrong path (a log, a device) must not be read whole.
    const size = fs.statSync(file).size;
    if (size > MAX_LIT_ACTION_CODE_CHARS * 4) {
      throw new InvalidArgumentError(
        `${file} is ${size} bytes, more than a Lit Action may be (${MAX_LIT_ACTION_CODE_CHARS} characters); pin it to IPFS and pass --lit-action-ipfs-id`,
      );
    }
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the path of the Lit Action's .js file`,
    );
  }
}

/**
 * commander parser for `--session-key-file <file>`: the PUBLIC half of the key pair `agent keygen`
 * wrote (the file is read under the key file policy; the secret half goes nowhere).
 */
export function readSessionKeyFilePublicKey(file: string): string {
  try {
    return readSessionPublicKey(file);
  } catch (err) {
    // The key file's own message names the file and the fix (agent keygen).
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Pure: the session public key of `--session-public-key` / `--session-key-file`, which exclude each other. */
export function sessionPublicKeyFromFlags(f: Pick<StartFlags, 'sessionPublicKey' | 'sessionKeyFile'>) {
  if (f.sessionPublicKey !== undefined && f.sessionKeyFile !== undefined) {
    throw new InvalidArgumentError(
      'give either --session-public-key or --session-key-file, not both (the file holds the same public key)',
    );
  }
  return f.sessionPublicKey ?? f.sessionKeyFile;
}

/** commander parser for `--lit-action-params <json>`; whether it is an object is parseAgentSpec's call. */
export function parseJsParams(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(
      `is not JSON (${(err as Error).message}); give a JSON object such as '{"minBalance":1}'`,
    );
  }
}

/** commander parser for `--resources resource=ability,resource=ability`. */
export function parseResources(value: string): ResourceAbility[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.lastIndexOf('=');
      if (eq <= 0 || eq === pair.length - 1) {
        throw new InvalidArgumentError(
          `"${pair}" is not resource=ability, e.g. lit-accesscontrolcondition://*=access-control-condition-decryption`,
        );
      }
      return { resource: pair.slice(0, eq), ability: pair.slice(eq + 1) };
    });
}

function parseLabel(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${value}" is not key=value`);
  return { ...(previous ?? {}), [value.slice(0, eq)]: value.slice(eq + 1) };
}

function parseJitter(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new InvalidArgumentError('must be a number between 0 and 0.5, e.g. 0.1 for ±10%');
  }
  return n;
}

/**
 * Pure: `--refresh-at` is a fraction of the lifetime ("0.66") or a time before expiry ("2h").
 * Range checks are left to `parseAgentSpec`, which reports them with every other bad field.
 */
export function parseRefreshAt(value: string): { fraction: number } | { renewBefore: string } {
  const v = value.trim();
  if (/^\d*\.\d+$/.test(v)) return { fraction: Number(v) };
  return { renewBefore: v };
}

/** Pure: the spec input the flags describe (only what was given; defaults come from parseAgentSpec). */
export function specInputFromFlags(agentId: string | undefined, f: StartFlags): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  if (agentId !== undefined) spec.agentId = agentId;
  if (f.network !== undefined) spec.network = f.network;
  if (f.mode !== undefined) spec.mode = f.mode;
  if (f.signer !== undefined) spec.signer = f.signer;
  if (f.pkpPublicKey !== undefined) spec.pkpPublicKey = f.pkpPublicKey;
  const sessionPublicKey = sessionPublicKeyFromFlags(f);
  if (sessionPublicKey !== undefined) spec.sessionPublicKey = sessionPublicKey;
  if (f.ttl !== undefined) spec.sessionTtl = f.ttl;
  if (f.refreshAt !== undefined || f.jitter !== undefined) {
    spec.refresh = {
      ...(f.refreshAt !== undefined ? parseRefreshAt(f.refreshAt) : {}),
      ...(f.jitter !== undefined ? { jitter: f.jitter } : {}),
    };
  }
  if (f.resources !== undefined) spec.resourceAbilityRequests = f.resources;
  if (f.label !== undefined) spec.labels = f.label;
  if (f.litActionFile !== undefined || f.litActionIpfsId !== undefined || f.litActionParams !== undefined) {
    spec.litAction = {
      ...(f.litActionFile !== undefined ? { code: f.litActionFile } : {}),
      ...(f.litActionIpfsId !== undefined ? { ipfsId: f.litActionIpfsId } : {}),
      ...(f.litActionParams !== undefined ? { jsParams: f.litActionParams } : {}),
    };
  }
  if (f.capacitySigner !== undefined || f.capacityTokenId !== undefined || f.capacityTtl !== undefined) {
    spec.capacityDelegation = {
      ...(f.capacitySigner !== undefined ? { signer: f.capacitySigner } : {}),
      ...(f.capacityTokenId !== undefined ? { capacityTokenId: f.capacityTokenId } : {}),
      ...(f.capacityTtl !== undefined ? { ttl: f.capacityTtl } : {}),
    };
  }
  return spec;
}

/**
 * Pure: the flags (or `<argument>`) that fill each spec field, read off the command's own
 * definitions: every option and argument of `start` is given alone to `specInputFromFlags`, and
 * whichever fields it fills are its fields. No table to keep in step with the flags: a new flag
 * names its own field. A flag whose value takes several forms is given each (text, and a
 * fraction for `--refresh-at`, which fills `refresh.fraction` or `refresh.renewBefore`).
 */
export function flagsByField(cmd: Command = startCommand()): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string, input: Record<string, unknown>) => {
    for (const field of leafFields(input)) out.set(field, [...(out.get(field) ?? []), name]);
  };
  const PROBES = ['\u0000probe', '0.5'];
  for (const arg of cmd.registeredArguments) {
    for (const probe of PROBES) add(`<${arg.name()}>`, specInputFromFlags(probe, {}));
  }
  for (const option of cmd.options) {
    if (!option.long) continue;
    for (const probe of PROBES) {
      try {
        add(option.long, specInputFromFlags(undefined, { [option.attributeName()]: probe } as StartFlags));
      } catch {
        // an option whose value this probe cannot take fills no field with it
      }
    }
  }
  for (const [field, names] of out) out.set(field, [...new Set(names)]);
  return out;
}

/** Pure: the dotted paths of the values in `input` (arrays and non-plain values are leaves). */
function leafFields(input: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(input).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
      ? leafFields(v as Record<string, unknown>, `${prefix}${k}.`)
      : [`${prefix}${k}`],
  );
}

let startFlagsByField: Map<string, string[]> | undefined;
function startFieldFlags(): Map<string, string[]> {
  startFlagsByField ??= flagsByField();
  return startFlagsByField;
}

/**
 * Pure: an `AgentSpecError` in terms of the command's flags, on one line. Each issue is named by
 * the flag of its field (or of the field it sits in: `--label` for `labels.team`); an issue about
 * a whole sub-object (`litAction`) by the flags of the fields its message names, else of all its
 * fields; field paths in the message (`litAction.ipfsId`) read as their flags.
 */
export function specErrorForFlags(err: AgentSpecError, byField = startFieldFlags()): string {
  const flagsOf = (field: string) => byField.get(field) ?? [];
  const FIELD_PATH = /\b[A-Za-z]+(?:\.[A-Za-z]+)+\b/g;
  const parts = err.issues.map((i) => {
    const mentioned = [...i.message.matchAll(FIELD_PATH)].map((m) => m[0]);
    const message = i.message.replace(FIELD_PATH, (path) =>
      flagsOf(path).length ? flagsOf(path).join('/') : path,
    );
    const own = [...byField.keys()].filter((f) => i.field === f || i.field.startsWith(`${f}.`));
    const inside = [...byField.keys()].filter((f) => f.startsWith(`${i.field}.`));
    const named = inside.filter((f) => mentioned.includes(f));
    const flags = [...new Set((own.length ? own : named.length ? named : inside).flatMap(flagsOf))];
    return `${flags.length ? flags.join('/') : i.field}: ${message}`;
  });
  return `invalid agent spec: ${parts.join('; ')}`;
}

/** Pure: the agents of a `--from-file` document: a JSON array of specs or `{"agents": [...]}`. */
export function parseAgentsFile(text: string, file: string): unknown[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); expected [{"agentId": …}, …]`);
  }
  const list = Array.isArray(json) ? json : (json as { agents?: unknown })?.agents;
  if (!Array.isArray(list) || list.length === 0) {
    throw new Error(`${file} holds no agents; expected a JSON array of specs or {"agents": [...]}`);
  }
  return list;
}

/**
 * Key references the worker will resolve, checked on this machine first. With Temporal on
 * loopback the worker shares this machine (demo, local cluster, dev server): a reference that does
 * not resolve here is an error and nothing starts. Otherwise the CLI cannot see the worker's
 * machine, and says only what it saw.
 */
function checkReferencesResolve(specs: AgentSpec[], address: string, workerElsewhere: boolean): void {
  const problems = unresolvedReferences(specs);
  if (!problems.length) return;
  const listed = `${problems.slice(0, 3).map(describeReferenceProblem).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}`;
  if (isLocalAddress(address) && !workerElsewhere) {
    throw new Error(
      `${listed}. The worker of the Temporal at ${address} runs on this machine and would fail its first mint, so nothing was started (pass --worker-elsewhere if the worker runs with another environment)`,
    );
  }
  for (const p of problems) {
    process.stderr.write(
      `warning: ${describeReferenceProblem(p)}; make sure the worker can resolve it (the agent fails its first mint otherwise)
`,
    );
  }
}

/** The built-in presets name networks Lit no longer runs (see README, "The state of Lit's networks"). */
export const SUNSET_NETWORKS: readonly string[] = ['datil-dev', 'datil-test', 'datil'];

function warnSunset(specs: readonly AgentSpec[]): void {
  const warning = sunsetNetworkWarning(specs);
  if (warning) process.stderr.write(`${warning}\n`);
}

/** Pure: the one warning for specs on a sunset preset, or undefined. */
export function sunsetNetworkWarning(specs: readonly AgentSpec[]): string | undefined {
  const used = [...new Set(specs.map((s) => s.network).filter((n) => SUNSET_NETWORKS.includes(n)))];
  if (!used.length) return undefined;
  return `warning: ${used.join(', ')}: Lit has sunset its Datil and Naga networks (announced in 2026, once its API-key network Chipotle, which has no session sigs, reached production in March 2026); the built-in preset${used.length > 1 ? 's point' : ' points'} at a network Lit no longer runs. Use a custom network that speaks Lit's v7 node protocol (a private deployment, or the devnet: session-keeper devnet) through LIT_NETWORKS_FILE`;
}

function outcomeText(r: StartAgentResult): string {
  switch (r.outcome) {
    case 'started':
      return `started agent ${r.agentId} (workflow ${r.workflowId}, run ${r.runId})`;
    case 'already-running':
      return `agent ${r.agentId} is already running with the same spec; nothing to do (run ${r.runId})`;
    case 'replaced':
      return `replaced agent ${r.agentId}: the old run was terminated, new run ${r.runId}`;
  }
}

function statusRow(
  s: Pick<
    SessionStatus,
    'agentId' | 'network' | 'state' | 'generation' | 'expiresAt' | 'refreshAt' | 'lastError'
  >,
  now: number,
) {
  return [
    s.agentId,
    s.network,
    s.state,
    s.generation,
    expiresIn(s.expiresAt, now),
    relativeTime(s.refreshAt, now),
    s.lastError ? cell(`${s.lastError.type}: ${s.lastError.message}`) : '-',
  ];
}

/**
 * Status without the sigs themselves (bearer credentials do not belong in a status listing), and
 * for an agent-held agent its mode, key(s) and capability expiry instead of the capability (which
 * `agent sigs` prints).
 */
function publicStatus(s: SessionStatus & Partial<Pick<AgentStatus, 'workflowStatus' | 'running'>>) {
  const { sessionSigs, capability: _capability, previousCapability: _previous, ...rest } = s;
  return { ...rest, ...sessionModeOf(s), nodes: sessionSigs ? Object.keys(sessionSigs).length : 0 };
}

async function fleetStatuses(keeper: SessionKeeperClient, query: string | undefined) {
  const agents = await keeper.listAgents({ query });
  const out: (SessionStatus & { workflowStatus?: string })[] = new Array(agents.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(16, agents.length) }, async () => {
      while (next < agents.length) {
        const i = next++;
        try {
          out[i] = { ...(await keeper.querySessionStatus(agents[i].agentId)), workflowStatus: 'RUNNING' };
        } catch {
          out[i] = { ...statusFromPublished(agents[i].agentId, agents[i]), workflowStatus: agents[i].status };
        }
      }
    }),
  );
  return out;
}

const STATUS_HEAD = ['agent', 'network', 'state', 'generation', 'expires in', 'refresh in', 'last error'];

type Common = ConnectionOptionValues & { output: OutputFormat };

function leaf(name: string, description: string): Command {
  const cmd = new Command(name).description(description);
  addConnectionOptions(cmd);
  cmd.addOption(outputOption());
  return oneLineErrors(cmd, `session-keeper agent ${name}`);
}

function startCommand(): Command {
  return leaf(
    'start',
    'Start keeping session sigs fresh for an agent (idempotent; --replace to change its spec)',
  )
    .argument('[agentId]', 'the agent id (omit with --from-file)')
    .option('--network <name>', 'Lit network: datil-dev, datil-test, datil, or one from LIT_NETWORKS_FILE')
    .option('--mode <mode>', 'eoa (wallet-signed) or pkp (PKP session sigs)')
    .option(
      '--signer <ref>',
      'where the worker finds the key: env:NAME or file:/absolute/path (never the key)',
    )
    .option('--pkp-public-key <hex>', 'the PKP public key, 0x04… (mode pkp)')
    .option(
      '--session-public-key <hex>',
      'agent-held mode (recommended): the agent keeps its session key pair and the keeper keeps only the capability for this public key fresh (64 hex digits, from `agent keygen`)',
    )
    .option(
      '--session-key-file <file>',
      'agent-held mode: the same, read from the key file `agent keygen` wrote (only its public half is sent)',
      readSessionKeyFilePublicKey,
    )
    .option('--ttl <duration>', 'session lifetime, 1m-30d (default 24h)')
    .option(
      '--refresh-at <when>',
      'refresh at a fraction of the lifetime (0.66) or this long before expiry (2h)',
    )
    .option('--jitter <fraction>', 'random ± jitter of the refresh time, 0-0.5 (default 0.1)', parseJitter)
    .option(
      '--resources <list>',
      'resource=ability pairs, comma-separated (default lit-accesscontrolcondition://*=access-control-condition-decryption)',
      parseResources,
    )
    .option('--label <key=value>', 'a label shown by `agent status` (repeatable)', parseLabel)
    .option('--capacity-signer <ref>', 'key reference of the capacity credit owner (paid networks)')
    .option('--capacity-token-id <id>', 'capacity credit NFT id')
    .option('--capacity-ttl <duration>', 'lifetime of each capacity delegation (default 7d)')
    .option(
      '--lit-action-file <file>',
      "mode pkp: a Lit Action (its .js source) authorises the PKP's sessions instead of --signer",
      readLitActionFile,
    )
    .option('--lit-action-ipfs-id <cid>', "mode pkp: the same, by the action's IPFS CID (Qm…)")
    .option(
      '--lit-action-params <json>',
      "the action's jsParams, a JSON object (NOT secret: stored in workflow history)",
      parseJsParams,
    )
    .option('--replace', 'replace the agent if it runs with a different spec (terminates the old run)')
    .option(
      '--worker-elsewhere',
      'the workers run on another machine or with another environment: a key reference that does not resolve here is a warning, not an error',
    )
    .option(
      '--from-file <file>',
      'start every agent of a JSON file ([spec, …]); the flags above are defaults for each',
    )
    .option('--concurrency <n>', 'with --from-file: starts in flight at once', positiveNumberArg, 16)
    .addHelpText(
      'after',
      `
Examples:
  session-keeper agent start agent-1 --network datil-dev --mode eoa --signer env:AGENT_1_KEY
  session-keeper agent start agent-2 --network datil --mode pkp --signer file:/run/secrets/a2 \\
      --pkp-public-key 0x04… --ttl 7d --refresh-at 12h --capacity-signer env:CAPACITY_OWNER_KEY
  session-keeper agent start agent-3 --network datil --mode pkp --pkp-public-key 0x04… \\
      --lit-action-ipfs-id Qm… --lit-action-params '{"agent":"agent-3"}'
  session-keeper agent start agent-4 --network datil --mode eoa --signer env:AGENT_4_KEY \\
      --session-key-file /run/secrets/agent-4.session-key
  session-keeper agent start --from-file agents.json --network devnet`,
    )
    .action(
      async (
        agentId: string | undefined,
        o: StartFlags &
          Common & { replace?: boolean; fromFile?: string; concurrency: number; workerElsewhere?: boolean },
      ) => {
        if (o.fromFile && agentId) throw new Error('give either an agent id or --from-file, not both');
        if (!o.fromFile && !agentId)
          throw new Error(
            'missing agent id: `session-keeper agent start <agentId> --network … --mode … --signer …`',
          );
        const defaults = specInputFromFlags(undefined, o);
        // Validate before connecting: a bad spec fails fast and starts nothing, even with Temporal down.
        let specs: AgentSpec[];
        if (o.fromFile) {
          let text: string;
          try {
            const size = fs.statSync(o.fromFile).size;
            if (size > MAX_AGENTS_FILE_BYTES) {
              throw new Error(
                `${o.fromFile} is ${size} bytes, more than ${MAX_AGENTS_FILE_BYTES}; split the fleet into several files`,
              );
            }
            text = fs.readFileSync(o.fromFile, 'utf8');
          } catch (err) {
            if (!(err as NodeJS.ErrnoException).code) throw err;
            throw new Error(`cannot read ${o.fromFile} (${(err as NodeJS.ErrnoException).code})`);
          }
          const inputs = parseAgentsFile(text, o.fromFile).map((entry) =>
            entry && typeof entry === 'object' ? { ...defaults, ...(entry as object) } : entry,
          );
          specs = validateAgentSpecs(inputs);
        } else {
          try {
            specs = [validateAgentSpec(specInputFromFlags(agentId, o))];
          } catch (err) {
            if (err instanceof AgentSpecError) throw new Error(specErrorForFlags(err));
            throw err;
          }
        }
        await withKeeperClient(o, async (keeper) => {
          checkReferencesResolve(specs, keeper.address, o.workerElsewhere === true);
          if (!o.fromFile) {
            const result = await keeper.startAgent(specs[0], { replace: o.replace });
            if (o.output === 'json')
              printJson({
                agentId: result.agentId,
                workflowId: result.workflowId,
                runId: result.runId,
                outcome: result.outcome,
              });
            else printLine(outcomeText(result));
            warnSunset(specs);
            return;
          }
          const items: BulkStartItem[] = await keeper.startAgents(specs, {
            replace: o.replace,
            concurrency: o.concurrency,
          });
          if (o.output === 'json') {
            printJson(
              items.map((i) =>
                i.result
                  ? { agentId: i.agentId, outcome: i.result.outcome, runId: i.result.runId }
                  : { agentId: i.agentId, outcome: 'error', error: i.error?.message },
              ),
            );
          } else {
            printLine(
              renderTable(
                ['agent', 'outcome', 'detail'],
                items.map((i) => [
                  i.agentId,
                  i.result?.outcome ?? 'error',
                  i.result ? i.result.runId : cell(i.error?.message, 100),
                ]),
              ),
            );
          }
          warnSunset(specs);
          const failed = items.filter((i) => i.error);
          if (failed.length) {
            throw new Error(
              `${failed.length} of ${items.length} agents not started: ${failed
                .slice(0, 3)
                .map((f) => f.error?.message)
                .join(' | ')}${failed.length > 3 ? ' | …' : ''}`,
            );
          }
        });
      },
    );
}

function stopCommand(): Command {
  return leaf(
    'stop',
    'Stop keeping sigs for an agent (its workflow completes; sigs already handed out stay valid until they expire)',
  )
    .argument('<agentId>')
    .option('--wait', 'wait until the workflow has completed')
    .option('--timeout <duration>', 'with --wait: give up after this long', durationArg, 60_000)
    .option('--reason <text>', 'recorded in the workflow history')
    .action(async (agentId: string, o: Common & { wait?: boolean; timeout: number; reason?: string }) => {
      await withKeeperClient(o, async (keeper) => {
        await keeper.stopAgent(agentId, { wait: o.wait, timeout: o.timeout, reason: o.reason });
        if (o.output === 'json') printJson({ agentId, stopped: o.wait ? true : 'requested' });
        else printLine(o.wait ? `agent ${agentId} stopped` : `asked agent ${agentId} to stop`);
      });
    });
}

function sigsCommand(): Command {
  const cmd = new Command('sigs')
    .description(
      "Print the agent's session sigs as JSON, exactly the Lit SDK's sessionSigs argument (nothing else on stdout)",
    )
    .argument('<agentId>')
    .option(
      '--min-validity <duration>',
      'fail unless the sigs stay valid at least this long',
      durationArg,
      120_000,
    )
    .option(
      '--wait <duration>',
      'wait up to this long for usable sigs (a new agent before its first mint)',
      durationArg,
      0,
    );
  addConnectionOptions(cmd);
  cmd.addOption(outputOption('json').choices(['json']));
  return oneLineErrors(cmd, 'session-keeper agent sigs')
    .addHelpText(
      'after',
      `
Example:
  session-keeper agent sigs agent-1 --min-validity 10m > sigs.json
  # then in the agent: litNodeClient.decrypt({ …, sessionSigs: JSON.parse(fs.readFileSync('sigs.json', 'utf8')) })`,
    )
    .action(async (agentId: string, o: Common & { minValidity: number; wait: number }) => {
      await withKeeperClient(o, async (keeper) => {
        // Agent-held agents get no sigs from the keeper: their capability, which only their own
        // session key can use (`--session-key-file` makes the sigs from it on this machine).
        const held = await agentHeldCapability(keeper, agentId, o.minValidity, o.wait);
        if (held !== undefined) {
          process.stdout.write(`${JSON.stringify(held)}\n`);
          return;
        }
        const source = keeper.sessionSigsSource(agentId, {
          minValidityMs: o.minValidity,
          waitTimeoutMs: o.wait,
        });
        const sigs = await source.get();
        process.stdout.write(`${JSON.stringify(sigs)}\n`);
      });
    });
}

/**
 * The capability of an agent-held agent, valid at least `minValidityMs` (waiting up to `waitMs`
 * for one, as for sigs: a new agent before its first mint), else an error saying why; undefined
 * for a delivered-mode agent.
 */
async function agentHeldCapability(
  keeper: SessionKeeperClient,
  agentId: string,
  minValidityMs: number,
  waitMs: number,
): Promise<SessionCapability | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const status = await keeper.querySessionStatus(agentId);
    if (status.capability === undefined) return undefined;
    const c = status.capability;
    if (c && Date.parse(c.expiresAt) - Date.now() >= minValidityMs) return c;
    if (Date.now() >= deadline) {
      throw new Error(
        `agent ${agentId} has no capability valid for at least ${minValidityMs / 1000} s (state ${status.state}${status.lastError ? `, last error ${status.lastError.type}` : ''}); see \`session-keeper agent status ${agentId}\``,
      );
    }
    await delay(Math.min(1_000, Math.max(1, deadline - Date.now())));
  }
}

/** Pure: how an agent gets its sigs, and for an agent-held one its key(s) and capability expiry. */
export function sessionModeOf(s: SessionStatus & { workflowStatus?: string }) {
  if (s.capability === undefined) {
    return { mode: s.workflowStatus && s.workflowStatus !== 'RUNNING' ? 'unknown' : 'delivered' } as const;
  }
  const key = (c: SessionCapability | null | undefined) =>
    c ? { sessionPublicKey: c.sessionPublicKey, expiresAt: c.expiresAt } : null;
  return {
    mode: 'agent-held',
    capability: key(s.capability),
    previousCapability: key(s.previousCapability),
  } as const;
}

function sessionModeLines(s: SessionStatus & { workflowStatus?: string }, now: number): string[] {
  const m = sessionModeOf(s);
  if (m.mode !== 'agent-held')
    return [`mode: ${m.mode}${m.mode === 'delivered' ? ' (the keeper makes the sigs)' : ''}`];
  const lines = [
    'mode: agent-held (the agent holds its session key; the keeper keeps only the capability)',
    m.capability
      ? `session public key: ${m.capability.sessionPublicKey}, capability expires in ${expiresIn(m.capability.expiresAt, now)} (${m.capability.expiresAt})`
      : 'session public key: no capability yet',
  ];
  if (m.previousCapability)
    lines.push(
      `previous session public key: ${m.previousCapability.sessionPublicKey}, its capability served until it expires in ${expiresIn(m.previousCapability.expiresAt, now)} (${m.previousCapability.expiresAt})`,
    );
  return lines;
}

function rotateKeyCommand(): Command {
  return leaf(
    'rotate-key',
    "Move an agent-held agent to a new session key pair: the keeper mints the new key's capability at once and keeps serving the old one until it expires",
  )
    .argument('<agentId>')
    .option('--session-public-key <hex>', 'the new session public key (64 hex digits, from `agent keygen`)')
    .option(
      '--session-key-file <file>',
      'the new key file `agent keygen` wrote (only its public half is sent)',
      readSessionKeyFilePublicKey,
    )
    .option('--reason <text>', 'recorded in the workflow history')
    .option(
      '--timeout <duration>',
      'give up waiting for the new capability after this long',
      durationArg,
      120_000,
    )
    .addHelpText(
      'after',
      `
Example:
  session-keeper agent keygen --out /run/secrets/agent-1.next.session-key
  session-keeper agent rotate-key agent-1 --session-key-file /run/secrets/agent-1.next.session-key --reason 'yearly'`,
    )
    .action(
      async (
        agentId: string,
        o: Common &
          Pick<StartFlags, 'sessionPublicKey' | 'sessionKeyFile'> & { reason?: string; timeout: number },
      ) => {
        const key = sessionPublicKeyFromFlags(o);
        if (key === undefined)
          throw new Error('give the new key: --session-public-key HEX or --session-key-file FILE');
        await withKeeperClient(o, async (keeper) => {
          const status = await keeper.rotateSessionKey(agentId, key, o.reason, { timeout: o.timeout });
          if (o.output === 'json') {
            printJson(publicStatus(status));
            return;
          }
          printLine(
            [
              `agent ${agentId} moved to a new session key (generation ${status.generation})`,
              ...sessionModeLines(status, Date.now()),
            ].join('\n'),
          );
        });
      },
    );
}

function statusCommand(): Command {
  return leaf(
    'status',
    'Show the sessions of one agent, or of every running agent (state, expiry, next refresh, last error)',
  )
    .argument('[agentId]')
    .option('-q, --query <query>', 'without an agent id: only agents matching this visibility query')
    .action(async (agentId: string | undefined, o: Common & { query?: string }) => {
      await withKeeperClient(o, async (keeper) => {
        const statuses: (SessionStatus & { workflowStatus?: string })[] = agentId
          ? [await keeper.getStatus(agentId)]
          : await fleetStatuses(keeper, o.query);
        if (o.output === 'json') {
          printJson(agentId ? publicStatus(statuses[0]) : statuses.map(publicStatus));
          return;
        }
        const now = Date.now();
        const rows = statuses.map((s) => statusRow(s, now));
        if (agentId && statuses[0].workflowStatus && statuses[0].workflowStatus !== 'RUNNING') {
          rows[0][2] = `${rows[0][2]} (workflow ${statuses[0].workflowStatus.toLowerCase()})`;
        }
        printLine(rows.length ? renderTable(STATUS_HEAD, rows) : 'no running agents');
        if (agentId) printLine(sessionModeLines(statuses[0], now).join('\n'));
      });
    });
}

function listCommand(): Command {
  return leaf('list', 'List agents from their search attributes (no query to the workflows)')
    .option(
      '-q, --query <query>',
      'visibility query, e.g. \'LitNetwork = "datil" AND LitSessionState = "degraded"\'',
    )
    .option('--all', 'include stopped and failed agents')
    .option('--limit <n>', 'at most this many', positiveNumberArg, 10_000)
    .action(async (o: Common & { query?: string; all?: boolean; limit: number }) => {
      await withKeeperClient(o, async (keeper) => {
        const agents = await keeper.listAgents({ query: o.query, includeClosed: o.all, limit: o.limit });
        if (o.output === 'json') {
          printJson(agents);
          return;
        }
        const now = Date.now();
        printLine(
          agents.length
            ? renderTable(
                ['agent', 'network', 'state', 'generation', 'expires in', 'workflow'],
                agents.map((a) => [
                  a.agentId,
                  a.network,
                  a.state,
                  a.generation,
                  expiresIn(a.expiresAt, now),
                  a.status.toLowerCase(),
                ]),
              )
            : 'no agents match',
        );
      });
    });
}

export function register(program: Command): void {
  const agent = new Command('agent').description('Start, stop and inspect agents and their session sigs');
  oneLineErrors(agent, 'session-keeper agent');
  agent.addCommand(startCommand());
  agent.addCommand(stopCommand());
  agent.addCommand(sigsCommand());
  agent.addCommand(statusCommand());
  agent.addCommand(rotateKeyCommand());
  agent.addCommand(listCommand());
  registerSessionKeyCommands(agent);
  program.addCommand(agent);
}
