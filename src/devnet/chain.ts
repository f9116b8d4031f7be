/**
 * The devnet chain's JSON-RPC endpoint: just the methods the Lit SDK (through ethers 5) uses to
 * find the validators and follow epoch changes — chain id, blocks, `eth_call` of the Staking
 * contract and `eth_getLogs` for its `StateChanged` events.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { keccak_256 } from '@noble/hashes/sha3';
import { bytesToHex } from '@noble/hashes/utils';
import type { Block, BlockClock } from './block-clock';
import { BodyError, closeServer, devnetHosts, listen, readJson, sendJson } from './http-util';
import { CallRevertedError, type EventLogData, type StakingContract } from './staking';

export interface LogEntry {
  address: string;
  topics: string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  transactionIndex: number;
  logIndex: number;
}

export interface LogFilter {
  fromBlock?: string;
  toBlock?: string;
  address?: string | string[];
  topics?: (string | string[] | null)[];
  blockHash?: string;
}

/** A JSON-RPC error; `code` follows the Ethereum JSON-RPC conventions. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: string,
  ) {
    super(message);
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;
const ZERO_HASH = `0x${'00'.repeat(32)}`;

export class Chain {
  readonly chainId: number;
  readonly clock: BlockClock;
  readonly staking: StakingContract;
  /** Calls per JSON-RPC method, for the admin stats. */
  readonly rpcCounts: Record<string, number> = {};
  private readonly logsByBlock = new Map<number, LogEntry[]>();
  private server: Server | undefined;
  private urlValue: string | undefined;

  constructor(opts: { chainId: number; clock: BlockClock; staking: StakingContract }) {
    this.chainId = opts.chainId;
    this.clock = opts.clock;
    this.staking = opts.staking;
  }

  get url(): string {
    if (!this.urlValue) throw new Error('chain RPC is not listening');
    return this.urlValue;
  }

  async start(port: number): Promise<string> {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    const actual = await listen(this.server, port, devnetHosts.bind);
    this.urlValue = `http://${devnetHosts.advertise}:${actual}`;
    return this.urlValue;
  }

  async close(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }

  /** Issues a block now that carries these contract events (in order). */
  emitEvents(address: string, events: EventLogData[]): Block {
    const block = this.clock.mine();
    const entries = events.map((e, i) => ({
      address,
      topics: e.topics,
      data: e.data,
      blockNumber: block.number,
      blockHash: block.hash,
      transactionHash: `0x${bytesToHex(keccak_256(`${block.hash}:${i}`))}`,
      transactionIndex: i,
      logIndex: i,
    }));
    this.logsByBlock.set(block.number, entries);
    return block;
  }

  /** Dispatches one JSON-RPC call. */
  handle(method: string, params: unknown[]): unknown {
    this.rpcCounts[method] = (this.rpcCounts[method] ?? 0) + 1;
    switch (method) {
      case 'eth_chainId':
        return hex(this.chainId);
      case 'net_version':
        return String(this.chainId);
      case 'eth_blockNumber':
        return hex(this.clock.latest().number);
      case 'eth_getBlockByNumber': {
        const block = this.clock.byNumber(this.blockNumberOf(params[0]));
        return block ? this.blockJson(block) : null;
      }
      case 'eth_getBlockByHash': {
        const block = typeof params[0] === 'string' ? this.clock.byHash(params[0]) : undefined;
        return block ? this.blockJson(block) : null;
      }
      case 'eth_call':
        return this.call(params[0]);
      case 'eth_getCode':
        return this.isStaking(params[0]) ? '0x6080604052' : '0x';
      case 'eth_getLogs':
        return this.getLogs((params[0] ?? {}) as LogFilter).map((l) => this.logJson(l));
      case 'eth_gasPrice':
        return '0x0';
      case 'eth_getBalance':
        return '0x0';
      default:
        throw new RpcError(-32601, `the method ${method} does not exist/is not available`);
    }
  }

  getLogs(filter: LogFilter): LogEntry[] {
    let from: number;
    let to: number;
    if (filter.blockHash) {
      const block = this.clock.byHash(filter.blockHash);
      if (!block) return [];
      from = to = block.number;
    } else {
      from = this.blockNumberOf(filter.fromBlock ?? 'latest');
      to = this.blockNumberOf(filter.toBlock ?? 'latest');
    }
    const addresses =
      filter.address === undefined
        ? undefined
        : (Array.isArray(filter.address) ? filter.address : [filter.address]).map((a) => a.toLowerCase());
    const out: LogEntry[] = [];
    for (const [n, entries] of this.logsByBlock) {
      if (n < from || n > to) continue;
      for (const entry of entries) {
        if (addresses && !addresses.includes(entry.address.toLowerCase())) continue;
        if (!topicsMatch(filter.topics, entry.topics)) continue;
        out.push(entry);
      }
    }
    return out.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  }

  private call(tx: unknown): string {
    const t = (tx ?? {}) as { to?: string; data?: string; input?: string };
    const data = t.data ?? t.input ?? '0x';
    if (!this.isStaking(t.to)) return '0x';
    try {
      return this.staking.call(data);
    } catch (e) {
      if (e instanceof CallRevertedError) throw new RpcError(3, `execution reverted: ${e.message}`, '0x');
      throw e;
    }
  }

  private isStaking(address: unknown): boolean {
    return typeof address === 'string' && address.toLowerCase() === this.staking.address.toLowerCase();
  }

  private blockNumberOf(tag: unknown): number {
    const latest = this.clock.latest().number;
    if (tag === undefined || tag === 'latest' || tag === 'pending' || tag === 'safe' || tag === 'finalized') {
      return latest;
    }
    if (tag === 'earliest') return 0;
    if (typeof tag === 'string' && /^0x[0-9a-fA-F]+$/.test(tag)) return Number.parseInt(tag, 16);
    if (typeof tag === 'number' && Number.isInteger(tag)) return tag;
    throw new RpcError(-32602, `invalid block tag ${JSON.stringify(tag)}`);
  }

  /** Blocks carry no transactions, so the full-transactions flag changes nothing. */
  private blockJson(block: Block): Record<string, unknown> {
    return {
      number: hex(block.number),
      hash: block.hash,
      parentHash: block.parentHash,
      timestamp: hex(block.timestamp),
      nonce: '0x0000000000000000',
      difficulty: '0x0',
      totalDifficulty: '0x0',
      gasLimit: hex(30_000_000),
      gasUsed: '0x0',
      baseFeePerGas: '0x0',
      miner: `0x${'00'.repeat(20)}`,
      extraData: '0x',
      logsBloom: `0x${'00'.repeat(256)}`,
      sha3Uncles: ZERO_HASH,
      stateRoot: ZERO_HASH,
      transactionsRoot: ZERO_HASH,
      receiptsRoot: ZERO_HASH,
      mixHash: ZERO_HASH,
      size: '0x0',
      transactions: [],
      uncles: [],
    };
  }

  private logJson(l: LogEntry): Record<string, unknown> {
    return {
      address: l.address,
      topics: l.topics,
      data: l.data,
      blockNumber: hex(l.blockNumber),
      blockHash: l.blockHash,
      transactionHash: l.transactionHash,
      transactionIndex: hex(l.transactionIndex),
      logIndex: hex(l.logIndex),
      removed: false,
    };
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      sendJson(res, 405, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'use POST' } });
      return;
    }
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (e) {
      const message = e instanceof BodyError ? e.message : 'bad request';
      sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message } });
      return;
    }
    const answer = (call: unknown) => this.answer(call);
    sendJson(res, 200, Array.isArray(body) ? body.map(answer) : answer(body));
  }

  private answer(call: unknown): Record<string, unknown> {
    const c = (call ?? {}) as { id?: unknown; method?: unknown; params?: unknown };
    const id = c.id ?? null;
    if (typeof c.method !== 'string') {
      return { jsonrpc: '2.0', id, error: { code: -32600, message: 'invalid request' } };
    }
    try {
      const params = Array.isArray(c.params) ? c.params : [];
      return { jsonrpc: '2.0', id, result: this.handle(c.method, params) };
    } catch (e) {
      if (e instanceof RpcError) {
        return {
          jsonrpc: '2.0',
          id,
          error: { code: e.code, message: e.message, ...(e.data !== undefined ? { data: e.data } : {}) },
        };
      }
      return { jsonrpc: '2.0', id, error: { code: -32603, message: (e as Error).message } };
    }
  }
}

/** Ethereum topic filter semantics: position-wise; null matches anything; an array is an OR. */
export function topicsMatch(filter: LogFilter['topics'], topics: string[]): boolean {
  if (!filter) return true;
  return filter.every((want, i) => {
    if (want === null || want === undefined) return true;
    const have = topics[i]?.toLowerCase();
    if (have === undefined) return false;
    return Array.isArray(want) ? want.some((w) => w.toLowerCase() === have) : want.toLowerCase() === have;
  });
}
