import assert from 'node:assert/strict';
import { test } from 'node:test';
import { knownNetworkNames, loadNetworkConfig, parseNetworkConfig } from '../../src/shared/network-config';

const good = {
  networks: {
    devnet: {
      rpcUrl: 'http://127.0.0.1:8545',
      stakingAddress: `0x${'12'.repeat(20)}`,
      blockIndexerUrl: 'http://127.0.0.1:8546/get_most_recent_valid_block',
      minNodeCount: 2,
    },
  },
};

test('parses custom networks and lists them after the built-in ones', () => {
  const c = parseNetworkConfig(JSON.stringify(good), 'test');
  assert.equal(c.custom.devnet.minNodeCount, 2);
  assert.deepEqual(knownNetworkNames(c), ['datil-dev', 'datil-test', 'datil', 'devnet']);
});

const bad: [string, string, RegExp][] = [
  ['not JSON', '{', /not valid JSON/],
  [
    'bad URL',
    JSON.stringify({ networks: { d: { ...good.networks.devnet, rpcUrl: 'nope' } } }),
    /networks.d.rpcUrl must be an http/,
  ],
  [
    'bad address',
    JSON.stringify({ networks: { d: { ...good.networks.devnet, stakingAddress: '0x1' } } }),
    /20-byte address/,
  ],
  ['shadows built-in', JSON.stringify({ networks: { datil: good.networks.devnet } }), /shadows a built-in/],
];
for (const [name, text, message] of bad) {
  test(`rejects ${name}`, () => assert.throws(() => parseNetworkConfig(text, 'LIT_NETWORKS'), message));
}

test('loadNetworkConfig: none configured, inline, unreadable file, both set', () => {
  assert.deepEqual(loadNetworkConfig({}), { custom: {} });
  assert.ok(loadNetworkConfig({ LIT_NETWORKS: JSON.stringify(good) }).custom.devnet);
  assert.throws(
    () => loadNetworkConfig({ LIT_NETWORKS_FILE: '/nonexistent.json' }),
    /cannot be read \(ENOENT\).*--write-config/,
  );
  assert.throws(() => loadNetworkConfig({ LIT_NETWORKS_FILE: 'a', LIT_NETWORKS: 'b' }), /not both/);
});
