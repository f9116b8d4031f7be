/**
 * The keeper's litAction mode with an auth action written in Lit's documented, un-awaited style —
 * `(async () => { … await … Lit.Actions.setResponse(…) })();` — end to end: a Temporal dev
 * server, the real worker and keeper client, the devnet, the stock SDK's `pkpSign`.
 * - a PKP whose only authority is the permitted action: sigs, rotation to generation 2, each
 *   generation signs as the PKP;
 * - a PKP that permits the agent's signer wallet (its EthWallet auth method) but not the action:
 *   the action decides, as on Lit's networks (issue 18, item 3), and the sigs sign;
 * - three such agents started at once all get sigs that sign.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ethers } from 'ethers';
import type { SessionKeeperClient } from '../../src/client';
import { type Devnet, type PkpInfo, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import type { SessionStatus } from '../../src/shared/types';
import { connected } from '../devnet/helpers';
import { assertSignsAsPkp, freshAbove as freshAboveOf, startKeeper, startLocalTemporal } from './harness';

/** Un-awaited: the nodes must wait for its awaited host call before its answer exists. */
const ACTION = `
(async () => {
  const rpc = await Lit.Actions.getRpcUrl({ chain: 'ethereum' });
  const known = ['un-ipfs', 'un-signer', 'un-many-0', 'un-many-1', 'un-many-2'].includes(jsParams.agent);
  Lit.Actions.setResponse({ response: String(Boolean(rpc) && known) });
})();
`;
/** The same style, deciding on the auth method the request proved (not a permitted action). */
const WALLET_ACTION = `
(async () => {
  await Lit.Actions.getRpcUrl({ chain: 'ethereum' });
  const ok = Lit.Auth.authMethodContexts.some(
    (c) => c.authMethodType === 1 && c.userId.toLowerCase() === jsParams.wallet.toLowerCase(),
  );
  Lit.Actions.setResponse({ response: ok ? 'true' : 'false' });
})();
`;
const PKP_SIGNING_ANY = [{ resource: 'lit-pkp://*', ability: 'pkp-signing' }];
const controller = ethers.Wallet.createRandom();

let env: TestWorkflowEnvironment;
let devnet: Devnet;
let lit: LitNodeClientNodeJs;
let actionPkp: PkpInfo;
let walletPkp: PkpInfo;
let actionIpfsId: string;
let keeper: SessionKeeperClient;
let keeperStack: Awaited<ReturnType<typeof startKeeper>> | undefined;

const assertSigns = (pkp: PkpInfo, sigs: SessionStatus['sessionSigs'], text: string, label: string) =>
  assertSignsAsPkp(lit, pkp, sigs, text, label);

const freshAbove = (agentId: string, after: number) => freshAboveOf(keeper, agentId, after);

describe('end to end: a Lit Action auth in the un-awaited style', () => {
  before(async () => {
    env = await startLocalTemporal();
    devnet = await startDevnet({ blockTimeMs: 1000 });
    actionIpfsId = devnet.addLitAction(ACTION).ipfsId;
    actionPkp = devnet.mintPkp([], [actionIpfsId]);
    walletPkp = devnet.mintPkp([controller.address]);
    lit = await connected(devnet.networkConfig());
    keeperStack = await startKeeper(env.nativeConnection, env.address, devnet, {
      UN_CONTROLLER_KEY: controller.privateKey,
    });
    keeper = keeperStack.keeper;
  });

  after(async () => {
    await keeperStack?.stop();
    if (lit) await disposeLitClient(lit);
    await env?.teardown();
    await devnet?.close();
  });

  test('by IPFS id, the action the only authority: sigs, rotation, each generation signs', async () => {
    const agentId = 'un-ipfs';
    await keeper.startAgent({
      agentId,
      network: 'devnet',
      mode: 'pkp',
      pkpPublicKey: actionPkp.publicKey,
      litAction: { ipfsId: actionIpfsId, jsParams: { agent: agentId } },
      resourceAbilityRequests: PKP_SIGNING_ANY,
    });
    const first = await freshAbove(agentId, 0);
    assert.equal(first.generation, 1);
    await assertSigns(actionPkp, first.sessionSigs, 'un-ipfs 1', 'generation 1');
    await keeper.rotate(agentId, { reason: 'un-awaited e2e' });
    const second = await freshAbove(agentId, first.generation);
    assert.equal(second.generation, 2);
    await assertSigns(actionPkp, second.sessionSigs, 'un-ipfs 2', 'generation 2');
  });

  test('a permitted signer wallet and an action that is not permitted: the action decides, the sigs sign', async () => {
    const agentId = 'un-signer';
    await keeper.startAgent({
      agentId,
      network: 'devnet',
      mode: 'pkp',
      pkpPublicKey: walletPkp.publicKey,
      signer: 'env:UN_CONTROLLER_KEY',
      litAction: { code: WALLET_ACTION, jsParams: { wallet: controller.address } },
      resourceAbilityRequests: PKP_SIGNING_ANY,
    });
    const first = await freshAbove(agentId, 0);
    await assertSigns(walletPkp, first.sessionSigs, 'un-signer 1', 'signer + action');
  });

  test('three agents with the un-awaited action started at once all get sigs that sign', async () => {
    const ids = [0, 1, 2].map((i) => `un-many-${i}`);
    await Promise.all(
      ids.map((agentId) =>
        keeper.startAgent({
          agentId,
          network: 'devnet',
          mode: 'pkp',
          pkpPublicKey: actionPkp.publicKey,
          litAction: { code: ACTION, jsParams: { agent: agentId } },
          resourceAbilityRequests: PKP_SIGNING_ANY,
        }),
      ),
    );
    const statuses = await Promise.all(ids.map((id) => freshAbove(id, 0)));
    await Promise.all(statuses.map((s, i) => assertSigns(actionPkp, s.sessionSigs, `${ids[i]} 1`, ids[i])));
  });
});
