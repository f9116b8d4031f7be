import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  LitAccessControlConditionResource,
  LitPKPResource,
  RecapSessionCapabilityObject,
} from '@lit-protocol/auth-helpers';
import { LIT_ABILITY } from '@lit-protocol/constants';
import { ed25519 } from '@noble/curves/ed25519';
import { ethers } from 'ethers';
import { SiweMessage } from 'siwe';
import { BlsNetworkKey, litSessionSigningHash, signShare } from '../../src/devnet/bls-threshold';
import { LitNodeError } from '../../src/devnet/lit-errors';
import {
  type CapabilitySig,
  normaliseNodeAddress,
  type SessionSig,
  type VerifyContext,
  verifySessionSig,
} from '../../src/devnet/session-sig-verifier';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const iso = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const MIN = 60_000;
const DAY = 24 * 3600_000;

const NODE = 'http://127.0.0.1:7470';
// A threshold-1 key: its single share is already the full network signature.
const networkKey = BlsNetworkKey.generate(1);
const otherNetworkKey = BlsNetworkKey.generate(1);
const sessionSeed = ed25519.utils.randomSecretKey();
const sessionPub = Buffer.from(ed25519.getPublicKey(sessionSeed)).toString('hex');
const wallet = ethers.Wallet.createRandom();
const stranger = ethers.Wallet.createRandom();
const pkpAddress = ethers.Wallet.createRandom().address;

// Blocks the verifier knows: a recent one (the default capability nonce) and one 31 days old.
const RECENT_BLOCK = '0xabcdef0123456789';
const OLD_BLOCK = '0x0123456789abcdef';
const BLOCKS = new Map([
  [RECENT_BLOCK, { timestamp: (NOW - MIN) / 1000 }],
  [OLD_BLOCK, { timestamp: (NOW - 31 * DAY) / 1000 }],
]);

const CTX: VerifyContext = {
  nodeAddress: '127.0.0.1:7470',
  networkPublicKey: networkKey.publicKeyHex,
  nowMs: NOW,
  blockByHash: (hash) => BLOCKS.get(hash.toLowerCase()),
  requested: {
    resourcePrefix: 'lit-accesscontrolcondition',
    resourceId: 'aa11/bb22',
    ability: 'access-control-condition-decryption',
  },
};

interface CapabilityOpts {
  kind?: 'wallet' | 'bls';
  signer?: ethers.Wallet;
  blsKey?: BlsNetworkKey;
  address?: string;
  uri?: string;
  expirationTime?: string;
  grants?: 'decrypt-any' | 'pkp-only' | 'none';
  statement?: string;
  nonce?: string;
}

async function capability(opts: CapabilityOpts = {}): Promise<CapabilitySig> {
  const kind = opts.kind ?? 'wallet';
  const address = opts.address ?? (kind === 'wallet' ? wallet.address : pkpAddress);
  let siwe = new SiweMessage({
    domain: 'localhost',
    address,
    statement: 'Test session.',
    uri: opts.uri ?? `lit:session:${sessionPub}`,
    version: '1',
    chainId: 1,
    nonce: opts.nonce ?? RECENT_BLOCK,
    issuedAt: iso(-MIN),
    expirationTime: opts.expirationTime ?? iso(DAY),
  });
  const grants = opts.grants ?? 'decrypt-any';
  if (grants !== 'none') {
    const recap = new RecapSessionCapabilityObject({}, []);
    if (grants === 'decrypt-any') {
      recap.addCapabilityForResource(
        new LitAccessControlConditionResource('*'),
        LIT_ABILITY.AccessControlConditionDecryption,
      );
    } else {
      recap.addCapabilityForResource(new LitPKPResource('*'), LIT_ABILITY.PKPSigning);
    }
    siwe = recap.addToSiweMessage(siwe) as SiweMessage;
  }
  if (opts.statement !== undefined) siwe.statement = opts.statement;
  const signedMessage = siwe.prepareMessage();
  if (kind === 'wallet') {
    return {
      sig: await (opts.signer ?? wallet).signMessage(signedMessage),
      derivedVia: 'web3.eth.personal.sign',
      signedMessage,
      address,
    };
  }
  const share = (opts.blsKey ?? networkKey).share(1);
  return {
    // Drop the share-index byte: with threshold 1 the share is the whole signature.
    sig: JSON.stringify({
      ProofOfPossession: signShare(share, litSessionSigningHash(signedMessage)).slice(2),
    }),
    derivedVia: 'lit.bls',
    signedMessage,
    address,
    algo: 'LIT_BLS',
  };
}

