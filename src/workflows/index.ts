/**
 * Workflow entry point: the worker bundles this file, and every function exported here becomes a
 * workflow type. So it exports the workflow and types only; helpers stay in their own modules.
 */
export type { CarriedState, SessionRefreshInput, SessionRefreshOptions } from '../shared/types';
export { sessionRefreshWorkflow } from './session-refresh';
