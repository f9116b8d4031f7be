/**
 * conditional-signing/nodejs of Lit's developer-guides-code (examples/sources.json) against the
 * devnet: its Lit Action, byte for byte (examples/conditional-signing/litAction.cts — the
 * un-awaited `(async () => { ... })();` style: `checkConditions`, then `signEcdsa` as the PKP), run
 * by the calls of its src/index.ts with the same arguments, with one change beyond the network
 * set-up: the condition. The published one is `eth_getBalance(:userAddress) >= 0` on `ethereum`,
 * which the devnet does not evaluate (it evaluates `:userAddress` compared with `=` / `!=`); here
 * it is `:userAddress = <the wallet>`, as evmBasic. Asserted: the example's own spec
 * (test/index.spec.ts, the funded-account schema, verbatim) and that the signature recovers to the
 * PKP's address.
 *
 * index.ts's steps, in order: LitNodeClient connect, LitContracts connect, mint a PKP, mint a
 * capacity credit, createCapacityDelegationAuthSig, executeJs with the session sigs of
 * getSessionSigs (createSiweMessage + generateAuthSig) and jsParams { conditions, authSig, chain,
 * dataToSign, publicKey }, disconnect.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSiweMessage, generateAuthSig, LitActionResource } from '@lit-protocol/auth-helpers';
import { LIT_ABILITY, LIT_NETWORK } from '@lit-protocol/constants';
import { type Devnet, startDevnet } from '../../src/devnet';
import { ethers } from '../devnet/helpers';
import { type Schema, schemaViolations } from './harness/json-schema';
import { loadExample } from './harness/load-example';
import { disposeExampleClients, useDevnet } from './harness/network';
import { LIT_RPC } from './harness/stand-ins/constants';
import { LitContracts } from './harness/stand-ins/contracts-sdk';
import { LitNodeClient } from './harness/stand-ins/lit-node-client';

let devnet: Devnet;

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
  useDevnet(devnet);
});
after(async () => {
  await disposeExampleClients();
  await devnet?.close();
});

/** conditional-signing/nodejs/test/index.spec.ts, `conditionalSigningResponseSchemaFunded`. */
const FUNDED_SCHEMA: Schema = {
  type: 'object',
  properties: {
    claims: { type: 'object' },
    signatures: {
      type: 'object',
      properties: {
        sig: {
          type: 'object',
          properties: {
            r: { type: 'string' },
            s: { type: 'string' },
            recid: { type: 'number' },
            signature: { type: 'string' },
            publicKey: { type: 'string' },
            dataSigned: { type: 'string' },
          },
        },
      },
    },
    response: { type: 'string', pattern: '^$' },
    logs: { type: 'string', pattern: '^$' },
  },
  required: ['claims', 'signatures', 'response', 'logs'],
  additionalProperties: false,
};

/** The steps of conditional-signing/nodejs/src/index.ts, `conditions` aside (see the header). */
async function conditionalSigning(ethersWallet: ethers.Wallet, conditions: unknown[], chain: string) {
  const { litActionCode } = loadExample<{ litActionCode: string }>('conditional-signing', 'litAction');
  const litNodeClient = new LitNodeClient({ litNetwork: LIT_NETWORK.DatilTest, debug: false });
  try {
    await litNodeClient.connect();
    const litContracts = new LitContracts({
      signer: ethersWallet,
      network: LIT_NETWORK.DatilTest,
      debug: false,
    });
    await litContracts.connect();
    const pkpInfo = (await litContracts.pkpNftContractUtils.write.mint()).pkp;
    const capacityTokenId = (
      await litContracts.mintCapacityCreditsNFT({
        requestsPerKilosecond: 10,
        daysUntilUTCMidnightExpiration: 1,
      })
    ).capacityTokenIdStr;
    const { capacityDelegationAuthSig } = await litNodeClient.createCapacityDelegationAuthSig({
      dAppOwnerWallet: ethersWallet,
      capacityTokenId,
      delegateeAddresses: [ethersWallet.address],
      uses: '1',
    });
    const result = await litNodeClient.executeJs({
      sessionSigs: await litNodeClient.getSessionSigs({
        chain,
        capabilityAuthSigs: [capacityDelegationAuthSig],
        expiration: new Date(Date.now() + 1000 * 60 * 60 * 24).toISOString(), // 24 hours
        resourceAbilityRequests: [
          { resource: new LitActionResource('*'), ability: LIT_ABILITY.LitActionExecution },
        ],
        authNeededCallback: async ({ resourceAbilityRequests, expiration, uri }) => {
          const toSign = await createSiweMessage({
            uri: uri!,
            expiration: expiration!, // 24 hours
            resources: resourceAbilityRequests!,
            walletAddress: await ethersWallet.getAddress(),
            nonce: await litNodeClient.getLatestBlockhash(),
            litNodeClient: litNodeClient,
          });
          return await generateAuthSig({ signer: ethersWallet, toSign });
        },
      }),
      code: litActionCode,
      jsParams: {
        conditions,
        authSig: await (async () => {
          const toSign = await createSiweMessage({
            uri: 'http://localhost',
            expiration: new Date(Date.now() + 1000 * 60 * 60 * 24).toISOString(), // 24 hours
            walletAddress: await ethersWallet.getAddress(),
            nonce: await litNodeClient.getLatestBlockhash(),
            resources: [{ resource: new LitActionResource('*'), ability: LIT_ABILITY.LitActionExecution }],
            litNodeClient: litNodeClient,
          });
          return await generateAuthSig({ signer: ethersWallet, toSign });
        })(),
        chain,
        dataToSign: ethers.utils.arrayify(ethers.utils.keccak256([1, 2, 3, 4, 5])),
        publicKey: pkpInfo.publicKey,
      },
    });
    return { result, pkpInfo };
  } finally {
    litNodeClient.disconnect();
  }
}

describe('conditional-signing/nodejs (checkConditions, then signEcdsa in an un-awaited async action)', () => {
  test('the action signs as the PKP when the condition holds; the result matches its spec', async () => {
    const chain = 'ethereum'; // CHAIN_TO_CHECK_CONDITION_ON of its .env.example
    const wallet = new ethers.Wallet(
      ethers.Wallet.createRandom().privateKey,
      new ethers.providers.JsonRpcProvider(LIT_RPC.CHRONICLE_YELLOWSTONE),
    );
    const conditions = [
      {
        conditionType: 'evmBasic',
        contractAddress: '',
        standardContractType: '',
        chain,
        method: '',
        parameters: [':userAddress'],
        returnValueTest: { comparator: '=', value: wallet.address },
      },
    ];
    const { result, pkpInfo } = await conditionalSigning(wallet, conditions, chain);
    const violations = schemaViolations(result, FUNDED_SCHEMA);
    assert.deepEqual(
      violations,
      [],
      `the example's own spec fails: ${violations.join('; ')}\nresult: ${JSON.stringify(result)}`,
    );
    const sig = (result.signatures as any).sig;
    assert.equal(
      ethers.utils.recoverAddress(`0x${sig.dataSigned}`, sig.signature),
      ethers.utils.computeAddress(`0x${pkpInfo.publicKey}`),
    );
  });
});
