/**
 * Lit Action auth end to end: a PKP whose only authority is a permitted Lit Action, kept by the
 * real system — a Temporal dev server, the real worker (workflow + mint activity + pooled Lit
 * client), the real keeper client and the devnet; the stock SDK's `pkpSign` uses the sigs.
 * - an agent with `litAction` (inline code with jsParams) and no signer gets sigs, is rotated to
 *   generation 2, and the sigs of each generation sign as the PKP;
 * - the same by IPFS id;
 * - an agent whose action refuses ends failed with Lit's error code, NodeAuthFailed;
 * - the CLI as users type it: `npx session-keeper agent start … --lit-action-file auth.js`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SessionKeeperClient } from '../../src/client';
import { type Devnet, type PkpInfo, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import type { SessionStatus } from '../../src/shared/types';
import { runCli } from '../client/harness';
import { connected } from '../devnet/helpers';
import {
  assertSignsAsPkp,
  freshAbove as freshAboveOf,
  startKeeper,
  startLocalTemporal,
  statusWhere,
} from './harness';

/** Authorises a session only for the agent its jsParams name. */
const ACTION = `
  Lit.Actions.setResponse({ response: String(['la-inline', 'la-ipfs', 'la-cli'].includes(jsParams.agent)) });
`;
const PKP_SIGNING_ANY = [{ resource: 'lit-pkp://*', ability: 'pkp-signing' }];

let env: TestWorkflowEnvironment;
let devnet: Devnet;
let lit: LitNodeClientNodeJs;
let pkp: PkpInfo;
let actionIpfsId: string;
let keeper: SessionKeeperClient;
let keeperStack: Awaited<ReturnType<typeof startKeeper>> | undefined;

const assertSigns = (sigs: SessionStatus['sessionSigs'], text: string, label: string) =>
  assertSignsAsPkp(lit, pkp, sigs, text, label);

const freshAbove = (agentId: string, after: number) => freshAboveOf(keeper, agentId, after);

/** Start → generation 1 signs → rotate → generation 2 signs, with new sigs. */
async function keepsSigning(agentId: string, litAction: Record<string, unknown>): Promise<void> {
  await keeper.startAgent({
    agentId,
    network: 'devnet',
    mode: 'pkp',
    pkpPublicKey: pkp.publicKey,
    litAction,
    resourceAbilityRequests: PKP_SIGNING_ANY,
  });
  const first = await freshAbove(agentId, 0);
  assert.equal(first.generation, 1);
  await assertSigns(first.sessionSigs, `${agentId} generation 1`, 'generation 1');
  await keeper.rotate(agentId, { reason: 'lit action auth e2e' });
  const second = await freshAbove(agentId, first.generation);
  assert.equal(second.generation, 2);
  assert.notDeepEqual(second.sessionSigs, first.sessionSigs);
  await assertSigns(second.sessionSigs, `${agentId} generation 2`, 'generation 2');
}

describe('end to end: a PKP agent authorised by a Lit Action', () => {
  before(async () => {
    env = await startLocalTemporal();
    devnet = await startDevnet({ blockTimeMs: 1000 });
    actionIpfsId = devnet.addLitAction(ACTION).ipfsId;
    // No controller wallet: the action is the PKP's only authority.
    pkp = devnet.mintPkp([], [actionIpfsId]);
    lit = await connected(devnet.networkConfig());
    keeperStack = await startKeeper(env.nativeConnection, env.address, devnet, {});
    keeper = keeperStack.keeper;
  });

  after(async () => {
    await keeperStack?.stop();
    if (lit) await disposeLitClient(lit);
    await env?.teardown();
    await devnet?.close();
  });

  test('inline code: sigs without any signer, rotated to generation 2, each generation signs', async () => {
    await keepsSigning('la-inline', { code: ACTION, jsParams: { agent: 'la-inline' } });
  });

  test('by IPFS id: the same', async () => {
    await keepsSigning('la-ipfs', { ipfsId: actionIpfsId, jsParams: { agent: 'la-ipfs' } });
  });

  test('an action that refuses the agent: the agent fails with NodeAuthFailed', async () => {
    const agentId = 'la-refused';
    await keeper.startAgent({
      agentId,
      network: 'devnet',
      mode: 'pkp',
      pkpPublicKey: pkp.publicKey,
      litAction: { code: ACTION, jsParams: { agent: agentId } },
      resourceAbilityRequests: PKP_SIGNING_ANY,
    });
    const status = await statusWhere(keeper, agentId, 'failed', (s) => s.state === 'failed');
    assert.equal(status.lastError?.type, 'NodeAuthFailed');
    assert.equal(status.generation, 0);
  });

  test('npx session-keeper agent start --lit-action-file: the sessions come from the action in the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'la-cli-'));
    const file = path.join(dir, 'auth.js');
    fs.writeFileSync(file, ACTION);
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(childEnv)) {
      if (/^(TEMPORAL_|LIT_NETWORKS|SESSION_KEEPER_)/.test(k)) delete childEnv[k];
    }
    childEnv.LIT_NETWORKS = JSON.stringify({ networks: { devnet: devnet.networkConfig() } });
    try {
      const r = await runCli(
        [
          'agent',
          'start',
          'la-cli',
          '--network',
          'devnet',
          '--mode',
          'pkp',
          '--pkp-public-key',
          pkp.publicKey,
          '--lit-action-file',
          file,
          '--lit-action-params',
          '{"agent":"la-cli"}',
          '--resources',
          'lit-pkp://*=pkp-signing',
          '--address',
          env.address,
        ],
        childEnv,
      );
      assert.equal(r.code, 0, r.stderr);
      const spec = (await keeper.runningSpec('la-cli'))?.spec;
      assert.deepEqual(spec?.litAction, { code: ACTION, jsParams: { agent: 'la-cli' } });
      assert.equal(spec?.signer, undefined, 'no signer: the action is the only authority');
      const first = await freshAbove('la-cli', 0);
      await assertSigns(first.sessionSigs, 'la-cli generation 1', 'CLI-started agent');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