function sessionSig(message: Record<string, unknown>, opts: { address?: string } = {}): SessionSig {
  const signedMessage = JSON.stringify(message);
  return {
    sig: Buffer.from(ed25519.sign(new TextEncoder().encode(signedMessage), sessionSeed)).toString('hex'),
    derivedVia: 'litSessionSignViaNacl',
    signedMessage,
    address: opts.address ?? sessionPub,
    algo: 'ed25519',
  };
}

function message(overrides: Record<string, unknown> = {}, capabilities: CapabilitySig[] = []) {
  return {
    sessionKey: sessionPub,
    resourceAbilityRequests: [
      {
        resource: { resource: '*', resourcePrefix: 'lit-accesscontrolcondition' },
        ability: 'access-control-condition-decryption',
      },
    ],
    capabilities,
    issuedAt: iso(0),
    expiration: iso(DAY),
    nodeAddress: NODE,
    ...overrides,
  };
}

function outcome(sig: SessionSig): string {
  try {
    return `ok:${verifySessionSig(sig, CTX).userAddress}`;
  } catch (e) {
    assert.ok(e instanceof LitNodeError, `expected a LitNodeError, got ${e}`);
    return e.code;
  }
}

describe('verifySessionSig accepts', () => {
  test('an EOA session, naming the wallet as the user', async () => {
    assert.equal(outcome(sessionSig(message({}, [await capability()]))), `ok:${wallet.address}`);
  });
  test('a PKP session signed by the network key, naming the PKP', async () => {
    const sig = sessionSig(message({}, [await capability({ kind: 'bls' })]));
    assert.equal(outcome(sig), `ok:${pkpAddress}`);
  });
  test('a session for exactly the requested resource', async () => {
    const exact = [
      {
        resource: { resource: 'aa11/bb22', resourcePrefix: 'lit-accesscontrolcondition' },
        ability: 'access-control-condition-decryption',
      },
    ];
    const sig = sessionSig(message({ resourceAbilityRequests: exact }, [await capability()]));
    assert.equal(outcome(sig), `ok:${wallet.address}`);
  });
  test('a session whose first capability is unrelated (a delegation) and last is valid', async () => {
    const delegation = await capability({
      uri: 'lit:capability:delegation',
      signer: stranger,
      address: stranger.address,
    });
    const sig = sessionSig(message({}, [delegation, await capability()]));
    assert.equal(outcome(sig), `ok:${wallet.address}`);
  });
  test('a node address written with localhost', async () => {
    const sig = sessionSig(message({ nodeAddress: 'http://localhost:7470' }, [await capability()]));
    assert.equal(outcome(sig), `ok:${wallet.address}`);
  });
});

