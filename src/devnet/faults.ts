/**
 * Fault specifications the devnet can inject: per node (down, hang, latency, 500, 429) and
 * chain-wide (a stale blockhash advertised to clients). Parsing is pure so the admin API and the
 * programmatic API validate the same way.
 *
 * Stale blockhash: the block indexer and every handshake advertise a hash the nodes will refuse,
 * while the chain itself keeps issuing fresh blocks. Two flavours:
 *  - `unknown`: a hash this chain never issued (an indexer ahead of / forked from the nodes'
 *    chain view); `sign_session_key` answers `NodeInvalidBlockhash`.
 *  - `expired`: the genesis hash, a real block older than 30 days; `sign_session_key` answers
 *    `NodeSIWEMessageError` (Lit's node reports a too-old nonce block that way).
 */
import { randomBytes } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3';
import { bytesToHex } from '@noble/hashes/utils';
import type { BlockClock } from './block-clock';

export const FAULT_MODES = ['none', 'down', 'hang', 'latency', 'error500', 'error429'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export const NODE_ENDPOINTS = [
  'handshake',
  'sign_session_key',
  'encryption_sign',
  'pkp_sign',
  'execute_js',
] as const;
export type NodeEndpoint = (typeof NODE_ENDPOINTS)[number];

export interface FaultSpec {
  mode: FaultMode;
  /** Delay before answering, for mode `latency`. */
  latencyMs?: number;
  /** Restrict the fault to these endpoints (all when absent). Not allowed with `down`. */
  endpoints?: NodeEndpoint[];
}

export const NO_FAULT: FaultSpec = { mode: 'none' };

export class FaultSpecError extends Error {}

/** Validates a fault given as a mode name or an object `{mode, latencyMs?, endpoints?}`. */
export function parseFaultSpec(input: unknown): FaultSpec {
  const raw = typeof input === 'string' ? { mode: input } : input;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new FaultSpecError('a fault is a mode name or an object {mode, latencyMs?, endpoints?}');
  }
  const { mode, latencyMs, endpoints, ...rest } = raw as Record<string, unknown>;
  const unknownKeys = Object.keys(rest).filter((k) => k !== 'node');
  if (unknownKeys.length) throw new FaultSpecError(`unknown fault field(s): ${unknownKeys.join(', ')}`);
  if (typeof mode !== 'string' || !(FAULT_MODES as readonly string[]).includes(mode)) {
    throw new FaultSpecError(`mode must be one of ${FAULT_MODES.join(', ')}; got ${JSON.stringify(mode)}`);
  }
  const spec: FaultSpec = { mode: mode as FaultMode };
  if (mode === 'latency') {
    if (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0) {
      throw new FaultSpecError('mode latency needs latencyMs, a number of milliseconds >= 0');
    }
    spec.latencyMs = latencyMs;
  } else if (latencyMs !== undefined) {
    throw new FaultSpecError('latencyMs only applies to mode latency');
  }
  if (endpoints !== undefined) {
    if (mode === 'down') {
      throw new FaultSpecError('mode down closes the whole node; it cannot be limited to endpoints');
    }
    if (
      !Array.isArray(endpoints) ||
      endpoints.length === 0 ||
      endpoints.some((e) => !(NODE_ENDPOINTS as readonly unknown[]).includes(e))
    ) {
      throw new FaultSpecError(`endpoints must be a non-empty list of ${NODE_ENDPOINTS.join(', ')}`);
    }
    spec.endpoints = [...new Set(endpoints as NodeEndpoint[])];
  }
  return spec;
}

export function faultApplies(spec: FaultSpec, endpoint: NodeEndpoint | 'other'): boolean {
  if (spec.mode === 'none') return false;
  if (!spec.endpoints) return true;
  return endpoint !== 'other' && spec.endpoints.includes(endpoint);
}

export type StaleBlockhashMode = false | 'unknown' | 'expired';

export interface ChainFaults {
  staleBlockhash: StaleBlockhashMode;
}

/** `{"staleBlockhash": true | false | "unknown" | "expired"}`; `true` means `unknown`. */
export function parseChainFaults(input: unknown): ChainFaults {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw new FaultSpecError('chain faults are an object {staleBlockhash}');
  }
  const { staleBlockhash, ...rest } = input as Record<string, unknown>;
  if (Object.keys(rest).length)
    throw new FaultSpecError(`unknown chain fault(s): ${Object.keys(rest).join(', ')}`);
  if (staleBlockhash === true || staleBlockhash === 'unknown') return { staleBlockhash: 'unknown' };
  if (staleBlockhash === 'expired') return { staleBlockhash: 'expired' };
  if (staleBlockhash === false || staleBlockhash === undefined) return { staleBlockhash: false };
  throw new FaultSpecError('staleBlockhash must be true, false, "unknown" or "expired"');
}

export interface AdvertisedBlock {
  blockhash: string;
  /** Unix seconds. */
  timestamp: number;
}

/** What the block indexer and handshakes tell clients is the latest blockhash. */
export class BlockhashAdvertiser {
  private mode: StaleBlockhashMode = false;
  private fake: AdvertisedBlock | undefined;

  constructor(private readonly clock: BlockClock) {}

  get staleBlockhash(): StaleBlockhashMode {
    return this.mode;
  }

  setStale(mode: StaleBlockhashMode): void {
    this.mode = mode;
    if (mode === 'unknown') {
      const latest = this.clock.latest();
      // Derived from fresh randomness, so it is certain the chain never issued it.
      this.fake = { blockhash: `0x${bytesToHex(keccak_256(randomBytes(32)))}`, timestamp: latest.timestamp };
    } else {
      this.fake = undefined;
    }
  }

  current(): AdvertisedBlock {
    if (this.mode === 'unknown' && this.fake) return this.fake;
    const block = this.mode === 'expired' ? this.clock.genesis() : this.clock.latest();
    return { blockhash: block.hash, timestamp: block.timestamp };
  }
}
