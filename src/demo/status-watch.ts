/**
 * Reads every demo agent's status (the workflow's `currentSessionSigs` query) at a fixed interval
 * and hands the list to the view; a failed query becomes an `unknown` row saying why.
 */
import type { SessionStatus } from '../shared/types';
import { type DemoMode, type DemoStatus, demoStatusOf, unavailableStatus } from './status-format';

export interface StatusWatchOptions {
  agents: { agentId: string; mode: DemoMode }[];
  fetchStatus: (agentId: string) => Promise<SessionStatus>;
  intervalMs: number;
  onStatuses: (list: DemoStatus[], nowMs: number) => void;
}

export interface StatusWatch {
  /** Stops polling; resolves once a poll in progress has finished. */
  stop(): Promise<void>;
}

export async function pollOnce(
  opts: Pick<StatusWatchOptions, 'agents' | 'fetchStatus'>,
): Promise<DemoStatus[]> {
  return Promise.all(
    opts.agents.map(async (a) => {
      try {
        return demoStatusOf(a.mode, await opts.fetchStatus(a.agentId));
      } catch (err) {
        return unavailableStatus(a.agentId, a.mode, (err as Error).message ?? String(err));
      }
    }),
  );
}

export function watchStatuses(opts: StatusWatchOptions): StatusWatch {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      const list = await pollOnce(opts);
      if (stopped) break;
      opts.onStatuses(list, Date.now());
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, Math.max(0, opts.intervalMs - (Date.now() - started)));
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}
