/**
 * The `Devnet` class: starts and owns the devnet's parts (chain, block indexer, admin API, nodes,
 * Lit Action pool) and drives them — PKPs, the Lit Action content store, faults, epochs, the
 * nodes' clock. Its options are resolved in devnet-options.ts; outsiders import it through
 * index.ts.
 *
 * Ports: with `basePort` P the chain RPC listens on P, the block indexer on P+1, the admin API on
 * P+2 and node i (0-based) on P+3+i; with P = 0 every server takes an ephemeral port.
 *
 * Persistence: with `stateFile` the devnet saves its identity there (network key, ports, nodes,
 * epoch, PKPs and their controllers, the Lit Action content store; see state-file.ts) when it
 * starts and after every change, and a later `startDevnet` with the same file comes back as the
 * same network.
 */

import { EventEmitter } from 'node:events';
import { secp256k1 } from '@noble/curves/secp256k1';
import { bytesToHex } from '@noble/hashes/utils';
import { ethers } from 'ethers';
import type { CustomNetworkConfig } from '../lit/custom-network';
import { AdminApi } from './admin-api';
import { type Block, BlockClock } from './block-clock';
import { BlockIndexer } from './block-indexer';
import { BlsNetworkKey, MAX_SHARE_INDEX } from './bls-threshold';
import { Chain } from './chain';
import { resolveDevnetOptions, type StartDevnetOptions } from './devnet-options';
import {
  BlockhashAdvertiser,
  type ChainFaults,
  type FaultMode,
  type FaultSpec,
  NO_FAULT,
  parseChainFaults,
  parseFaultSpec,
} from './faults';
import { configureDevnetHosts, devnetHosts } from './http-util';
import { ipfsCidOf, LitActionPool } from './lit-action-runner';
import { type DevnetLogger, SILENT_LOGGER } from './logger';
import {
  LitNodeServer,
  type NodeRequestEvent,
  type NodeResponseEvent,
  type SessionSignedEvent,
} from './node-server';
import { type PkpInfo, type PkpRecord, PkpRegistry } from './pkp-registry';
import { STAKING_STATES, StakingContract } from './staking';
import { type DevnetState, DevnetStateError, loadDevnetState, saveDevnetState } from './state-file';
import {
  type DevnetControl,
  type DevnetInfo,
  type DevnetStats,
  DevnetUsageError,
  type EpochChange,
} from './types';

/** Fixed so a worker's network config stays valid across devnet restarts. */
export const DEVNET_STAKING_ADDRESS = ethers.utils.getAddress(
  ethers.utils.hexDataSlice(ethers.utils.id('lit-session-keeper devnet Staking'), 12),
);

export interface DevnetEvents {
  /** A request reached a node (before any fault applied). */
  request: [NodeRequestEvent];
  /** A node answered a request. */
  response: [NodeResponseEvent];
  /** A node answered a `sign_session_key` with its share (after every check passed). */
  sessionSigned: [SessionSignedEvent];
}

export class Devnet extends EventEmitter<DevnetEvents> implements DevnetControl {
  readonly rpcUrl: string;
  /** Lit Action code by IPFS CID (the content store), filled through the admin API and kept in the state file. */
  private readonly litActions = new Map<string, string>();
  /** How far the nodes' clock runs ahead of (or, negative, behind) the host's: see `setClockOffset`. */
  private clockOffset = 0;
  readonly stakingAddress: string;
  readonly blockIndexerUrl: string;
  readonly networkPublicKey: string;
  readonly adminUrl: string;
  readonly threshold: number;
  /** The state file, when the devnet persists itself. */
  readonly stateFile: string | undefined;
  /** Whether this devnet was restored from `stateFile` (false: a new network). */
  readonly restored: boolean;

  private constructor(
    private readonly parts: {
      clock: BlockClock;
      chain: Chain;
      staking: StakingContract;
      indexer: BlockIndexer;
      advertiser: BlockhashAdvertiser;
      admin: AdminApi;
      key: BlsNetworkKey;
      pkps: PkpRegistry;
      nodes: LitNodeServer[];
      hdRootPubkeys: string[];
      basePort: number;
      chainId: number;
      stateFile: string | undefined;
      restored: boolean;
      log: DevnetLogger;
      actionPool: LitActionPool;
      litActionTimeoutMs: number | undefined;
      nodePort: (index: number) => number;
    },
    urls: { rpcUrl: string; blockIndexerUrl: string; adminUrl: string },
  ) {
    super();
    this.stateFile = parts.stateFile;
    this.restored = parts.restored;
    this.rpcUrl = urls.rpcUrl;
    this.blockIndexerUrl = urls.blockIndexerUrl;
    this.adminUrl = urls.adminUrl;
    this.stakingAddress = parts.staking.address;
    this.networkPublicKey = parts.key.publicKeyHex;
    this.threshold = parts.key.threshold;
  }

