/**
 * The devnet chain's blocks. A new block (number, hash, timestamp) is issued every `blockTimeMs`;
 * every block ever issued is remembered so a node can tell whether a SIWE nonce is a hash this
 * chain issued, and how old it is.
 *
 * The genesis block is back-dated (45 days by default) the way a long-running chain has old
 * blocks: its hash is a nonce the chain did issue but that nodes must refuse as too old.
 *
 * A block hash is self-authenticating: 20 bytes of keccak(secret ‖ number ‖ timestamp), then the
 * number and the timestamp (6 bytes each). A devnet restarted from its state file keeps the
 * secret, so it still recognises — with their age — the hashes it issued before the restart,
 * as a real chain keeps its history (SIWE nonces of EOA sessions minted earlier stay valid).
 */

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { keccak_256 } from '@noble/hashes/sha3';
import { bytesToHex } from '@noble/hashes/utils';

export interface Block {
  number: number;
  hash: string;
  parentHash: string;
  /** Unix seconds, as in an Ethereum block header. */
  timestamp: number;
}

export interface BlockClockOptions {
  blockTimeMs: number;
  /** How far in the past the genesis block lies. */
  genesisAgeMs?: number;
  /** The chain's hash secret (16+ bytes); a restored devnet passes the saved one. */
  secret?: Uint8Array;
  now?: () => number;
}

export const DEFAULT_GENESIS_AGE_MS = 45 * 24 * 3600_000;

export class BlockClock extends EventEmitter<{ block: [Block] }> {
  readonly blockTimeMs: number;
  private readonly now: () => number;
  /** Makes hashes unique per devnet, so one devnet never accepts another's nonces. */
  readonly secret: Uint8Array;
  private readonly blocks: Block[] = [];
  private readonly byHashIndex = new Map<string, Block>();
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: BlockClockOptions) {
    super();
    if (!Number.isFinite(opts.blockTimeMs) || opts.blockTimeMs < 10) {
      throw new Error(`block time must be at least 10 ms, got ${opts.blockTimeMs}`);
    }
    this.blockTimeMs = opts.blockTimeMs;
    this.now = opts.now ?? Date.now;
    if (opts.secret && opts.secret.length < 16) throw new Error('a chain secret is at least 16 bytes');
    this.secret = opts.secret ?? randomBytes(16);
    const genesisAge = opts.genesisAgeMs ?? DEFAULT_GENESIS_AGE_MS;
    this.append(Math.floor((this.now() - genesisAge) / 1000));
    this.append(Math.floor(this.now() / 1000));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.mine(), this.blockTimeMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Issues a block now (the epoch change uses this to carry its events without waiting). */
  mine(): Block {
    const block = this.append(Math.floor(this.now() / 1000));
    this.emit('block', block);
    return block;
  }

  latest(): Block {
    return this.blocks[this.blocks.length - 1];
  }

  genesis(): Block {
    return this.blocks[0];
  }

  byNumber(n: number): Block | undefined {
    return this.blocks[n];
  }

  /** The block with this hash: one of this run, or one this chain issued before a restart. */
  byHash(hash: string): Block | undefined {
    const key = hash.toLowerCase();
    const known = this.byHashIndex.get(key);
    if (known) return known;
    if (!/^0x[0-9a-f]{64}$/.test(key)) return undefined;
    const number = Number.parseInt(key.slice(42, 54), 16);
    const timestamp = Number.parseInt(key.slice(54), 16);
    if (this.hashOf(number, timestamp) !== key) return undefined;
    return { number, hash: key, parentHash: `0x${'00'.repeat(32)}`, timestamp };
  }

  /** Resolves with the next block issued. */
  nextBlock(): Promise<Block> {
    return new Promise((resolve) => this.once('block', resolve));
  }

  private append(timestamp: number): Block {
    const parent = this.blocks[this.blocks.length - 1];
    const number = this.blocks.length;
    const parentHash = parent?.hash ?? `0x${'00'.repeat(32)}`;
    // Timestamps never go backwards, even if the wall clock does.
    const ts = Math.max(timestamp, parent?.timestamp ?? 0);
    const block: Block = { number, hash: this.hashOf(number, ts), parentHash, timestamp: ts };
    const hash = block.hash;
    this.blocks.push(block);
    this.byHashIndex.set(hash, block);
    return block;
  }

  private hashOf(number: number, timestamp: number): string {
    const tail = Buffer.alloc(12);
    tail.writeUIntBE(number, 0, 6);
    tail.writeUIntBE(timestamp, 6, 6);
    const mac = keccak_256(Buffer.concat([this.secret, tail])).subarray(0, 20);
    return `0x${bytesToHex(mac)}${tail.toString('hex')}`;
  }
}
