/**
 * Permitted Lit Actions of the devnet's PKPs: the admin API permits and revokes them (as chaos
 * tests and the CLI user would), bad requests are refused with the fix, and the state file keeps
 * them across a restart.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LitActionResource } from '@lit-protocol/auth-helpers';
import { LIT_ABILITY } from '@lit-protocol/constants';
import { type Devnet, ipfsCidOf, startDevnet } from '../../src/devnet';
import { parseDevnetState } from '../../src/devnet/state-file';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import { connected, eoaSessionSigs, ethers, type ResourceAbilityRequests } from './helpers';

const ACTION = 'Lit.Actions.setResponse({ response: "true" });';

async function call(devnet: Devnet, route: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${devnet.adminUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe('POST /pkps/permitted-actions', () => {
  let devnet: Devnet;
  before(async () => {
    devnet = await startDevnet({ blockTimeMs: 200 });
  });
  after(() => devnet.close());

  test('permits an action on a PKP, then revokes it', async () => {
    const pkp = devnet.mintPkp([]);
    const ipfsId = (await call(devnet, '/lit-actions', { code: ACTION })).body.ipfsId;
    assert.equal(ipfsId, ipfsCidOf(ACTION));
    const permitted = await call(devnet, '/pkps/permitted-actions', { publicKey: pkp.publicKey, ipfsId });
    assert.equal(permitted.status, 200);
    assert.deepEqual(permitted.body.permittedActions, [ipfsId]);
    assert.deepEqual(devnet.pkp(pkp.publicKey)?.permittedActions, [ipfsId]);
    const revoked = await call(devnet, '/pkps/permitted-actions', {
      publicKey: pkp.publicKey,
      ipfsId,
      permitted: false,
    });
    assert.deepEqual(revoked.body.permittedActions, []);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['an ipfsId that is no CID', { publicKey: '0x04', ipfsId: 'hello' }, /ipfsId must be the IPFS CID/],
    ['a missing publicKey', { ipfsId: ipfsCidOf(ACTION) }, /publicKey must be the PKP public key/],
    ['an unknown PKP', { publicKey: `0x04${'ab'.repeat(64)}`, ipfsId: ipfsCidOf(ACTION) }, /no PKP/],
    [
      'permitted not a boolean',
      { publicKey: '0x04', ipfsId: ipfsCidOf(ACTION), permitted: 'yes' },
      /true or false/,
    ],
    ['an unknown field', { publicKey: '0x04', ipfsId: ipfsCidOf(ACTION), colour: 1 }, /unknown field/],
  ];
  for (const [name, body, message] of bad) {
    test(`refuses ${name} with 400`, async () => {
      const res = await call(devnet, '/pkps/permitted-actions', body);
      assert.equal(res.status, 400);
      assert.match(res.body.error, message);
    });
  }
});

describe('the state file keeps permitted actions', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devnet-actions-'));
  const file = path.join(dir, 'state.json');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a restarted devnet still knows which actions a PKP permits', async () => {
    const first = await startDevnet({ blockTimeMs: 200, stateFile: file });
    const ipfsId = ipfsCidOf(ACTION);
    let publicKey: string;
    try {
      publicKey = first.mintPkp([], [ipfsId]).publicKey;
    } finally {
      await first.close();
    }
    const again = await startDevnet({ blockTimeMs: 200, stateFile: file });
    try {
      assert.deepEqual(again.pkp(publicKey)?.permittedActions, [ipfsId]);
    } finally {
      await again.close();
    }
  });

  test('a state file with a malformed permitted action is refused, naming the field', () => {
    const state = JSON.parse(fs.readFileSync(file, 'utf8'));
    state.pkps[0].permittedActions = ['not-a-cid'];
    assert.throws(() => parseDevnetState(JSON.stringify(state), 'x.json'), /pkps\.0\.permittedActions\.0/);
  });
});

describe('the state file keeps the Lit Action content store', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devnet-content-'));
  const file = path.join(dir, 'state.json');
  const CODE = 'Lit.Actions.setResponse({ response: JSON.stringify({ stored: true, n }) });';
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('code stored with POST /lit-actions runs by its ipfsId after a restart (stock SDK executeJs)', async () => {
    const first = await startDevnet({ blockTimeMs: 200, stateFile: file });
    let ipfsId: string;
    try {
      const res = await call(first, '/lit-actions', { code: CODE });
      assert.equal(res.status, 200);
      ipfsId = res.body.ipfsId;
      assert.equal(ipfsId, ipfsCidOf(CODE));
      // Storing the same code again changes nothing.
      assert.deepEqual((await call(first, '/lit-actions', { code: CODE })).body, { ipfsId });
    } finally {
      await first.close();
    }
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).litActions, { [ipfsId]: CODE });

    const again = await startDevnet({ blockTimeMs: 200, stateFile: file });
    const client = await connected(again.networkConfig());
    try {
      assert.ok(again.restored);
      assert.equal(again.litAction(ipfsId), CODE);
      const wallet = ethers.Wallet.createRandom();
      const sigs = await eoaSessionSigs(client, wallet, {
        resourceAbilityRequests: [
          { resource: new LitActionResource(ipfsId), ability: LIT_ABILITY.LitActionExecution },
        ] as unknown as ResourceAbilityRequests,
      });
      const res = await client.executeJs({ sessionSigs: sigs as any, ipfsId, jsParams: { n: 7 } });
      // Without signatures the SDK hands the node's response string back as is.
      assert.deepEqual(JSON.parse(res.response as string), { stored: true, n: 7 });
    } finally {
      await disposeLitClient(client);
      await again.close();
    }
  });

  test('a state file storing code under another IPFS id is refused', () => {
    const state = JSON.parse(fs.readFileSync(file, 'utf8'));
    state.litActions = { [ipfsCidOf('other code')]: CODE };
    assert.throws(() => parseDevnetState(JSON.stringify(state), 'x.json'), /whose IPFS id is Qm/);
    state.litActions = { 'not-a-cid': CODE };
    assert.throws(() => parseDevnetState(JSON.stringify(state), 'x.json'), /litActions\.not-a-cid/);
  });

  test('a state file without a content store (written before it was kept) still loads', () => {
    const state = JSON.parse(fs.readFileSync(file, 'utf8'));
    delete state.litActions;
    assert.equal(parseDevnetState(JSON.stringify(state), 'x.json').litActions, undefined);
  });
});