describe('verifySessionSig refuses, with the node error code', () => {
  const cases: [string, () => Promise<SessionSig>, string][] = [
    [
      'a tampered session signature',
      async () => {
        const s = sessionSig(message({}, [await capability()]));
        return { ...s, sig: (s.sig[0] === 'a' ? 'b' : 'a') + s.sig.slice(1) };
      },
      'NodeInvalidAuthSigSessionKeySignature',
    ],
    [
      'a signed message changed after signing',
      async () => {
        const s = sessionSig(message({}, [await capability()]));
        return { ...s, signedMessage: s.signedMessage.replace(iso(DAY), iso(2 * DAY)) };
      },
      'NodeInvalidAuthSigSessionKeySignature',
    ],
    [
      'a session key that is not hex',
      async () => sessionSig(message({}, [await capability()]), { address: 'zz' }),
      'NodeAuthSigAddressConversionError',
    ],
    [
      'a signed message that is not JSON',
      async () => {
        const signedMessage = 'not json';
        const sig = Buffer.from(ed25519.sign(new TextEncoder().encode(signedMessage), sessionSeed)).toString(
          'hex',
        );
        return { sig, derivedVia: 'litSessionSignViaNacl', signedMessage, address: sessionPub };
      },
      'NodeAuthSigSignedMessageConversionError',
    ],
    [
      'a session not requesting the resource',
      async () => {
        const pkpOnly = [{ resource: { resource: '*', resourcePrefix: 'lit-pkp' }, ability: 'pkp-signing' }];
        return sessionSig(message({ resourceAbilityRequests: pkpOnly }, [await capability()]));
      },
      'NodeResourceIdNotFound',
    ],
    [
      'a session issued 2 minutes in the future',
      async () => sessionSig(message({ issuedAt: iso(2 * MIN) }, [await capability()])),
      'NodeIatOutsideGracePeriod',
    ],
    [
      'an expired session',
      async () =>
        sessionSig(message({ issuedAt: iso(-2 * DAY), expiration: iso(-DAY) }, [await capability()])),
      'NodeExpWrongOrTooLarge',
    ],
    [
      'a session expiring before it was issued',
      async () => sessionSig(message({ issuedAt: iso(0), expiration: iso(-1000) }, [await capability()])),
      'NodeExpWrongOrTooLarge',
    ],
    [
      'a session of more than 30 days',
      async () => sessionSig(message({ expiration: iso(31 * DAY) }, [await capability()])),
      'NodeSIWEMessageError',
    ],
    [
      'a session addressed to another node',
      async () => sessionSig(message({ nodeAddress: 'http://127.0.0.1:7471' }, [await capability()])),
      'NodeNotAuthorized',
    ],
    ['a session without capabilities', async () => sessionSig(message({}, [])), 'NodeSIWECapabilityInvalid'],
    [
      'a capability signed by someone else than its address',
      async () => sessionSig(message({}, [await capability({ signer: stranger })])),
      'NodeSIWEMessageError',
    ],
    [
      'an expired capability',
      async () => sessionSig(message({}, [await capability({ expirationTime: iso(-1000) })])),
      'NodeSIWEMessageError',
    ],
    [
      'a capability for another session key',
      async () => sessionSig(message({}, [await capability({ uri: `lit:session:${'ab'.repeat(32)}` })])),
      'NodeSIWEMessageError',
    ],
    [
      'a capability without recap',
      async () => sessionSig(message({}, [await capability({ grants: 'none' })])),
      'NodeSIWECapabilityInvalid',
    ],
    [
      'a capability granting only PKP signing',
      async () => sessionSig(message({}, [await capability({ grants: 'pkp-only' })])),
      'NodeSIWECapabilityInvalid',
    ],
    [
      'a capability whose statement does not carry the recap',
      async () => sessionSig(message({}, [await capability({ statement: 'Nothing to see.' })])),
      'NodeSIWECapabilityInvalid',
    ],
    [
      'an EOA capability whose nonce is a random 32-byte value, not a blockhash of this chain',
      async () =>
        sessionSig(
          message({}, [await capability({ nonce: ethers.utils.hexlify(ethers.utils.randomBytes(32)) })]),
        ),
      'NodeInvalidBlockhash',
    ],
    [
      'an EOA capability whose nonce block is more than 30 days old',
      async () => sessionSig(message({}, [await capability({ nonce: OLD_BLOCK })])),
      'NodeInvalidBlockhash',
    ],
    [
      'a PKP capability signed by another network key',
      async () => sessionSig(message({}, [await capability({ kind: 'bls', blsKey: otherNetworkKey })])),
      'NodeSIWEMessageError',
    ],
    [
      'an expired PKP capability',
      async () => sessionSig(message({}, [await capability({ kind: 'bls', expirationTime: iso(-1000) })])),
      'NodeSIWEMessageError',
    ],
  ];
  for (const [name, build, expected] of cases) {
    test(name, async () => assert.equal(outcome(await build()), expected));
  }
});

test('normaliseNodeAddress strips the scheme and maps localhost', () => {
  assert.equal(normaliseNodeAddress('http://localhost:7470/'), '127.0.0.1:7470');
  assert.equal(normaliseNodeAddress('https://127.0.0.1:443'), '127.0.0.1:443');
  assert.equal(normaliseNodeAddress('127.0.0.1:1'), '127.0.0.1:1');
});
