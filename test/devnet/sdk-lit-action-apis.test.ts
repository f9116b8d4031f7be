/**
 * `Lit.Actions.ethPersonalSignMessageEcdsa` and `Lit.Actions.runOnce` through the stock SDK 7.4.0's
 * `executeJs` against the devnet: the nodes' personal-sign shares combine (the SDK's own
 * `getSignatures`) into the PKP's EIP-191 signature of the message, and every node of one
 * `executeJs` answers the single runOnce execution's result.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LitActionResource, LitPKPResource } from '@lit-protocol/auth-helpers';
import { LIT_ABILITY } from '@lit-protocol/constants';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { type Devnet, type PkpInfo, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import { connected, eoaSessionSigs, ethers, type ResourceAbilityRequests, type SessionSigs } from './helpers';

let devnet: Devnet;
let client: LitNodeClientNodeJs;
let sigs: SessionSigs;
let pkp: PkpInfo;
const alice = ethers.Wallet.createRandom();

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
  client = await connected(devnet.networkConfig());
  pkp = devnet.mintPkp([alice.address]);
  sigs = await eoaSessionSigs(client, alice, {
    resourceAbilityRequests: [
      { resource: new LitActionResource('*'), ability: LIT_ABILITY.LitActionExecution },
      { resource: new LitPKPResource('*'), ability: LIT_ABILITY.PKPSigning },
    ] as unknown as ResourceAbilityRequests,
  });
});
after(async () => {
  if (client) await disposeLitClient(client);
  await devnet?.close();
});

describe('ethPersonalSignMessageEcdsa with the stock SDK', () => {
  test('the combined signature is the PKP’s personal-message signature (verifyMessage)', async () => {
    const message = 'I am the PKP, signing as a wallet would';
    const res = await client.executeJs({
      sessionSigs: sigs as any,
      code: `(async () => {
        await Lit.Actions.ethPersonalSignMessageEcdsa({ message, publicKey, sigName: 'personal' });
      })();`,
      jsParams: { message, publicKey: pkp.publicKey },
    });
    const sig = (res.signatures as Record<string, any>).personal;
    assert.ok(sig, 'signatures.personal');
    assert.equal(ethers.utils.verifyMessage(message, sig.signature), pkp.ethAddress);
    assert.equal(`0x${sig.dataSigned}`, ethers.utils.hashMessage(message));
  });
});

describe('runOnce with the stock SDK', () => {
  test('every node answers the one execution’s result', async () => {
    const seen: unknown[][] = [];
    const code = `(async () => {
      const picked = await Lit.Actions.runOnce({ waitForResponse: true, name: 'pick' }, async () => String(Math.random()));
      Lit.Actions.setResponse({ response: picked });
    })();`;
    for (let i = 0; i < 3; i++) {
      await client.executeJs({
        sessionSigs: sigs as any,
        code,
        responseStrategy: {
          strategy: 'custom',
          customFilter: (responses: unknown[]) => {
            seen.push(responses);
            return responses[0];
          },
        },
      } as any);
    }
    assert.equal(seen.length, 3);
    for (const responses of seen) {
      assert.equal(responses.length, devnet.nodeUrls.length);
      assert.equal(new Set(responses).size, 1, `one value across the nodes: ${JSON.stringify(responses)}`);
    }
    assert.equal(new Set(seen.map((r) => r[0])).size, 3, 'each executeJs is its own request');
  });
});
