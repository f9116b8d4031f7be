/**
 * `Lit.Actions.runOnce` across the nodes of one request: which run executes the function, and the
 * answer the others receive (lit-action-runner.ts, rule 7, has Lit's behaviour and its sources).
 *
 * All of a devnet's nodes run their actions in one `LitActionPool`, so the pool keeps this board:
 * per request id (the SDK's `X-Request-Id`, one per `executeJs` call, sent to every node) and per
 * runOnce name, the run that claimed it first is the leader; a run that asks later is a follower
 * and, if it waits for the response, gets the string the leader broadcast. A leader whose run ends
 * without broadcasting (it did not wait for a response, ran out of time or memory, or failed)
 * makes the waiting followers' `runOnce` reject. A request's entries are kept while any of its
 * runs is going and for `RUN_ONCE_RETENTION_MS` after the last one ended, so a node that starts
 * late (a slow node) still gets the leader's answer instead of running the function again.
 */

/** How long a request's runOnce results outlive its last run. */
export const RUN_ONCE_RETENTION_MS = 60_000;
/** Idle requests kept at most (the oldest are dropped first). */
const MAX_IDLE_REQUESTS = 1_000;

interface Entry {
  leaderRun: number;
  outcome?: { value: string } | { error: string };
  waiters: { resolve: (v: string) => void; reject: (e: Error) => void }[];
}

interface RequestGroup {
  active: Set<number>;
  idleSince: number;
  names: Map<string, Entry>;
}

export class RunOnceBoard {
  private readonly groups = new Map<string, RequestGroup>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Run `run` of request `requestId` starts; call `leave` when it ends, however it ends. */
  join(requestId: string, run: number): void {
    this.prune();
    let group = this.groups.get(requestId);
    if (!group) {
      group = { active: new Set(), idleSince: 0, names: new Map() };
      this.groups.set(requestId, group);
    }
    group.active.add(run);
  }

  /**
   * Whether `run` leads runOnce `name` of its request: true for the first run to ask, and again
   * for that run when it asks again (Lit's leader is fixed per request, so it runs the function
   * each time; the followers keep its first answer).
   */
  claim(requestId: string, run: number, name: string): boolean {
    const group = this.group(requestId);
    const entry = group.names.get(name);
    if (entry) return entry.leaderRun === run;
    group.names.set(name, { leaderRun: run, waiters: [] });
    return true;
  }

  /** The leader's response for `name`, broadcast to the followers. */
  broadcast(requestId: string, run: number, name: string, value: string): void {
    const entry = this.group(requestId).names.get(name);
    if (!entry || entry.leaderRun !== run || entry.outcome) return;
    this.settle(entry, { value });
  }

  /** A follower's wait for the leader's response to `name`. */
  collect(requestId: string, name: string): Promise<string> {
    const entry = this.group(requestId).names.get(name);
    if (!entry) return Promise.reject(new Error(`runOnce ${name}: no leader for this request`));
    if (entry.outcome) {
      return 'value' in entry.outcome
        ? Promise.resolve(entry.outcome.value)
        : Promise.reject(new Error(entry.outcome.error));
    }
    return new Promise((resolve, reject) => entry.waiters.push({ resolve, reject }));
  }

  /** Run `run` ended: what it led and did not broadcast fails for its followers. */
  leave(requestId: string, run: number): void {
    const group = this.groups.get(requestId);
    if (!group) return;
    for (const [name, entry] of group.names) {
      if (entry.leaderRun === run && !entry.outcome) {
        this.settle(entry, {
          error: `runOnce ${name}: the leader's run ended without broadcasting a response`,
        });
      }
    }
    group.active.delete(run);
    if (group.active.size === 0) group.idleSince = this.now();
  }

  /** Requests with runOnce state (for tests). */
  size(): number {
    return this.groups.size;
  }

  private group(requestId: string): RequestGroup {
    const group = this.groups.get(requestId);
    if (!group) throw new Error(`runOnce: request ${requestId} has no run on this board`);
    return group;
  }

  private settle(entry: Entry, outcome: NonNullable<Entry['outcome']>): void {
    entry.outcome = outcome;
    const waiters = entry.waiters.splice(0);
    for (const w of waiters) {
      if ('value' in outcome) w.resolve(outcome.value);
      else w.reject(new Error(outcome.error));
    }
  }

  private prune(): void {
    const now = this.now();
    let idle = 0;
    for (const [id, group] of this.groups) {
      if (group.active.size > 0) continue;
      if (now - group.idleSince > RUN_ONCE_RETENTION_MS) this.groups.delete(id);
      else idle++;
    }
    // Map order is insertion order: the oldest requests go first.
    for (const [id, group] of this.groups) {
      if (idle <= MAX_IDLE_REQUESTS) break;
      if (group.active.size > 0) continue;
      this.groups.delete(id);
      idle--;
    }
  }
}
