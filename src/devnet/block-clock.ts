/**
 * The devnet chain's blocks. A new block (number, hash, timestamp) is issued every `blockTimeMs`;
 * every block ever issued is remembered so a node can tell whether a SIWE nonce is a hash this
 * chain issued, and how old it is.
 *
 * The genesis block is back-dated (45 days by default) the way a long-running chain has old
 * blocks: its hash is a nonce the chain did issue but that nodes must refuse as too old.
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
  now?: () => number;
}

export const DEFAULT_GENESIS_AGE_MS = 45 * 24 * 3600_000;

export class BlockClock extends EventEmitter<{ block: [Block] }> {
  readonly blockTimeMs: number;
  private readonly now: () => number;
  /** Makes hashes unique per devnet run, so one devnet never accepts another's nonces. */
  private readonly salt = randomBytes(16);
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

  byHash(hash: string): Block | undefined {
    return this.byHashIndex.get(hash.toLowerCase());
  }

  /** Resolves with the next block issued. */
  nextBlock(): Promise<Block> {
    return new Promise((resolve) => this.once('block', resolve));
  }

  private append(timestamp: number): Block {
    const parent = this.blocks[this.blocks.length - 1];
    const number = this.blocks.length;
    const parentHash = parent?.hash ?? `0x${'00'.repeat(32)}`;
    const preimage = Buffer.concat([
      this.salt,
      Buffer.from(parentHash.slice(2), 'hex'),
      Buffer.from(String(number)),
    ]);
    const hash = `0x${bytesToHex(keccak_256(preimage))}`;
    // Timestamps never go backwards, even if the wall clock does.
    const block: Block = { number, hash, parentHash, timestamp: Math.max(timestamp, parent?.timestamp ?? 0) };
    this.blocks.push(block);
    this.byHashIndex.set(hash, block);
    return block;
  }
}
