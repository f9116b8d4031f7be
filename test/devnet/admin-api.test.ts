/** The admin API over HTTP, as chaos tests in another process drive it. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ethers } from 'ethers';
import { type Devnet, startDevnet } from '../../src/devnet';

let devnet: Devnet;

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
});
after(() => devnet.close());

async function call(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${devnet.adminUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

test('listens on loopback only', () => {
  assert.equal(new URL(devnet.adminUrl).hostname, '127.0.0.1');
  for (const url of [devnet.rpcUrl, devnet.blockIndexerUrl, ...devnet.nodeUrls]) {
    assert.equal(new URL(url).hostname, '127.0.0.1');
  }
});

test('GET /info returns the devnet endpoints', async () => {
  const { status, body } = await call('GET', '/info');
  assert.equal(status, 200);
  assert.deepEqual(body, devnet.info());
  assert.deepEqual(Object.keys(body).sort(), [
    'adminUrl',
    'blockIndexerUrl',
    'networkPublicKey',
    'nodeUrls',
    'rpcUrl',
    'stakingAddress',
  ]);
});

describe('POST /pkps', () => {
  test('mints a PKP controlled by the given addresses', async () => {
    const owner = ethers.Wallet.createRandom().address;
    const { status, body } = await call('POST', '/pkps', { permittedAddresses: [owner.toLowerCase()] });
    assert.equal(status, 200);
    assert.match(body.publicKey, /^0x04[0-9a-f]{128}$/);
    assert.equal(body.ethAddress, ethers.utils.computeAddress(body.publicKey));
    assert.equal(body.tokenId, ethers.utils.keccak256(body.publicKey));
  });
  for (const [name, body] of [
    ['no list', {}],
    ['a non-address', { permittedAddresses: ['alice'] }],
    ['an unknown field', { permittedAddresses: [], color: 'red' }],
    ['invalid JSON', '{'],
  ] as [string, unknown][]) {
    test(`refuses ${name} with 400`, async () => {
      const res = await call('POST', '/pkps', body);
      assert.equal(res.status, 400);
      assert.equal(typeof res.body.error, 'string');
    });
  }
});

describe('POST /faults', () => {
  test('sets and clears a node fault, visible in /stats', async () => {
    const set = await call('POST', '/faults', { node: 1, mode: 'error429', endpoints: ['sign_session_key'] });
    assert.equal(set.status, 200);
    let stats = (await call('GET', '/stats')).body;
    assert.deepEqual(stats.nodes[1].fault, { mode: 'error429', endpoints: ['sign_session_key'] });
    await call('POST', '/faults', { node: 1, mode: 'none' });
    stats = (await call('GET', '/stats')).body;
    assert.deepEqual(stats.nodes[1].fault, { mode: 'none' });
  });
  test('down really closes the port, none reopens it', async () => {
    const url = devnet.nodeUrls[2];
    await call('POST', '/faults', { node: 2, mode: 'down' });
    await assert.rejects(fetch(`${url}/web/handshake/`, { method: 'POST', body: '{}' }), (e: any) => {
      return e.cause?.code === 'ECONNREFUSED';
    });
    assert.equal((await call('GET', '/stats')).body.nodes[2].listening, false);
    await call('POST', '/faults', { node: 2, mode: 'none' });
    const res = await fetch(`${url}/web/handshake/`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 200);
  });
  for (const [name, body] of [
    ['an unknown node', { node: 9, mode: 'down' }],
    ['no node', { mode: 'down' }],
    ['an unknown mode', { node: 0, mode: 'melt' }],
    ['latency without latencyMs', { node: 0, mode: 'latency' }],
  ] as [string, unknown][]) {
    test(`refuses ${name} with 400`, async () =>
      assert.equal((await call('POST', '/faults', body)).status, 400));
  }
});

describe('POST /chain-faults', () => {
  test('staleBlockhash makes the indexer advertise a hash the chain never issued', async () => {
    const set = await call('POST', '/chain-faults', { staleBlockhash: true });
    assert.deepEqual(set.body, { staleBlockhash: 'unknown' });
    const advertised: any = await (await fetch(devnet.blockIndexerUrl)).json();
    const block: any = await fetch(devnet.rpcUrl, {
      method: 'POST',
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'eth_getBlockByHash',
        params: [advertised.blockhash, false],
      }),
    }).then((r) => r.json());
    assert.equal(block.result, null);
    await call('POST', '/chain-faults', { staleBlockhash: false });
    const fresh: any = await (await fetch(devnet.blockIndexerUrl)).json();
    assert.equal(fresh.blockhash, devnet.latestBlock().hash);
  });
  test('refuses an unknown value with 400', async () => {
    assert.equal((await call('POST', '/chain-faults', { staleBlockhash: 'maybe' })).status, 400);
  });
});

describe('POST /epoch and GET /stats', () => {
  test('advances the epoch, swapping a node, and /stats follows', async () => {
    const before = (await call('GET', '/stats')).body;
    const { status, body } = await call('POST', '/epoch', { dropNode: 0, addNode: true });
    assert.equal(status, 200);
    assert.equal(body.epoch, before.epoch + 1);
    assert.equal(body.nodeUrls.length, 3);
    assert.ok(!body.nodeUrls.includes(before.nodeUrls[0]));
    const after = (await call('GET', '/stats')).body;
    assert.equal(after.epoch, body.epoch);
    assert.deepEqual(after.nodeUrls, body.nodeUrls);
    assert.equal(after.nodes.length, 4);
    assert.equal(after.nodes[0].active, false);
    assert.equal(after.nodes[3].url, body.addedNodeUrl);
    assert.deepEqual((await call('GET', '/info')).body.nodeUrls, body.nodeUrls);
  });
  test('refuses to drop a node that is not in the set', async () => {
    assert.equal((await call('POST', '/epoch', { dropNode: 0 })).status, 400);
    assert.equal((await call('POST', '/epoch', { dropNode: 'x' })).status, 400);
  });
  test('counts requests per node and endpoint', async () => {
    await fetch(`${devnet.nodeUrls[0]}/web/handshake/`, { method: 'POST', body: '{}' });
    const stats = (await call('GET', '/stats')).body;
    const node = stats.nodes.find((n: any) => n.url === devnet.nodeUrls[0]);
    assert.ok(node.requests.handshake >= 1);
    assert.ok(node.successes.handshake >= 1);
    assert.ok(stats.totals.requests.handshake >= 1);
    assert.equal(typeof stats.blockNumber, 'number');
  });
});

describe('POST /clock', () => {
  test('moves the nodes’ clock: sigs are judged at host time + offsetMs; 0 resets it', async () => {
    const res = await call('POST', '/clock', { offsetMs: 3_600_000 });
    assert.deepEqual(res, { status: 200, body: { offsetMs: 3_600_000 } });
    assert.equal(devnet.clockOffsetMs, 3_600_000);
    assert.deepEqual((await call('POST', '/clock', { offsetMs: 0 })).body, { offsetMs: 0 });
    assert.equal(devnet.clockOffsetMs, 0);
  });

  for (const [name, body] of [
    ['a missing offsetMs', {}],
    ['a fractional offsetMs', { offsetMs: 1.5 }],
    ['a string offsetMs', { offsetMs: '1000' }],
    ['an unknown field', { offsetMs: 0, colour: 1 }],
  ] as const) {
    test(`refuses ${name} with 400`, async () => {
      const res = await call('POST', '/clock', body);
      assert.equal(res.status, 400);
      assert.equal(devnet.clockOffsetMs, 0);
    });
  }
});

test('unknown routes answer 404', async () => {
  assert.equal((await call('GET', '/nope')).status, 404);
});
