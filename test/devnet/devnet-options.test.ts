/**
 * resolveDevnetOptions, the pure step between `startDevnet`'s options (and a saved network) and
 * the settings a devnet starts with: defaults, ports, and every refusal with its message.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DevnetState, resolveDevnetOptions, type StartDevnetOptions } from '../../src/devnet';

const saved: DevnetState = {
  version: 1,
  chainId: 777,
  basePort: 9000,
  ports: { rpc: 9000, blockIndexer: 9001, admin: 9002 },
  networkKey: ['aa', 'bb'],
  chainSecret: '00',
  hdRootPubkeys: [],
  epoch: 4,
  nodes: [
    { chainAddress: '0x1', port: 9003, active: true },
    { chainAddress: '0x2', port: 9004, active: true },
    { chainAddress: '0x3', port: 9005, active: false },
  ],
  pkps: [],
};

describe('resolveDevnetOptions', () => {
  const resolved: [string, StartDevnetOptions, DevnetState | undefined, Record<string, unknown>][] = [
    [
      'defaults',
      {},
      undefined,
      { nodes: 3, threshold: 2, basePort: 0, chainId: 31337, blockTimeMs: 2000, epochLengthSec: 3600 },
    ],
    ['threshold ⌈2N/3⌉', { nodes: 4 }, undefined, { nodes: 4, threshold: 3 }],
    ['one node', { nodes: 1 }, undefined, { nodes: 1, threshold: 1 }],
    ['given threshold', { nodes: 5, threshold: 5 }, undefined, { threshold: 5 }],
    ['a saved network keeps its shape', {}, saved, { nodes: 3, threshold: 2, basePort: 9000, chainId: 777 }],
    ['matching options on a saved network', { nodes: 3, chainId: 777 }, saved, { nodes: 3, chainId: 777 }],
  ];
  for (const [name, opts, state, want] of resolved) {
    test(name, () => {
      const got = resolveDevnetOptions(opts, state) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, k);
    });
  }

  test('ports: ephemeral, consecutive from a base port, or the saved ones', () => {
    const eph = resolveDevnetOptions({});
    assert.deepEqual(eph.ports, { rpc: 0, blockIndexer: 0, admin: 0 });
    assert.equal(eph.nodePort(5), 0);
    const based = resolveDevnetOptions({ basePort: 7470 });
    assert.deepEqual(based.ports, { rpc: 7470, blockIndexer: 7471, admin: 7472 });
    assert.deepEqual([0, 1, 2, 3].map(based.nodePort), [7473, 7474, 7475, 7476]);
    const restored = resolveDevnetOptions({}, saved);
    assert.deepEqual(restored.ports, saved.ports);
    assert.deepEqual([0, 1, 2, 3].map(restored.nodePort), [9003, 9004, 9005, 9006]);
  });

  test('hosts: bind and advertise', () => {
    assert.deepEqual(resolveDevnetOptions({}).hosts, { bind: '127.0.0.1', advertise: '127.0.0.1' });
    assert.deepEqual(resolveDevnetOptions({ bindHost: '0.0.0.0' }).hosts, {
      bind: '0.0.0.0',
      advertise: '127.0.0.1',
    });
    assert.deepEqual(resolveDevnetOptions({ bindHost: '10.0.0.5' }).hosts, {
      bind: '10.0.0.5',
      advertise: '10.0.0.5',
    });
    assert.deepEqual(resolveDevnetOptions({ bindHost: '0.0.0.0', advertiseHost: '10.0.0.5' }).hosts, {
      bind: '0.0.0.0',
      advertise: '10.0.0.5',
    });
  });

  test('Lit Action limits: the pool defaults and the given ones', () => {
    assert.deepEqual(resolveDevnetOptions({}).litActionPool, {
      maxWorkers: 4,
      maxOldGenerationSizeMb: 64,
      maxYoungGenerationSizeMb: 16,
    });
    const o = resolveDevnetOptions({ litActionMemoryMb: 128, litActionWorkers: 2, litActionTimeoutMs: 500 });
    assert.equal(o.litActionPool.maxOldGenerationSizeMb, 128);
    assert.equal(o.litActionPool.maxWorkers, 2);
    assert.equal(o.litActionTimeoutMs, 500);
  });

  const refused: [string, StartDevnetOptions, DevnetState | undefined, RegExp][] = [
    ['no nodes', { nodes: 0 }, undefined, /^nodes must be an integer between 1 and \d+, got 0$/],
    ['half a node', { nodes: 1.5 }, undefined, /^nodes must be an integer/],
    ['threshold above the nodes', { nodes: 3, threshold: 4 }, undefined, /node count 3, got 4$/],
    ['threshold 0', { threshold: 0 }, undefined, /got 0$/],
    [
      'negative base port',
      { basePort: -1 },
      undefined,
      /^port must be 0 or a base port leaving room for 6 ports, got -1$/,
    ],
    ['base port too high', { basePort: 65532 }, undefined, /got 65532$/],
    [
      'no Lit Action workers',
      { litActionWorkers: 0 },
      undefined,
      /^maxWorkers must be a positive integer, got 0$/,
    ],
    [
      'no Lit Action memory',
      { litActionMemoryMb: 0 },
      undefined,
      /^maxOldGenerationSizeMb must be at least 1 MB/,
    ],
    [
      'Lit Action timeout 0',
      { litActionTimeoutMs: 0 },
      undefined,
      /^litActionTimeoutMs must be a positive integer, got 0$/,
    ],
    [
      'a saved network with other nodes and chain id',
      { nodes: 4, chainId: 1, stateFile: '/x/state.json' },
      saved,
      /^devnet state \/x\/state.json was saved with nodes 3 \(not 4\), chain id 777 \(not 1\); start with the same settings, or delete \/x\/state.json for a new network$/,
    ],
    [
      'the saved check comes first',
      { nodes: 0, threshold: 9 },
      saved,
      /was saved with nodes 3 \(not 0\), threshold 2 \(not 9\)/,
    ],
  ];
  for (const [name, opts, state, message] of refused) {
    test(`refused: ${name}`, () => {
      assert.throws(
        () => resolveDevnetOptions(opts, state),
        (e: Error) => e.constructor.name === 'DevnetUsageError' && message.test(e.message),
      );
    });
  }
});
