/**
 * Query, signal and update definitions of the session refresh workflow. Shared by the workflow
 * (which handles them) and the client library (which sends them), so the names live in one place.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RotateRequest, RotateSessionKeyRequest, SessionStatus } from './types';

export const currentSessionSigsQuery = defineQuery<SessionStatus>('currentSessionSigs');
export const rotateSignal = defineSignal<[RotateRequest?]>('rotate');
export const rotateNowUpdate = defineUpdate<SessionStatus, [RotateRequest?]>('rotateNow');
export const stopSignal = defineSignal<[{ reason?: string }?]>('stop');
/** Agent-held mode: move the agent to a new session public key; answers once its capability is minted. */
export const rotateSessionKeyUpdate = defineUpdate<SessionStatus, [RotateSessionKeyRequest]>(
  'rotateSessionKey',
);
