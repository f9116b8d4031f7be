/**
 * Custom search attributes kept current by the workflow. Their values are stored in plaintext by
 * Temporal (payload codecs do not touch them), so they hold no secret.
 */
import { defineSearchAttributeKey } from '@temporalio/common';

export const LitAgentId = defineSearchAttributeKey('LitAgentId', 'KEYWORD');
export const LitNetwork = defineSearchAttributeKey('LitNetwork', 'KEYWORD');
export const LitSessionState = defineSearchAttributeKey('LitSessionState', 'KEYWORD');
export const LitSessionExpiresAt = defineSearchAttributeKey('LitSessionExpiresAt', 'DATETIME');
export const LitSessionGeneration = defineSearchAttributeKey('LitSessionGeneration', 'INT');

/** Name → Temporal CLI type, for `temporal server start-dev --search-attribute` and `setup`. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword' | 'Datetime' | 'Int'> = {
  LitAgentId: 'Keyword',
  LitNetwork: 'Keyword',
  LitSessionState: 'Keyword',
  LitSessionExpiresAt: 'Datetime',
  LitSessionGeneration: 'Int',
};
