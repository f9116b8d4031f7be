/**
 * eip-191-signing/nodejs of Lit's developer-guides-code (examples/sources.json) against the
 * devnet, unchanged: its src/index.ts (`signEIP191`), src/litAction.ts and src/utils.ts byte for
 * byte (examples/eip-191-signing/*.cts), with only the network set-up replaced (harness/). The
 * example mints a PKP and a capacity credit, gets EOA session sigs (pkp-signing and
 * lit-action-execution) with a capacity delegation, runs its action —
 * `LitActions.ethPersonalSignMessageEcdsa({ message: dataToSign, publicKey, sigName })` with
 * `dataToSign` the 32 bytes of keccak256([1, 2, 3, 4, 5]) — and recovers the public key and
 * address from the combined signature over its `dataSigned`.
 *
 * Asserted: the example's own spec (test/index.spec.ts, its JSON schema, verbatim); that what it
 * recovered is the PKP it minted; and, from the `executeJs` result the harness kept, that the
 * signature is the PKP's EIP-191 personal signature of the message as Lit's node reads it (the
 * text of the bytes the SDK sent, "b1,b2,…", lit-action-runner.ts rule 6), by
 * `ethers.utils.verifyMessage`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Devnet, startDevnet } from '../../src/devnet';
import { ethers } from '../devnet/helpers';
import { type Schema, schemaViolations } from './harness/json-schema';
import { loadExample } from './harness/load-example';
import {
  disposeExampleClients,
  executeJsResults,
  litNetworksRequested,
  mintedPkps,
  useDevnet,
} from './harness/network';

let devnet: Devnet;

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
  useDevnet(devnet);
});
after(async () => {
  await disposeExampleClients();
  await devnet?.close();
});

/** eip-191-signing/nodejs/test/index.spec.ts, `expectedSchema`, verbatim. */
const EXPECTED_SCHEMA: Schema = {
  type: 'object',
  required: ['pubKey', 'address'],
  properties: {
    pubKey: {
      type: 'string',
      pattern: '^0x[a-fA-F0-9]{130}$',
    },
    address: {
      type: 'string',
      pattern: '^0x[a-fA-F0-9]{40}$',
    },
  },
};

describe('eip-191-signing/nodejs (ethPersonalSignMessageEcdsa in a Lit Action)', () => {
  test('signEIP191() matches its spec; the signature is the minted PKP’s EIP-191 signature', async () => {
    // The example's .env: ETHEREUM_PRIVATE_KEY set, no PKP and no capacity credit given (it mints both).
    const wallet = ethers.Wallet.createRandom();
    process.env.ETHEREUM_PRIVATE_KEY = wallet.privateKey;
    delete process.env.LIT_PKP_PUBLIC_KEY;
    delete process.env.LIT_CAPACITY_CREDIT_TOKEN_ID;
    const { signEIP191 } = loadExample('eip-191-signing');
    const errors: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => {
      errors.push(args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' '));
    };
    let result: { pubKey: string; address: string } | undefined;
    try {
      result = await signEIP191();
    } finally {
      console.error = original;
    }
    const violations = schemaViolations(result, EXPECTED_SCHEMA);
    assert.deepEqual(
      violations,
      [],
      `the example's own spec fails: ${violations.join('; ')}\nthe example logged: ${errors.join('\n')}`,
    );

    const pkp = mintedPkps().at(-1)!;
    assert.equal(devnet.pkp(pkp.publicKey)?.permittedAddresses[0], wallet.address);
    assert.equal(result!.address, pkp.ethAddress);
    assert.equal(result!.pubKey.toLowerCase(), `0x${pkp.publicKey.replace(/^0x/, '')}`.toLowerCase());

    const [call] = executeJsResults();
    const sig = (call.result.signatures as Record<string, { signature: string; dataSigned: string }>).sig;
    const sent = call.params.jsParams!.dataToSign as number[];
    assert.deepEqual(
      sent,
      Array.from(ethers.utils.arrayify(ethers.utils.keccak256([1, 2, 3, 4, 5]))),
      'the SDK sent the bytes as an array',
    );
    const message = String(sent);
    assert.equal(`0x${sig.dataSigned}`, ethers.utils.hashMessage(message));
    assert.equal(ethers.utils.verifyMessage(message, sig.signature), pkp.ethAddress);
    assert.equal(call.result.response, 'success', 'the action’s response: what the call returned');
    assert.deepEqual(litNetworksRequested(), ['datil-test']);
  });
});
