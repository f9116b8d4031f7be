/**
 * Agent-held session keys on the command line (issue 20):
 * - `session-keeper agent keygen --out FILE`: a new session key pair, written owner-only (0600),
 *   never over an existing file; prints only the public key (`-o json`: {publicKey, file});
 * - `session-keeper agent sigs AGENT --session-key-file FILE`: the agent's `sessionSigs` made on
 *   this machine from the keeper's capability and the key file (the secret key never leaves this
 *   process), for the nodes of the agent's network this command connects to itself (the network's
 *   configuration as the worker reads it: LIT_NETWORKS_FILE / LIT_NETWORKS, or a built-in one).
 *
 * Registered from `agent.ts` by `registerSessionKeyCommands(agent)`, after its `sigs` command:
 * `--session-key-file` is added to that command, whose delivered-mode path stays as it is.
 */
import { Command } from 'commander';
import type { SessionKeeperClient } from '../../client';
import { AgentSessionSigner } from '../../client/agent-session-signer';
import { readSessionKeyFile, writeNewSessionKeyFile } from '../../client/session-key-file';
import type { SessionStatus } from '../../shared/types';
import { withKeeperClient } from '../connection-flags';
import { type OutputFormat, oneLineErrors, outputOption, printJson, printLine } from '../output';

function keygenCommand(): Command {
  const cmd = new Command('keygen')
    .description(
      'Make a new session key pair for an agent that holds its own key (agent-held mode); prints only the public key, for `agent start --session-public-key`',
    )
    .requiredOption(
      '--out <file>',
      'where to write the key pair (mode 0600; an existing file is never overwritten)',
    )
    .addOption(outputOption());
  return oneLineErrors(cmd, 'session-keeper agent keygen')
    .addHelpText(
      'after',
      `
Example:
  session-keeper agent keygen --out /run/secrets/agent-1.session-key
  session-keeper agent start agent-1 … --session-key-file /run/secrets/agent-1.session-key
  # in the agent: new AgentSessionSigner({ sessionKey: readSessionKeyFile(…), … })`,
    )
    .action((o: { out: string; output: OutputFormat }) => {
      const { publicKey } = writeNewSessionKeyFile(o.out);
      if (o.output === 'json') printJson({ publicKey, file: o.out });
      else printLine(publicKey);
    });
}

/** The options of `agent sigs` this path reads (its own flags plus the connection flags). */
type SigsOptions = Parameters<typeof withKeeperClient>[0] & {
  sessionKeyFile: string;
  minValidity: number;
  wait: number;
};

/** `agent sigs AGENT --session-key-file FILE`: the sigs made here, printed as the SDK takes them. */
export async function printAgentHeldSigs(agentId: string, o: SigsOptions): Promise<void> {
  // The key file first: a wrong path fails before anything connects.
  const sessionKey = readSessionKeyFile(o.sessionKeyFile);
  // The Lit SDK and the network configuration only for this path (--help and flag errors stay light).
  const { LitNodeClientNodeJs } =
    require('@lit-protocol/lit-node-client') as typeof import('@lit-protocol/lit-node-client');
  const { resolveNetworkTarget } =
    require('../../lit/network-targets') as typeof import('../../lit/network-targets');
  const { loadNetworkConfig } =
    require('../../shared/network-config') as typeof import('../../shared/network-config');
  const { disposeLitClient, trackStakingListeners } =
    require('../../lit/lit-client-lifecycle') as typeof import('../../lit/lit-client-lifecycle');
  // stdout carries the sigs and nothing else: whatever the SDK prints goes to stderr.
  console.log = console.error;
  await withKeeperClient(o, async (keeper: SessionKeeperClient) => {
    const first: SessionStatus = await keeper.querySessionStatus(agentId);
    const target = resolveNetworkTarget(first.network, loadNetworkConfig(process.env));
    const client = trackStakingListeners(new LitNodeClientNodeJs(target.clientConfig));
    target.prepare?.(client);
    try {
      await client.connect();
      let fetched: SessionStatus | undefined = first;
      const signer = new AgentSessionSigner({
        agentId,
        sessionKey,
        litNodeClient: client,
        fetchStatus: async (id) => {
          const status = fetched ?? (await keeper.querySessionStatus(id));
          fetched = undefined;
          return status;
        },
        minValidityMs: o.minValidity,
        waitTimeoutMs: o.wait,
      });
      process.stdout.write(`${JSON.stringify(await signer.getSessionSigs())}\n`);
    } finally {
      await disposeLitClient(client);
    }
  });
}

/**
 * Adds `agent keygen`, and `--session-key-file` to the `agent sigs` command already registered on
 * `agent` (its delivered-mode action runs unchanged without the flag).
 */
export function registerSessionKeyCommands(agent: Command): void {
  agent.addCommand(keygenCommand());
  const sigs = agent.commands.find((c) => c.name() === 'sigs');
  // commander keeps the action in `_actionHandler(args)`; it computes the options itself.
  const delivered = (sigs as unknown as { _actionHandler?: (args: unknown[]) => unknown } | undefined)
    ?._actionHandler;
  if (!sigs || typeof delivered !== 'function') {
    throw new Error('registerSessionKeyCommands: register the `agent sigs` command first');
  }
  sigs
    .option(
      '--session-key-file <file>',
      "agent-held mode: make the sigs here from the keeper's capability and this key file (from `agent keygen`); the key never leaves this machine",
    )
    .addHelpText(
      'after',
      `  session-keeper agent sigs agent-1 --session-key-file /run/secrets/agent-1.session-key > sigs.json`,
    )
    .action(async (agentId: string, o: SigsOptions) => {
      if (o.sessionKeyFile) await printAgentHeldSigs(agentId, o);
      else await delivered.call(sigs, [agentId]);
    });
}
