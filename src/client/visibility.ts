/**
 * What Temporal's visibility says about agents: the query that selects them and the status their
 * search attributes tell when the workflow itself cannot be asked (stopped, or too busy). One
 * place for the listing, the fleet rotation, `agent status` and the CLI's fleet table. Pure.
 */
import type { TypedSearchAttributes } from '@temporalio/common';
import { WORKFLOW_TYPE } from '../shared/names';
import {
  LitNetwork,
  LitSessionExpiresAt,
  LitSessionGeneration,
  LitSessionState,
} from '../shared/search-attributes';
import type { SessionState, SessionStatus } from '../shared/types';

/**
 * Pure: the visibility query for the keeper's agents (running ones unless `includeClosed`), with
 * the caller's selection parenthesised so an OR in it cannot escape the restriction.
 */
export function agentsQuery(opts: { query?: string; includeClosed?: boolean } = {}): string {
  let q = `WorkflowType = "${WORKFLOW_TYPE}"`;
  if (!opts.includeClosed) q += ' AND ExecutionStatus = "Running"';
  const user = opts.query?.trim();
  return user ? `${q} AND (${user})` : q;
}

/** What an agent's search attributes tell of its session (null where they say nothing). */
export interface PublishedSession {
  network: string | null;
  state: SessionState | null;
  generation: number | null;
  expiresAt: string | null;
}

/** Pure: the session an agent last published in its search attributes. */
export function publishedSession(sa: TypedSearchAttributes): PublishedSession {
  return {
    network: sa.get(LitNetwork) ?? null,
    state: (sa.get(LitSessionState) as SessionState | undefined) ?? null,
    generation: sa.get(LitSessionGeneration) ?? null,
    expiresAt: sa.get(LitSessionExpiresAt)?.toISOString() ?? null,
  };
}

/**
 * Pure: a `SessionStatus` from what visibility knows, for an agent the workflow cannot answer for:
 * no sigs (visibility never holds them), no refresh time, no node list.
 */
export function statusFromPublished(agentId: string, p: PublishedSession): SessionStatus {
  return {
    agentId,
    network: p.network ?? '',
    state: p.state ?? 'pending',
    generation: p.generation ?? 0,
    sessionSigs: null,
    issuedAt: null,
    expiresAt: p.expiresAt,
    refreshAt: null,
    nodeUrls: [],
  };
}
