import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { LitConfigError, litNodeClientConfigFor } from '../../src/lit/custom-network';
import { STAKING_ABI } from '../../src/lit/staking-abi';

const NETWORK = {
  rpcUrl: 'http://127.0.0.1:8545',
  stakingAddress: '0x24AD133223ec5278F8eCfD2F005529922574cc24',
  blockIndexerUrl: 'http://127.0.0.1:8546/get_most_recent_valid_block',
  minNodeCount: 2,
};

describe('litNodeClientConfigFor', () => {
  test('builds a custom-network config with the full Staking ABI', () => {
    const { config } = litNodeClientConfigFor(NETWORK);
    const c = config as any;
    assert.equal(c.litNetwork, 'custom');
    assert.equal(c.rpcUrl, NETWORK.rpcUrl);
    assert.equal(c.debug, false);
    assert.equal(c.checkNodeAttestation, false);
    assert.equal(c.minNodeCount, 2);
    assert.equal(c.contractContext.Staking.address, NETWORK.stakingAddress);
    assert.equal(c.contractContext.Staking.abi, STAKING_ABI);
    assert.ok(
      c.contractContext.Staking.abi.some((f: any) => f.name === 'getActiveUnkickedValidatorStructsAndCounts'),
      'the ABI has the function connect() calls',
    );
    assert.equal(
      c.storageProvider,
      undefined,
      'no storage provider: wallet sigs must not be cached process-wide',
    );
  });

  test('accepts overrides for timeouts and debug', () => {
    const c = litNodeClientConfigFor(NETWORK, { connectTimeout: 1234, debug: true }).config as any;
    assert.equal(c.connectTimeout, 1234);
    assert.equal(c.debug, true);
  });

  test('works with a devnet info object (no minNodeCount)', () => {
    const { minNodeCount: _, ...info } = NETWORK;
    const c = litNodeClientConfigFor({ ...info, nodeUrls: [], adminUrl: 'x', networkPublicKey: 'y' } as any)
      .config as any;
    assert.equal(c.minNodeCount, undefined);
  });

  test('the SDK accepts the config and the block indexer URL is applied to the client', () => {
    const setup = litNodeClientConfigFor(NETWORK);
    const client = new LitNodeClientNodeJs(setup.config);
    assert.notEqual((client as any)._blockHashUrl, NETWORK.blockIndexerUrl);
    assert.equal(setup.applyTo(client), client);
    assert.equal((client as any)._blockHashUrl, NETWORK.blockIndexerUrl);
    assert.equal(setup.blockIndexerUrl, NETWORK.blockIndexerUrl);
  });

  test('refuses a client without the _blockHashUrl field (an SDK it does not know)', () => {
    assert.throws(() => litNodeClientConfigFor(NETWORK).applyTo({}), LitConfigError);
  });

  const bad: [string, object][] = [
    ['a non-URL rpcUrl', { ...NETWORK, rpcUrl: 'localhost:8545' }],
    ['a ws rpcUrl', { ...NETWORK, rpcUrl: 'ws://127.0.0.1:8545' }],
    ['a missing blockIndexerUrl', { ...NETWORK, blockIndexerUrl: undefined }],
    ['a short staking address', { ...NETWORK, stakingAddress: '0x1234' }],
  ];
  for (const [name, network] of bad) {
    test(`refuses ${name}`, () =>
      assert.throws(() => litNodeClientConfigFor(network as any), LitConfigError));
  }
});
