/**
 * Lit's published v7 examples (LIT-Protocol/developer-guides-code, Datil era; sources in
 * examples/sources.json) run against the devnet with the real, stock Lit SDK 7.4.0. Each example's
 * own code runs unchanged (examples/<name>/*.cts, byte for byte); only the network set-up is
 * replaced (harness/load-example.ts, harness/network.ts): the devnet instead of datil-dev/datil-test,
 * PKPs minted through the devnet's admin API instead of the contracts. Each test then asserts what
 * the example's own mocha spec asserts (its JSON schema, verbatim except that the devnet's nodes
 * are `http://`, not `https://`), and that what the example produced works on the network: session
 * sigs decrypt or pkpSign as the PKP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LitNodeClientNodeJs } from '@lit-protocol/lit-node-client';
import { type Devnet, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import { connected, decryptWith, encryptFor, ethers, type SessionSigs } from '../devnet/helpers';
import { type Schema, schemaViolations } from './harness/json-schema';
import { loadExample } from './harness/load-example';
import { disposeExampleClients, litNetworksRequested, mintedPkps, useDevnet } from './harness/network';

let devnet: Devnet;
let client: LitNodeClientNodeJs;

before(async () => {
  devnet = await startDevnet({ blockTimeMs: 200 });
  useDevnet(devnet);
  client = await connected(devnet.networkConfig());
});
after(async () => {
  await disposeExampleClients();
  if (client) await disposeLitClient(client);
  await devnet?.close();
});

/** Runs an example's exported function, keeping what it `console.error`s (the examples catch and log). */
async function run<T>(fn: () => Promise<T>): Promise<{ result: T; errors: string[] }> {
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    errors.push(args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' '));
    original(...args);
  };
  try {
    return { result: await fn(), errors };
  } finally {
    console.error = original;
  }
}

function assertSchema(value: unknown, schema: Schema, errors: string[]): void {
  const violations = schemaViolations(value, schema);
  assert.deepEqual(
    violations,
    [],
    `the example's own spec fails: ${violations.join('; ')}${errors.length ? `\nthe example logged: ${errors.join('\n')}` : ''}`,
  );
}

/** Each example runs as a fresh wallet, as its ETHEREUM_PRIVATE_KEY. */
function newWallet(): ethers.Wallet {
  const wallet = ethers.Wallet.createRandom();
  process.env.ETHEREUM_PRIVATE_KEY = wallet.privateKey;
  return wallet;
}

/**
 * The session-signatures specs' schema (test/index.spec.ts of each of the three), verbatim but for
 * the node URL pattern: `^https://` there, `^https?://` here, since a custom network's nodes are
 * `http://<ip>:<port>`.
 */
const SESSION_SIGS_SCHEMA: Schema = {
  type: 'object',
  patternProperties: {
    '^https?://\\d+\\.\\d+\\.\\d+\\.\\d+:\\d+$': {
      type: 'object',
      properties: {
        sig: { type: 'string' },
        derivedVia: { type: 'string' },
        signedMessage: { type: 'string' },
        address: { type: 'string' },
        algo: { type: 'string' },
      },
      required: ['sig', 'derivedVia', 'signedMessage', 'address', 'algo'],
    },
  },
  additionalProperties: false,
};

function assertOneSigPerNode(sigs: SessionSigs): void {
  assert.deepEqual(Object.keys(sigs).sort(), [...devnet.nodeUrls].sort());
}

/**
 * The address the session's own capability (the SIWE the nodes or the wallet signed) is for: the
 * SDK puts it last, after the `capabilityAuthSigs` (the examples' capacity delegation).
 */
function capabilityAddress(sigs: SessionSigs): string {
  return JSON.parse(Object.values(sigs)[0].signedMessage).capabilities.at(-1).address;
}

async function assertPkpSigns(sigs: SessionSigs, pkp: { publicKey: string; ethAddress: string }) {
  const digest = ethers.utils.arrayify(ethers.utils.keccak256(ethers.utils.toUtf8Bytes('conformance')));
  const { signature } = await client.pkpSign({
    pubKey: pkp.publicKey,
    toSign: digest,
    sessionSigs: sigs as any,
  });
  assert.equal(ethers.utils.recoverAddress(digest, signature), pkp.ethAddress);
}

describe('session-signatures/getSessionSigs (EOA session sigs via an auth sig)', () => {
  test('getSessionSigsViaAuthSig() returns one sig per node matching its spec; they decrypt', async () => {
    const wallet = newWallet();
    const { getSessionSigsViaAuthSig } = loadExample('getSessionSigs');
    const { result, errors } = await run<SessionSigs>(() => getSessionSigsViaAuthSig());
    assertSchema(result, SESSION_SIGS_SCHEMA, errors);
    assertOneSigPerNode(result);
    assert.equal(capabilityAddress(result), wallet.address);
    const encrypted = await encryptFor(client, wallet.address, 'for the example wallet');
    assert.equal(await decryptWith(client, result, encrypted), 'for the example wallet');
  });
});

describe('session-signatures/getPkpSessionSigs (PKP session sigs, EthWallet auth method)', () => {
  test('getSessionSigsPKP() mints a PKP, returns sigs matching its spec; they pkpSign as the PKP', async () => {
    const wallet = newWallet();
    const { getSessionSigsPKP } = loadExample('getPkpSessionSigs');
    const { result, errors } = await run<SessionSigs>(() => getSessionSigsPKP());
    assertSchema(result, SESSION_SIGS_SCHEMA, errors);
    assertOneSigPerNode(result);
    const pkp = mintedPkps().at(-1)!;
    assert.equal(devnet.pkp(pkp.publicKey)?.permittedAddresses[0], wallet.address);
    assert.equal(capabilityAddress(result), pkp.ethAddress);
    await assertPkpSigns(result, pkp);
  });
});

describe('session-signatures/getLitActionSessionSigs (PKP session sigs authorised by a Lit Action)', () => {
  test('getSessionSigsLitAction() permits its action, returns sigs matching its spec; they pkpSign', async () => {
    newWallet();
    const { getSessionSigsLitAction } = loadExample('getLitActionSessionSigs');
    const { result, errors } = await run<SessionSigs>(() => getSessionSigsLitAction());
    assertSchema(result, SESSION_SIGS_SCHEMA, errors);
    assertOneSigPerNode(result);
    const pkp = mintedPkps().at(-1)!;
    assert.equal(devnet.pkp(pkp.publicKey)?.permittedActions.length, 1);
    assert.equal(capabilityAddress(result), pkp.ethAddress);
    await assertPkpSigns(result, pkp);
  });
});

describe('hacker-guides/encryption/encrypt-string (encrypt, EOA session sigs, decrypt)', () => {
  test('encryptString() decrypts what it encrypted, as its spec expects', async () => {
    newWallet();
    const { encryptString } = loadExample('encrypt-string');
    const { result, errors } = await run<string>(() => encryptString());
    assert.equal(
      result,
      'The answer to life, the universe, and everything is 42.',
      `the example logged: ${errors.join('\n')}`,
    );
  });
});

test('every example asked for one of Lit’s v7 networks, and got the devnet instead', () => {
  assert.ok(litNetworksRequested().length >= 4);
  for (const network of litNetworksRequested()) assert.match(network, /^datil(-dev|-test)?$/);
});
