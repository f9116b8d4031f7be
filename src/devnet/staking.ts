/**
 * State of the devnet's Staking contract (epoch, threshold, validator set) and its ABI encoding:
 * answers `eth_call`s of its view functions and encodes its `StateChanged` event, all through the
 * real ABI so the SDK decodes exactly what it would from Lit's chain.
 */
import { ethers } from 'ethers';
import { STAKING_ABI } from '../lit/staking-abi';

/** `LibStakingStorage.States`. */
export const STAKING_STATES = {
  Active: 0,
  NextValidatorSetLocked: 1,
  ReadyForNextEpoch: 2,
  Unlocked: 3,
  Paused: 4,
  Restore: 5,
} as const;

export interface Validator {
  /** Where the node listens; the SDK rebuilds `http://<ip>:<port>` from the struct. */
  host: string;
  port: number;
  /** The node's on-chain identity (`nodeAddress` of the struct). */
  nodeAddress: string;
}

export interface EpochState {
  epochLength: number;
  number: number;
  /** Unix seconds; the SDK takes `endTime - epochLength` as the epoch's start. */
  endTime: number;
  retries: number;
  timeout: number;
}

export interface EventLogData {
  topics: string[];
  data: string;
}

export class CallRevertedError extends Error {}

export function ipv4ToUint32(host: string): number {
  const parts = host.split('.').map((p) => Number(p));
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${host}`);
  }
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export class StakingContract {
  readonly address: string;
  readonly iface = new ethers.utils.Interface(STAKING_ABI as any);
  private epochState: EpochState;
  private validators: Validator[] = [];
  private minNodeCount: number;
  private state: number = STAKING_STATES.Active;

  constructor(opts: {
    address: string;
    minNodeCount: number;
    epochLengthSec: number;
    nowSec: number;
    /** Epoch to start in (a restored devnet goes on where it stopped); default 1. */
    epochNumber?: number;
  }) {
    this.address = ethers.utils.getAddress(opts.address);
    this.minNodeCount = opts.minNodeCount;
    this.epochState = {
      epochLength: opts.epochLengthSec,
      number: opts.epochNumber ?? 1,
      endTime: opts.nowSec + opts.epochLengthSec,
      retries: 0,
      timeout: 60,
    };
  }

  get epoch(): EpochState {
    return { ...this.epochState };
  }

  get threshold(): number {
    return this.minNodeCount;
  }

  activeValidators(): Validator[] {
    return [...this.validators];
  }

  setValidators(validators: Validator[]): void {
    this.validators = [...validators];
  }

  /** Starts the next epoch now; returns its number. */
  advanceEpoch(nowSec: number): number {
    this.epochState = {
      ...this.epochState,
      number: this.epochState.number + 1,
      endTime: nowSec + this.epochState.epochLength,
    };
    return this.epochState.number;
  }

  setState(state: number): void {
    this.state = state;
  }

  stateChangedEvent(state: number): EventLogData {
    const fragment = this.iface.getEvent('StateChanged');
    return this.iface.encodeEventLog(fragment, [state]);
  }

  /** Answers an `eth_call` to this contract; throws `CallRevertedError` for unknown calls. */
  call(data: string): string {
    let parsed: ethers.utils.TransactionDescription;
    try {
      parsed = this.iface.parseTransaction({ data });
    } catch {
      throw new CallRevertedError(`Staking has no function with selector ${data.slice(0, 10)}`);
    }
    const name = parsed.name;
    const structs = () => this.validators.map((v) => this.validatorStruct(v));
    const addresses = () => this.validators.map((v) => v.nodeAddress);
    const epochTuple = () => {
      const e = this.epochState;
      return [e.epochLength, e.number, e.endTime, e.retries, e.timeout];
    };
    switch (name) {
      case 'getActiveUnkickedValidatorStructsAndCounts':
        return this.iface.encodeFunctionResult(name, [epochTuple(), this.minNodeCount, structs()]);
      case 'getActiveUnkickedValidatorStructs':
      case 'getValidatorsStructsInCurrentEpoch':
        return this.iface.encodeFunctionResult(name, [structs()]);
      case 'getActiveUnkickedValidators':
      case 'getValidatorsInCurrentEpoch':
        return this.iface.encodeFunctionResult(name, [addresses()]);
      case 'getKickedValidators':
        return this.iface.encodeFunctionResult(name, [[]]);
      case 'getValidatorsStructs': {
        const wanted = (parsed.args[0] as string[]).map((a) => a.toLowerCase());
        const found = this.validators.filter((v) => wanted.includes(v.nodeAddress.toLowerCase()));
        return this.iface.encodeFunctionResult(name, [found.map((v) => this.validatorStruct(v))]);
      }
      case 'epoch':
        return this.iface.encodeFunctionResult(name, [epochTuple()]);
      case 'currentValidatorCountForConsensus':
        return this.iface.encodeFunctionResult(name, [this.minNodeCount]);
      case 'state':
        return this.iface.encodeFunctionResult(name, [this.state]);
      default:
        throw new CallRevertedError(`the devnet's Staking contract does not implement ${name}()`);
    }
  }

  private validatorStruct(v: Validator): unknown[] {
    // ip, ipv6, port, nodeAddress, reward, senderPubKey, receiverPubKey
    return [ipv4ToUint32(v.host), 0, v.port, v.nodeAddress, 0, 0, 0];
  }
}
