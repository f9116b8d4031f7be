/**
 * `session-keeper setup`: registers the keeper's custom search attributes (LitAgentId,
 * LitNetwork, LitSessionState, LitSessionExpiresAt, LitSessionGeneration) on a namespace.
 * Run once per cluster/namespace; running it again is harmless. It sends no payloads (operator
 * service only), so it needs no codec keys, also against a non-local Temporal (compose's `setup`).
 */
import { Command } from 'commander';
import { addConnectionOptions, type ConnectionOptionValues, withKeeperClient } from '../connection-flags';
import { type OutputFormat, oneLineErrors, outputOption, printJson, printLine, renderTable } from '../output';

export function register(program: Command): void {
  const cmd = new Command('setup')
    .description(
      "Register the keeper's custom search attributes on the namespace (idempotent; needs operator rights)",
    )
    .addHelpText(
      'after',
      `
On Temporal Cloud, add them in the namespace settings or with tcld instead (the operator API is not open there):
  LitAgentId, LitNetwork, LitSessionState: Keyword; LitSessionExpiresAt: Datetime; LitSessionGeneration: Int`,
    );
  addConnectionOptions(cmd);
  cmd.addOption(outputOption());
  oneLineErrors(cmd, 'session-keeper setup');
  cmd.action(async (o: ConnectionOptionValues & { output: OutputFormat }) => {
    await withKeeperClient(
      o,
      async (keeper) => {
        const rows = await keeper.setupSearchAttributes();
        if (o.output === 'json') {
          printJson({ namespace: keeper.namespace, searchAttributes: rows });
          return;
        }
        printLine(
          renderTable(
            ['search attribute', 'type', 'result'],
            rows.map((r) => [r.name, r.type, r.result]),
          ),
        );
        const added = rows.filter((r) => r.result === 'registered').length;
        printLine(
          added
            ? `registered ${added} search attribute(s) on namespace ${keeper.namespace}`
            : `namespace ${keeper.namespace} already has every search attribute; nothing to do`,
        );
      },
      { sendsPayloads: false },
    );
  });
  program.addCommand(cmd);
}
