/**
 * Devnet persistence (`startDevnet({ stateFile })`), which the demo relies on to come back as the
 * same Lit network: same endpoints and network key, the PKPs and their controllers, the epoch, and
 * session sigs minted before a restart still decrypt after it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ethers } from 'ethers';
import { createActivities } from '../../src/activities';
import { type Devnet, DevnetStateError, loadDevnetState, startDevnet } from '../../src/devnet';
import { disposeLitClient } from '../../src/lit/lit-client-lifecycle';
import { LitClientPool } from '../../src/lit/lit-client-pool';
import { resolveNetworkTarget } from '../../src/lit/network-targets';
import { DEFAULT_RESOURCE_ABILITY_REQUESTS } from '../../src/shared/agent-spec';
import type { MintRequest } from '../../src/shared/types';
import { connected, decryptWith, encryptFor } from '../devnet/helpers';

let dir: string;
const open: Devnet[] = [];

async function start(opts: Parameters<typeof startDevnet>[0]): Promise<Devnet> {
  const d = await startDevnet({ blockTimeMs: 1000, ...opts });
  open.push(d);
  return d;
}

async function stop(d: Devnet): Promise<void> {
  await d.close();
  open.splice(open.indexOf(d), 1);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'devnet-state-'));
});

after(async () => {
  await Promise.all(open.map((d) => d.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('devnet state file', () => {
  test('a restarted devnet is the same network: endpoints, key, epoch, PKPs and controllers', async () => {
    const file = join(dir, 'same', 'devnet.json');
    const controller = ethers.Wallet.createRandom().address;
    const second = ethers.Wallet.createRandom().address;
    const first = await start({ stateFile: file });
    assert.equal(first.restored, false);
    const pkp = first.mintPkp([controller]);
    first.setPkpController(pkp.publicKey, second);
    await first.advanceEpoch();
    const info = first.info();
    assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'the file holds the network secret');
    await stop(first);

    const again = await start({ stateFile: file });
    assert.equal(again.restored, true);
    assert.deepEqual(again.info(), info);
    assert.equal(again.epoch, 2);
    assert.deepEqual(again.pkp(pkp.publicKey)?.permittedAddresses.sort(), [controller, second].sort());
    assert.equal(again.pkp(pkp.publicKey)?.ethAddress, pkp.ethAddress);
  });

  test('options that would change the saved network are refused, naming the file', async () => {
    const file = join(dir, 'conflict.json');
    await stop(await start({ stateFile: file, nodes: 3 }));
    await assert.rejects(start({ stateFile: file, nodes: 4 }), (err: Error) => {
      assert.match(err.message, /saved with nodes 3 \(not 4\)/);
      assert.ok(err.message.includes(file));
      return true;
    });
    await assert.rejects(start({ stateFile: file, basePort: 45000 }), /base port 0 \(not 45000\)/);
    // The same settings are fine.
    await stop(await start({ stateFile: file, nodes: 3, threshold: 2 }));
  });

  test('an unreadable state file is an error saying to delete it', async () => {
    const file = join(dir, 'broken.json');
    fs.writeFileSync(file, '{"version": 1, "chainId": "x"}');
    await assert.rejects(start({ stateFile: file }), (err: Error) => {
      assert.ok(err instanceof DevnetStateError);
      assert.match(err.message, /delete it to start a new network/);
      return true;
    });
    fs.writeFileSync(file, 'not json');
    assert.throws(() => loadDevnetState(file), /not valid JSON/);
  });

  test('session sigs minted before a restart still decrypt after it (EOA and PKP)', async () => {
    const file = join(dir, 'sigs.json');
    const wallet = ethers.Wallet.createRandom();
    const devnet = await start({ stateFile: file });
    const pkp = devnet.mintPkp([wallet.address]);
    const networks = { custom: { devnet: devnet.networkConfig() } };
    const pool = new LitClientPool({
      resolveNetwork: (name) => resolveNetworkTarget(name, networks),
      handshakeTimeoutMs: 1_000,
      reprobeIntervalMs: 0,
    });
    const activities = createActivities({
      pool,
      signerEnvironment: { env: { KEY: wallet.privateKey }, readFile: () => '' },
      mintTimeoutMs: 10_000,
    });
    const request: MintRequest = {
      agentId: 'a',
      network: 'devnet',
      mode: 'eoa',
      signer: 'env:KEY',
      resourceAbilityRequests: DEFAULT_RESOURCE_ABILITY_REQUESTS,
      sessionTtlMs: 600_000,
      generation: 1,
    };
    let eoaSigs: Record<string, any>;
    let pkpSigs: Record<string, any>;
    try {
      eoaSigs = (await activities.mintSessionSigs(request)).sessionSigs;
      pkpSigs = (await activities.mintSessionSigs({ ...request, mode: 'pkp', pkpPublicKey: pkp.publicKey }))
        .sessionSigs;
    } finally {
      await pool.close();
    }
    await stop(devnet);

    const restored = await start({ stateFile: file });
    const client = await connected(restored.networkConfig());
    try {
      for (const [sigs, address] of [
        [eoaSigs, wallet.address],
        [pkpSigs, pkp.ethAddress],
      ] as const) {
        const encrypted = await encryptFor(client, address, 'still the same network');
        assert.equal(await decryptWith(client, sigs, encrypted), 'still the same network');
      }
    } finally {
      await disposeLitClient(client);
    }
  });
});
