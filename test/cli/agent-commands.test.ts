/**
 * The operator commands as a user runs them (`node bin/session-keeper.js …`) against a real
 * Temporal dev server, the real worker and a local Lit devnet.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTE_TYPES } from '../../src/shared/search-attributes';
import { executableOption } from '../../src/temporal/binaries';
import {
  type CliResult,
  decryptRoundTrip,
  type Harness,
  runCli,
  startHarness,
  until,
} from '../client/harness';

function assertOneLineFailure(r: CliResult, cause: RegExp, what: string): void {
  assert.notEqual(r.code, 0, `${what}: exit code ${r.code}; stdout ${r.stdout}`);
  assert.equal(r.stdout, '', `${what}: nothing on stdout`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /^error: /, what);
  assert.match(lines[0], cause, what);
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}

describe('agent, rotate and setup commands', () => {
  let h: Harness;
  const cli = (...args: string[]) => runCli([...args, '--address', h.address], h.childEnv);

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  async function workflowCount(): Promise<number> {
    return (await h.keeper.temporal.workflow.count('WorkflowType = "sessionRefreshWorkflow"')).count;
  }

  test('agent sigs prints exactly the sessionSigs the Lit SDK takes: it decrypts on the devnet unmodified', async () => {
    const [a] = h.newAgents('sigs', 1);
    const start = await cli(
      'agent',
      'start',
      a.agentId,
      '--network',
      'devnet',
      '--mode',
      'eoa',
      '--signer',
      a.signer,
      '--ttl',
      '2h',
      '--refresh-at',
      '0.5',
      '--jitter',
      '0',
      '--resources',
      'lit-accesscontrolcondition://*=access-control-condition-decryption',
      '--label',
      'team=payments',
    );
    assert.equal(start.code, 0, start.stderr);
    assert.match(
      start.stdout,
      new RegExp(`^started agent ${a.agentId} \\(workflow lit-session/${a.agentId}, run [0-9a-f-]+\\)\\n$`),
    );

    const r = await cli('agent', 'sigs', a.agentId, '--wait', '60s', '--min-validity', '30m');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout.trimEnd().split('\n').length, 1, 'one JSON document, nothing else');
    const sessionSigs = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(sessionSigs).sort(), [...h.devnet.nodeUrls].sort());
    for (const sig of Object.values<any>(sessionSigs)) {
      assert.deepEqual(Object.keys(sig).sort(), ['address', 'algo', 'derivedVia', 'sig', 'signedMessage']);
    }
    assert.equal(
      await decryptRoundTrip(await h.lit(), a.wallet.address, sessionSigs, 'from the CLI'),
      'from the CLI',
    );

    // What the flags said is what the workflow runs with.
    const spec = (await h.keeper.runningSpec(a.agentId))!.spec;
    assert.equal(spec.sessionTtlMs, 2 * 3600_000);
    assert.deepEqual(spec.refresh, { fraction: 0.5, jitter: 0 });
    assert.deepEqual(spec.labels, { team: 'payments' });

    // More validity than a 2 h session has: refused, with the reason, nothing on stdout.
    assertOneLineFailure(
      await cli('agent', 'sigs', a.agentId, '--min-validity', '3h'),
      new RegExp(
        `no usable session sigs for agent "${a.agentId}": the current sigs expire in .*less than the required 3h`,
      ),
      'sigs --min-validity 3h',
    );
  });

  test('agent start is idempotent; a different spec fails unless --replace', async () => {
    const [a] = h.newAgents('idem', 1);
    const args = ['agent', 'start', a.agentId, '--network', 'devnet', '--mode', 'eoa', '--signer', a.signer];
    const first = await cli(...args, '-o', 'json');
    assert.equal(first.code, 0, first.stderr);
    const firstRun = JSON.parse(first.stdout).runId;
    const again = await cli(...args, '-o', 'json');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).outcome, 'already-running');
    assert.equal(JSON.parse(again.stdout).runId, firstRun);
    assert.match((await cli(...args)).stdout, /already running with the same spec; nothing to do/);

    assertOneLineFailure(
      await cli(...args, '--ttl', '3h'),
      new RegExp(
        `agent "${a.agentId}" is already running with a different spec \\(sessionTtlMs differ\\).*--replace`,
      ),
      'different spec',
    );
    const replaced = await cli(...args, '--ttl', '3h', '--replace', '-o', 'json');
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.equal(JSON.parse(replaced.stdout).outcome, 'replaced');
    const old = await h.keeper.temporal.workflow.getHandle(`lit-session/${a.agentId}`, firstRun).describe();
    assert.equal(old.status.name, 'TERMINATED');
  });

  test('agent status and list: the table, and JSON without the sigs', async () => {
    const agents = h.newAgents('stat', 2);
    for (const a of agents) {
      const r = await cli(
        'agent',
        'start',
        a.agentId,
        '--network',
        'devnet',
        '--mode',
        'eoa',
        '--signer',
        a.signer,
      );
      assert.equal(r.code, 0, r.stderr);
    }
    await until('both minted', async () => {
      const l = await h.keeper.listAgents({
        query: `LitAgentId IN ("${agents[0].agentId}", "${agents[1].agentId}")`,
      });
      return l.length === 2 && l.every((x) => x.generation === 1) ? true : undefined;
    });

    const table = await cli('agent', 'status', agents[0].agentId);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.split('\n');
    assert.match(
      lines[1],
      /│ agent\s+│ network\s+│ state\s+│ generation\s+│ expires in\s+│ refresh in\s+│ last error\s+│/,
    );
    assert.match(
      table.stdout,
      new RegExp(
        `│ ${agents[0].agentId}\\s+│ devnet\\s+│ fresh\\s+│ 1\\s+│ 2[34]h\\s+│ in 1\\dh\\s+│ -\\s+│`,
      ),
    );

    const json = await cli('agent', 'status', agents[0].agentId, '-o', 'json');
    assert.equal(json.code, 0, json.stderr);
    const status = JSON.parse(json.stdout);
    assert.equal(status.state, 'fresh');
    assert.equal(status.nodes, h.devnet.nodeUrls.length);
    assert.ok(
      !('sessionSigs' in status) && !json.stdout.includes('signedMessage'),
      'no bearer credentials in a status',
    );

    const all = await cli(
      'agent',
      'status',
      '--query',
      `LitAgentId IN ("${agents[0].agentId}", "${agents[1].agentId}")`,
      '-o',
      'json',
    );
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(
      JSON.parse(all.stdout).map((s: any) => [s.agentId, s.generation]),
      agents.map((a) => [a.agentId, 1]),
    );

    const list = await cli('agent', 'list', '--query', `LitAgentId = "${agents[1].agentId}"`, '-o', 'json');
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].agentId, agents[1].agentId);
    assert.equal(rows[0].network, 'devnet');
    assert.equal(rows[0].state, 'fresh');
    assert.equal(rows[0].generation, 1);
    assert.equal(rows[0].status, 'RUNNING');
  });

  test('rotate <agent> --wait mints now; agent stop --wait stops it', async () => {
    const [a] = h.newAgents('rotstop', 1);
    assert.equal(
      (await cli('agent', 'start', a.agentId, '--network', 'devnet', '--mode', 'eoa', '--signer', a.signer))
        .code,
      0,
    );
    await h.keeper.sessionSigsSource(a.agentId, { waitTimeoutMs: 30_000, pollIntervalMs: 200 }).get();
    const r = await cli('rotate', a.agentId, '--wait', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.generation, 2);
    assert.equal(out.state, 'fresh');

    const stop = await cli('agent', 'stop', a.agentId, '--wait');
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, `agent ${a.agentId} stopped\n`);
    assert.equal((await h.keeper.getStatus(a.agentId)).workflowStatus, 'COMPLETED');
    assertOneLineFailure(
      await cli('agent', 'sigs', a.agentId),
      new RegExp(`agent "${a.agentId}" is not running \\(workflow completed\\)`),
      'sigs of a stopped agent',
    );
  });

  test('bad inputs: a clear one-line error, a non-zero exit, and nothing started', async () => {
    const [ok] = h.newAgents('never-started', 1);
    const good = ['--network', 'devnet', '--mode', 'eoa', '--signer', ok.signer];
    const port = await closedPort();
    const workflowsBefore = await workflowCount();
    const batchesBefore = (
      await h.keeper.temporal.workflowService.listBatchOperations({ namespace: 'default' })
    ).operationInfo?.length;
    const cases: [string, string[], RegExp][] = [
      [
        'unknown network',
        ['agent', 'start', ok.agentId, ...good, '--network', 'nonet'],
        /invalid agent spec: --network: unknown network "nonet"; use one of datil-dev, datil-test, datil, devnet/,
      ],
      [
        'malformed key reference',
        ['agent', 'start', ok.agentId, ...good, '--signer', 'MY_KEY'],
        /--signer: must be a key reference: env:NAME .* or file:\/absolute\/path/,
      ],
      [
        'a private key instead of a reference',
        ['agent', 'start', ok.agentId, ...good, '--signer', ok.wallet.privateKey],
        /--signer: looks like a private key \(it holds 64 hex digits\); pass a reference instead/,
      ],
      [
        'TTL over 30 days',
        ['agent', 'start', ok.agentId, ...good, '--ttl', '31d'],
        /--ttl: 31d is out of range; .*at most 30d/,
      ],
      [
        'several bad fields at once',
        [
          'agent',
          'start',
          ok.agentId,
          '--network',
          'devnet',
          '--mode',
          'pkp',
          '--signer',
          'x',
          '--refresh-at',
          '1.5',
        ],
        /--signer: must be a key reference.*--refresh-at: must be between 0 and 1/,
      ],
      [
        'unknown agent: status',
        ['agent', 'status', 'ghost'],
        /unknown agent "ghost": no session refresh workflow lit-session\/ghost/,
      ],
      ['unknown agent: sigs', ['agent', 'sigs', 'ghost'], /unknown agent "ghost"/],
      ['unknown agent: rotate', ['rotate', 'ghost', '--wait'], /unknown agent "ghost"/],
      ['unknown agent: stop', ['agent', 'stop', 'ghost'], /unknown agent "ghost"/],
      [
        'unreachable server',
        ['agent', 'start', ok.agentId, ...good, '--address', `127.0.0.1:${port}`, '--connect-timeout', '1s'],
        // Given up at the --connect-timeout deadline (said by the message, not timed here: a timing
        // assertion fails on a loaded machine for reasons that are not the CLI's).
        new RegExp(
          `cannot reach Temporal at 127\\.0\\.0\\.1:${port} \\(Failed to connect before the deadline\\).*--address / TEMPORAL_ADDRESS`,
        ),
      ],
      [
        'malformed query: list',
        ['agent', 'list', '--query', 'LitNetwork = = "devnet"'],
        /invalid visibility query "LitNetwork = = \\"devnet\\"": invalid query: malformed SQL query: syntax error/,
      ],
      [
        'malformed query: rotate',
        ['rotate', '--query', 'LitNetwork = = "devnet"'],
        /invalid visibility query "LitNetwork = = \\"devnet\\""/,
      ],
      [
        'unknown attribute in a query',
        ['rotate', '--query', 'Colour = "red"'],
        /invalid visibility query .*invalid search attribute: Colour/,
      ],
      [
        'bad flag',
        ['agent', 'start', ok.agentId, ...good, '--colour', 'red'],
        /unknown option '--colour' \(see `session-keeper agent start --help`\)/,
      ],
      [
        'bad --output',
        ['agent', 'list', '-o', 'yaml'],
        /argument 'yaml' is invalid\. Allowed choices are table, json/,
      ],
      ['rotate without a target', ['rotate'], /give exactly one of: an agent id, --all, or --query/],
      [
        'malformed address',
        ['agent', 'list', '--address', 'not an address'],
        /Temporal address "not an address" .* must be host:port/,
      ],
    ];
    for (const [what, args, cause] of cases) {
      const r = await runCli(
        args.includes('--address') ? args : [...args, '--address', h.address],
        h.childEnv,
      );
      assertOneLineFailure(r, cause, what);
    }
    assert.equal(await workflowCount(), workflowsBefore, 'no workflow was started');
    await assert.rejects(h.keeper.getStatus(ok.agentId), /unknown agent/);
    const batchesAfter = (
      await h.keeper.temporal.workflowService.listBatchOperations({ namespace: 'default' })
    ).operationInfo?.length;
    assert.equal(batchesAfter, batchesBefore, 'no batch operation was started');
  });

  test('--help works on every command', async () => {
    for (const args of [
      ['agent', '--help'],
      ['agent', 'start', '--help'],
      ['agent', 'stop', '--help'],
      ['agent', 'sigs', '--help'],
      ['agent', 'status', '--help'],
      ['agent', 'list', '--help'],
      ['rotate', '--help'],
      ['setup', '--help'],
    ]) {
      const r = await runCli(args, h.childEnv);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: session-keeper ${args.slice(0, -1).join(' ')}`));
      if (args.length > 2 || args[0] !== 'agent') {
        assert.match(r.stdout, /--address <host:port>/, `${args.join(' ')} has the connection flags`);
        assert.match(r.stdout, /--output <format>/);
      }
    }
  });
});

describe('setup', () => {
  let env: TestWorkflowEnvironment;
  let childEnv: NodeJS.ProcessEnv;
  before(async () => {
    // A server without the keeper's search attributes, as a fresh cluster is.
    env = await TestWorkflowEnvironment.createLocal({ server: { executable: executableOption('temporal') } });
    childEnv = { ...process.env };
    for (const k of Object.keys(childEnv))
      if (/^(TEMPORAL_|LIT_NETWORKS|SESSION_KEEPER_)/.test(k)) delete childEnv[k];
    childEnv.SESSION_KEEPER_CODEC_KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
    // The agents' env:K resolves here, as the CLI checks against a Temporal on loopback.
    childEnv.K = `0x${'11'.repeat(32)}`;
  });
  after(async () => {
    await env?.teardown();
  });

  test('registers the search attributes once; starting before setup says to run it', async () => {
    const cli = (...args: string[]) => runCli([...args, '--address', env.address], childEnv);
    assertOneLineFailure(
      await cli('agent', 'start', 'early', '--network', 'datil', '--mode', 'eoa', '--signer', 'env:K'),
      /namespace "default" lacks the keeper's search attributes .*run `session-keeper setup` once/,
      'start before setup',
    );

    const first = await cli('setup', '-o', 'json');
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(
      JSON.parse(first.stdout).searchAttributes.map((r: any) => [r.name, r.type, r.result]),
      Object.entries(SEARCH_ATTRIBUTE_TYPES).map(([n, t]) => [n, t, 'registered']),
    );
    const listed = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const name of Object.keys(SEARCH_ATTRIBUTE_TYPES))
      assert.ok(name in (listed.customAttributes ?? {}), name);

    const second = await cli('setup');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /│ LitSessionGeneration\s+│ Int\s+│ present\s+│/);
    assert.match(second.stdout, /already has every search attribute; nothing to do/);

    const start = await cli(
      'agent',
      'start',
      'after-setup',
      '--network',
      'datil',
      '--mode',
      'eoa',
      '--signer',
      'env:K',
    );
    assert.equal(start.code, 0, start.stderr);
    // datil is a built-in preset of a network Lit no longer runs: said once, with what to use.
    const warnings = start.stderr.trimEnd().split('\n');
    assert.equal(warnings.length, 1, start.stderr);
    assert.match(
      warnings[0],
      /^warning: datil: Lit has sunset its Datil and Naga networks .*March 2026.*Use a custom network that speaks Lit's v7 node protocol .*LIT_NETWORKS_FILE$/,
    );
  });
});
