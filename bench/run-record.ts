/**
 * What one bench run was asked (RunOptions) and what it measured (RunRecord): the types the
 * runner, the report and the limits read, in a file of their own so none of them imports another
 * for a type.
 */

import type { B1Result } from './b1-refresh-cost';
import type { ActivityMode, B2Result, ServerKind } from './b2-fleet-rotation';
import type { B3Result, MemoryVariant } from './b3-steady-state';
import type { CodeInfo, LoadReport, MachineInfo } from './machine';

export interface RunOptions {
  only: Set<string>;
  out: string;
  blockTimeMs: number;
  b1Iterations: number;
  b1Warmup: number;
  b2Sizes: number[];
  b2Servers: ServerKind[];
  b2BatcherRps: number;
  b2LiftedModes: ActivityMode[];
  b2SdkSizes: number[];
  /** B2 on the local cluster only (its own section of the report). */
  cluster?: boolean;
  clusterWorkers?: number[];
  /** Undefined: the cluster's own dynamic config (batcherRPS 50). */
  clusterBatcherRps?: number;
  pkpShare: number;
  b3IdleAgents: number;
  b3CycleAgents: number;
  b3Refreshes: number;
  b3Parts: Set<string>;
  b3MemoryVariants: MemoryVariant[];
  b3HeapSnapshots: boolean;
  waitIdleSeconds: number;
  profile: boolean;
  render?: string;
}

export interface RunRecord {
  command: string;
  startedAt: Date;
  finishedAt: Date;
  machine: MachineInfo;
  code?: CodeInfo;
  options: RunOptions;
  loadBefore?: LoadReport;
  load: Record<string, LoadReport>;
  b1?: B1Result;
  b2?: B2Result;
  b3?: B3Result;
  runDir: string;
}
