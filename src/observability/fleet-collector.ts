/**
 * Reads the fleet's state from Temporal visibility (the search attributes the workflows keep
 * current) on an interval and hands it to the metrics. Scrapes never wait on Temporal.
 */
import type { Client } from '@temporalio/client';
import { WORKFLOW_TYPE } from '../shared/names';
import { LitAgentId, LitNetwork, LitSessionExpiresAt, LitSessionState } from '../shared/search-attributes';
import type { FleetSnapshot } from './metrics';

export const RUNNING_AGENTS_QUERY = `WorkflowType = "${WORKFLOW_TYPE}" AND ExecutionStatus = "Running"`;

export async function readFleet(client: Client, now = Date.now(), limit = 100_000): Promise<FleetSnapshot> {
  const counts = new Map<string, number>();
  const expiries: FleetSnapshot['expiries'] = [];
  let seen = 0;
  for await (const wf of client.workflow.list({ query: RUNNING_AGENTS_QUERY })) {
    if (++seen > limit) break;
    const attrs = wf.typedSearchAttributes;
    const network = attrs.get(LitNetwork) ?? 'unknown';
    const state = attrs.get(LitSessionState) ?? 'pending';
    const key = `${state}\u0000${network}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const expiresAt = attrs.get(LitSessionExpiresAt);
    if (expiresAt) {
      expiries.push({
        agentId: attrs.get(LitAgentId) ?? wf.workflowId,
        network,
        secondsUntilExpiry: (expiresAt.getTime() - now) / 1000,
      });
    }
  }
  return {
    byState: [...counts].map(([key, count]) => {
      const [state, network] = key.split('\u0000');
      return { state, network, count };
    }),
    expiries,
  };
}

export function startFleetCollector(
  client: Client,
  onSnapshot: (s: FleetSnapshot) => void,
  intervalMs = 15_000,
  onError: (err: Error) => void = () => undefined,
): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      onSnapshot(await readFleet(client));
    } catch (err) {
      onError(err as Error);
    }
    if (!stopped) {
      timer = setTimeout(tick, intervalMs);
      timer.unref();
    }
  };
  void tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