  /** @internal use `startDevnet`. */
  static async start(opts: StartDevnetOptions = {}): Promise<Devnet> {
    const saved = opts.stateFile ? loadDevnetState(opts.stateFile) : undefined;
    const o = resolveDevnetOptions(opts, saved);
    configureDevnetHosts(o.hosts.bind, o.hosts.advertise);
    const { threshold, basePort, chainId } = o;
    const log = opts.logger ?? SILENT_LOGGER;
    const clock = new BlockClock({
      blockTimeMs: o.blockTimeMs,
      genesisAgeMs: o.genesisAgeMs,
      ...(saved?.chainSecret ? { secret: Buffer.from(saved.chainSecret.replace(/^0x/, ''), 'hex') } : {}),
    });
    const staking = new StakingContract({
      address: DEVNET_STAKING_ADDRESS,
      minNodeCount: threshold,
      epochLengthSec: o.epochLengthSec,
      nowSec: Math.floor(Date.now() / 1000),
      epochNumber: saved?.epoch,
    });
    const chain = new Chain({ chainId, clock, staking });
    const advertiser = new BlockhashAdvertiser(clock);
    const indexer = new BlockIndexer(advertiser);
    const pkps = new PkpRegistry();
    let key: BlsNetworkKey;
    try {
      key = saved ? BlsNetworkKey.fromCoefficientsHex(saved.networkKey) : BlsNetworkKey.generate(threshold);
      for (const p of saved?.pkps ?? [])
        pkps.restore(p.publicKey, p.permittedAddresses, p.privateKey, p.permittedActions);
    } catch (e) {
      throw new DevnetStateError(
        `devnet state ${opts.stateFile} is not usable: ${(e as Error).message}; delete it to start a new network`,
      );
    }
    const hdRootPubkeys =
      saved?.hdRootPubkeys ??
      [0, 1].map(() => bytesToHex(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true)));
    const nodes: LitNodeServer[] = [];
    const actionPool = new LitActionPool(o.litActionPool);
    // The admin API needs the devnet and the devnet needs the admin URL; this indirection breaks the cycle.
    let self: Devnet | undefined;
    const admin = new AdminApi(
      {
        info: () => self!.info(),
        stats: () => self!.stats(),
        mintPkp: (a) => self!.mintPkp(a),
        addLitAction: (code) => self!.addLitAction(code),
        setPkpAction: (k, id, permitted) => self!.setPkpAction(k, id, permitted),
        setFault: (n, f) => self!.setFault(n, f),
        setChainFaults: (f) => self!.setChainFaults(f),
        advanceEpoch: (o) => self!.advanceEpoch(o),
        setClockOffset: (ms) => self!.setClockOffset(ms),
      },
      log,
    );
    const started: { close(): Promise<void> }[] = [];
    try {
      const rpcUrl = await chain.start(o.ports.rpc);
      started.push(chain);
      const blockIndexerUrl = await indexer.start(o.ports.blockIndexer);
      started.push(indexer);
      const adminUrl = await admin.start(o.ports.admin);
      started.push(admin);
      const parts = {
        clock,
        chain,
        staking,
        indexer,
        advertiser,
        admin,
        key,
        pkps,
        nodes,
        hdRootPubkeys,
        basePort,
        chainId,
        stateFile: opts.stateFile,
        restored: saved !== undefined,
        log,
        actionPool,
        litActionTimeoutMs: o.litActionTimeoutMs,
        nodePort: o.nodePort,
      };
      self = new Devnet(parts, { rpcUrl, blockIndexerUrl, adminUrl });
      for (const [ipfsId, code] of Object.entries(saved?.litActions ?? {})) self.litActions.set(ipfsId, code);
      for (let i = 0; i < o.nodes; i++) {
        const node = await self.startNode(saved?.nodes[i]);
        started.push(node);
        if (saved) node.active = saved.nodes[i].active;
      }
      staking.setValidators(self.activeNodes().map((n) => self!.validatorOf(n)));
      self.persist();
      clock.start();
      log.info(
        {
          rpcUrl,
          blockIndexerUrl,
          adminUrl,
          nodes: nodes.map((n) => n.url),
          threshold,
          ...(opts.stateFile ? { stateFile: opts.stateFile, restored: saved !== undefined } : {}),
        },
        'devnet started',
      );
      return self;
    } catch (e) {
      clock.stop();
      await Promise.allSettled([...started.map((s) => s.close()), actionPool.close()]);
      throw e;
    }
  }

  /** URLs of the nodes in the current validator set. */
  get nodeUrls(): string[] {
    return this.activeNodes().map((n) => n.url);
  }

  get epoch(): number {
    return this.parts.staking.epoch.number;
  }

  info(): DevnetInfo {
    return {
      rpcUrl: this.rpcUrl,
      stakingAddress: this.stakingAddress,
      blockIndexerUrl: this.blockIndexerUrl,
      nodeUrls: this.nodeUrls,
      networkPublicKey: this.networkPublicKey,
      adminUrl: this.adminUrl,
    };
  }

  /** The custom-network entry a worker needs (what `--write-config` writes). */
  networkConfig(): Required<CustomNetworkConfig> {
    return {
      rpcUrl: this.rpcUrl,
      stakingAddress: this.stakingAddress,
      blockIndexerUrl: this.blockIndexerUrl,
      minNodeCount: this.threshold,
    };
  }

  /** Stores Lit Action code under its IPFS CID (kept in the state file), for runs by `ipfsId`. */
  addLitAction(code: string): { ipfsId: string } {
    let ipfsId: string;
    try {
      ipfsId = ipfsCidOf(code);
    } catch (e) {
      throw new DevnetUsageError((e as Error).message);
    }
    if (this.litActions.get(ipfsId) !== code) {
      this.litActions.set(ipfsId, code);
      this.persist();
    }
    return { ipfsId };
  }

  /** The code the content store holds under `ipfsId`, if any. */
  litAction(ipfsId: string): string | undefined {
    return this.litActions.get(ipfsId);
  }

  /**
   * Moves the nodes' clock `offsetMs` away from the host's (0 resets it): every time check a node
   * makes — session issue/expiry, capability SIWE validity, nonce block age — reads
   * `Date.now() + offsetMs`. Tests use it to have sigs judged after their expiry without waiting
   * for it. Blocks keep the host's time; the SDK's own checks are unaffected.
   */
  setClockOffset(offsetMs: number): { offsetMs: number } {
    if (!Number.isSafeInteger(offsetMs)) {
      throw new DevnetUsageError(`offsetMs must be an integer number of milliseconds, got ${offsetMs}`);
    }
    this.clockOffset = offsetMs;
    this.parts.log.info({ offsetMs }, 'node clock offset set');
    return { offsetMs };
  }

  /** The nodes' clock offset from the host's, ms (see `setClockOffset`). */
  get clockOffsetMs(): number {
    return this.clockOffset;
  }

  /** Mints a PKP controlled by `permittedAddresses` and the Lit Actions `permittedActions` (IPFS CIDs). */
  mintPkp(permittedAddresses: string[], permittedActions: string[] = []): PkpInfo {
    let info: PkpInfo;
    try {
      info = this.parts.pkps.mint(permittedAddresses, permittedActions);
    } catch (e) {
      throw new DevnetUsageError((e as Error).message);
    }
    this.persist();
    return info;
  }

  /** The PKP with this public key and its permitted controllers, if this network minted it. */
  pkp(publicKey: string): PkpRecord | undefined {
    return this.parts.pkps.get(publicKey);
  }

  /** Lets `address` control the PKP too (or, with `permitted` false, no longer). */
  setPkpController(publicKey: string, address: string, permitted = true): void {
    try {
      if (permitted) this.parts.pkps.addPermittedAddress(publicKey, address);
      else this.parts.pkps.removePermittedAddress(publicKey, address);
    } catch (e) {
      throw new DevnetUsageError((e as Error).message);
    }
    this.persist();
  }

  /**
   * Lets the Lit Action with IPFS CID `ipfsId` authorise sessions of the PKP (Lit's
   * PKPPermissions `addPermittedAction`), or, with `permitted` false, no longer.
   */
  setPkpAction(publicKey: string, ipfsId: string, permitted = true): PkpRecord {
    try {
      if (permitted) this.parts.pkps.addPermittedAction(publicKey, ipfsId);
      else this.parts.pkps.removePermittedAction(publicKey, ipfsId);
    } catch (e) {
      throw new DevnetUsageError((e as Error).message);
    }
    this.persist();
    const record = this.parts.pkps.get(publicKey);
    if (!record) throw new DevnetUsageError(`no PKP with public key ${publicKey}`);
    return record;
  }

  /** Sets node `node`'s fault (`'none'` clears it). Node indices are stable 0-based ids. */
  async setFault(node: number, fault: FaultSpec | FaultMode): Promise<void> {
    const target = this.parts.nodes[node];
    if (!target)
      throw new DevnetUsageError(`no node with index ${node} (nodes 0..${this.parts.nodes.length - 1})`);
    await target.setFault(parseFaultSpec(fault));
  }

  async clearFaults(): Promise<void> {
    await Promise.all(this.parts.nodes.map((n) => n.setFault(NO_FAULT)));
    this.parts.advertiser.setStale(false);
  }

  setChainFaults(faults: ChainFaults | { staleBlockhash: boolean | 'unknown' | 'expired' }): void {
    const parsed = parseChainFaults(faults);
    this.parts.advertiser.setStale(parsed.staleBlockhash);
    this.parts.log.info({ chainFaults: parsed }, 'chain faults set');
  }

  /**
   * Starts the next epoch, optionally dropping a node from the validator set (it keeps serving,
   * as a node leaving the set would until it shuts down) and/or adding a fresh node holding a
   * new share of the same network key. Announced the way Lit's Staking contract does, with
   * `StateChanged` events (NextValidatorSetLocked, ReadyForNextEpoch, Active) in a new block.
   */
  async advanceEpoch(opts: { dropNode?: number; addNode?: boolean } = {}): Promise<EpochChange> {
    const { nodes, staking, chain } = this.parts;
    let dropped: LitNodeServer | undefined;
    if (opts.dropNode !== undefined) {
      dropped = nodes[opts.dropNode];
      if (!dropped?.active) throw new DevnetUsageError(`node ${opts.dropNode} is not in the validator set`);
    }
    const added = opts.addNode ? await this.startNode() : undefined;
    if (dropped) dropped.active = false;
    staking.setValidators(this.activeNodes().map((n) => this.validatorOf(n)));
    const epoch = staking.advanceEpoch(Math.floor(Date.now() / 1000));
    const events = [
      STAKING_STATES.NextValidatorSetLocked,
      STAKING_STATES.ReadyForNextEpoch,
      STAKING_STATES.Active,
    ].map((s) => staking.stateChangedEvent(s));
    const block = chain.emitEvents(staking.address, events);
    this.persist();
    const change: EpochChange = {
      epoch,
      nodeUrls: this.nodeUrls,
      ...(added ? { addedNodeUrl: added.url } : {}),
      ...(dropped ? { droppedNodeUrl: dropped.url } : {}),
      blockNumber: block.number,
    };
    this.parts.log.info(change, 'epoch advanced');
    return change;
  }

  stats(): DevnetStats {
    const nodes = this.parts.nodes.map((n) => n.stats());
    const sum = (pick: (s: (typeof nodes)[number]) => Record<string, number>) => {
      const out: Record<string, number> = {};
      for (const s of nodes) for (const [k, v] of Object.entries(pick(s))) out[k] = (out[k] ?? 0) + v;
      return out;
    };
    return {
      epoch: this.epoch,
      threshold: this.threshold,
      blockNumber: this.parts.clock.latest().number,
      nodeUrls: this.nodeUrls,
      chainFaults: { staleBlockhash: this.parts.advertiser.staleBlockhash },
      nodes,
      totals: { requests: sum((s) => s.requests), successes: sum((s) => s.successes) },
      blockIndexerRequests: this.parts.indexer.requests,
      rpc: { ...this.parts.chain.rpcCounts },
    };
  }

  latestBlock(): Block {
    return this.parts.clock.latest();
  }

  /** The block with this hash, if this chain issued it. */
  blockByHash(hash: string): Block | undefined {
    return this.parts.clock.byHash(hash);
  }

  /** Resolves when the chain issues its next block. */
  nextBlock(): Promise<Block> {
    return this.parts.clock.nextBlock();
  }

  /** A block hash this chain issued more than 30 days ago (nodes refuse it as a nonce). */
  expiredBlockhash(): string {
    return this.parts.clock.genesis().hash;
  }

  async close(): Promise<void> {
    const { clock, admin, nodes, indexer, chain, log, actionPool } = this.parts;
    clock.stop();
    await Promise.allSettled([
      admin.close(),
      indexer.close(),
      chain.close(),
      ...nodes.map((n) => n.close()),
      actionPool.close(),
    ]);
    log.info({}, 'devnet stopped');
  }

  /** Writes the state file (no-op without one); called at start and after every change. */
  private persist(): void {
    const file = this.parts.stateFile;
    if (!file) return;
    const portOf = (url: string) => Number(new URL(url).port);
    const { key, nodes, pkps, staking, hdRootPubkeys, basePort, chainId } = this.parts;
    const state: DevnetState = {
      version: 1,
      chainId,
      basePort,
      ports: {
        rpc: portOf(this.rpcUrl),
        blockIndexer: portOf(this.blockIndexerUrl),
        admin: portOf(this.adminUrl),
      },
      networkKey: key.toCoefficientsHex(),
      chainSecret: Buffer.from(this.parts.clock.secret).toString('hex'),
      hdRootPubkeys,
      epoch: staking.epoch.number,
      nodes: nodes.map((n) => ({ chainAddress: n.chainAddress, port: portOf(n.url), active: n.active })),
      pkps: pkps.list().map((p) => {
        const privateKey = pkps.privateKeyHex(p.publicKey);
        return {
          publicKey: p.publicKey,
          permittedAddresses: p.permittedAddresses,
          ...(p.permittedActions.length ? { permittedActions: p.permittedActions } : {}),
          ...(privateKey ? { privateKey } : {}),
        };
      }),
      ...(this.litActions.size ? { litActions: Object.fromEntries(this.litActions) } : {}),
    };
    try {
      saveDevnetState(file, state);
    } catch (e) {
      this.parts.log.error({ stateFile: file, err: (e as Error).message }, 'could not save devnet state');
      throw e;
    }
  }

  private activeNodes(): LitNodeServer[] {
    return this.parts.nodes.filter((n) => n.active);
  }

  private validatorOf(n: LitNodeServer) {
    const port = Number(new URL(n.url).port);
    return { host: devnetHosts.advertise, port, nodeAddress: n.chainAddress };
  }

  /** Starts the next node: a new one, or (restoring) the one saved with this address and port. */
  private async startNode(saved?: { chainAddress: string }): Promise<LitNodeServer> {
    const { nodes, key, clock, advertiser, pkps, hdRootPubkeys, staking, log } = this.parts;
    const index = nodes.length;
    if (index + 1 > MAX_SHARE_INDEX)
      throw new DevnetUsageError(`a devnet holds at most ${MAX_SHARE_INDEX} nodes`);
    const node = new LitNodeServer({
      index,
      chainAddress: saved?.chainAddress ?? ethers.Wallet.createRandom().address,
      share: key.share(index + 1),
      clock,
      advertiser,
      pkps,
      hdRootPubkeys,
      currentEpoch: () => staking.epoch.number,
      signingParticipants: () => this.activeNodes().map((n) => n.index),
      rpcUrl: () => this.rpcUrl,
      litActionCode: (ipfsId) => this.litActions.get(ipfsId),
      litActionPool: this.parts.actionPool,
      litActionTimeoutMs: this.parts.litActionTimeoutMs,
      networkShares: () =>
        this.activeNodes()
          .slice(0, key.threshold)
          .map((n) => n.share),
      now: () => Date.now() + this.clockOffset,
      logger: log,
    });
    node.on('request', (e) => this.emit('request', e));
    node.on('response', (e) => this.emit('response', e));
    node.on('sessionSigned', (e) => this.emit('sessionSigned', e));
    await node.start(this.parts.nodePort(index));
    nodes.push(node);
    return node;
  }
}

/** Starts a devnet; `close()` it when done (tests: in `after`). */
export function startDevnet(opts: StartDevnetOptions = {}): Promise<Devnet> {
  return Devnet.start(opts);
}
