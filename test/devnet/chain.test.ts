/**
 * The chain RPC through the same libraries the SDK uses: ethers 5 and the SDK's own
 * `LitContracts.getConnectionInfo`, which is how `connect()` finds the nodes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LitContracts } from '@lit-protocol/contracts-sdk';
import { ethers } from 'ethers';
import { type Devnet, startDevnet } from '../../src/devnet';
import { STAKING_ABI } from '../../src/lit/staking-abi';

let devnet: Devnet;
let provider: ethers.providers.StaticJsonRpcProvider;
let staking: ethers.Contract;

async function rpc(body: unknown): Promise<any> {
  const res = await fetch(devnet.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.json();
}

function connectionInfo() {
  return LitContracts.getConnectionInfo({
    litNetwork: 'custom',
    networkContext: { Staking: { address: devnet.stakingAddress, abi: STAKING_ABI } } as any,
    rpcUrl: devnet.rpcUrl,
  });
}

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 100 });
  provider = new ethers.providers.StaticJsonRpcProvider(devnet.rpcUrl);
  staking = new ethers.Contract(devnet.stakingAddress, STAKING_ABI as any, provider);
});
after(() => devnet.close());

describe('blocks', () => {
  test('the chain answers its chain id', async () => {
    assert.equal((await provider.getNetwork()).chainId, 31337);
  });

  test('a new block is issued every block time and can be fetched by number and hash', async () => {
    const before = await provider.getBlockNumber();
    const issued = await devnet.nextBlock();
    assert.ok(issued.number > before);
    const byNumber = await provider.getBlock(issued.number);
    const byHash = await provider.getBlock(issued.hash);
    assert.equal(byNumber.hash, issued.hash);
    assert.equal(byHash.number, issued.number);
    assert.equal(byHash.timestamp, issued.timestamp);
    assert.equal(byHash.parentHash, (await provider.getBlock(issued.number - 1)).hash);
  });

  test('the genesis block is older than 30 days (an issued but expired nonce)', async () => {
    const genesis = await provider.getBlock(0);
    assert.equal(genesis.hash, devnet.expiredBlockhash());
    assert.ok(Date.now() / 1000 - genesis.timestamp > 30 * 24 * 3600);
  });

  test('an unknown hash has no block', async () => {
    assert.equal(await provider.getBlock(ethers.utils.id('never issued')), null);
  });
});

describe('Staking contract', () => {
  test("the SDK's getConnectionInfo finds the nodes, the threshold and the epoch", async () => {
    const info = await connectionInfo();
    assert.deepEqual(info.bootstrapUrls, devnet.nodeUrls);
    assert.equal(info.minNodeCount, 2);
    assert.equal(info.epochInfo.number, 1);
    assert.ok(info.epochInfo.endTime > Date.now() / 1000);
  });

  test('validator structs carry 127.0.0.1 as uint32 and the node ports', async () => {
    const [, count, validators] = await staking.getActiveUnkickedValidatorStructsAndCounts();
    assert.equal(count.toNumber(), 2);
    assert.deepEqual(
      validators.map((v: any) => `http://127.0.0.1:${v.port}`),
      devnet.nodeUrls,
    );
    assert.ok(validators.every((v: any) => v.ip === 0x7f000001));
    assert.equal((await staking.currentValidatorCountForConsensus()).toNumber(), 2);
    assert.equal(await staking.state(), 0);
  });

  test('an epoch change emits StateChanged and changes the validator set', async () => {
    const fromBlock = await provider.getBlockNumber();
    const change = await devnet.advanceEpoch({ dropNode: 1, addNode: true });
    const events = await staking.queryFilter(staking.filters.StateChanged(), fromBlock + 1);
    assert.deepEqual(
      events.map((e) => e.args?.[0]),
      [1, 2, 0],
      'NextValidatorSetLocked, ReadyForNextEpoch, Active',
    );
    assert.ok(events.every((e) => e.blockNumber === change.blockNumber));
    const info = await connectionInfo();
    assert.equal(info.epochInfo.number, 2);
    assert.deepEqual(info.bootstrapUrls, change.nodeUrls);
    assert.ok(change.addedNodeUrl && info.bootstrapUrls.includes(change.addedNodeUrl));
    assert.ok(change.droppedNodeUrl && !info.bootstrapUrls.includes(change.droppedNodeUrl));
  });

  test('an unknown function reverts', async () => {
    const iface = new ethers.utils.Interface(['function notAStakingFunction()']);
    const answer = await rpc({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_call',
      params: [
        { to: devnet.stakingAddress, data: iface.encodeFunctionData('notAStakingFunction') },
        'latest',
      ],
    });
    assert.equal(answer.error.code, 3);
    assert.match(answer.error.message, /execution reverted/);
  });
});

describe('JSON-RPC protocol', () => {
  test('unknown methods are refused with -32601', async () => {
    const answer = await rpc({ jsonrpc: '2.0', id: 7, method: 'eth_sendRawTransaction', params: ['0x'] });
    assert.equal(answer.id, 7);
    assert.equal(answer.error.code, -32601);
  });

  test('batches are answered in order', async () => {
    const answers = await rpc([
      { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] },
      { jsonrpc: '2.0', id: 2, method: 'net_version', params: [] },
    ]);
    assert.deepEqual(
      answers.map((a: any) => [a.id, a.result]),
      [
        [1, '0x7a69'],
        [2, '31337'],
      ],
    );
  });

  test('getLogs honours address and topic filters', async () => {
    const all = await rpc({ jsonrpc: '2.0', id: 1, method: 'eth_getLogs', params: [{ fromBlock: '0x0' }] });
    const other = await rpc({
      jsonrpc: '2.0',
      id: 2,
      method: 'eth_getLogs',
      params: [{ fromBlock: '0x0', address: ethers.constants.AddressZero }],
    });
    const wrongTopic = await rpc({
      jsonrpc: '2.0',
      id: 3,
      method: 'eth_getLogs',
      params: [{ fromBlock: '0x0', topics: [ethers.utils.id('Other(uint8)')] }],
    });
    assert.ok(all.result.length >= 3);
    assert.deepEqual(other.result, []);
    assert.deepEqual(wrongTopic.result, []);
  });
});
