/**
 * `agent start` with Lit Action auth: the flags build a `litAction` spec that parses, a spec file
 * with `litAction` goes through as it is, and spec errors name the flags.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import {
  parseAgentsFile,
  parseJsParams,
  readLitActionFile,
  specErrorForFlags,
  specInputFromFlags,
} from '../../src/cli/commands/agent';
import { AgentSpecError, parseAgentSpec } from '../../src/shared/agent-spec';

const PKP = `0x04${'cd'.repeat(64)}`;
const CID = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG';
const CODE = 'Lit.Actions.setResponse({ response: "true" });';

function specErrorOf(input: unknown): string {
  try {
    parseAgentSpec(input);
  } catch (err) {
    assert.ok(err instanceof AgentSpecError);
    return specErrorForFlags(err);
  }
  throw new Error('expected the spec to be refused');
}

test('--lit-action-file and --lit-action-params make a pkp agent that needs no --signer', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lit-action-'));
  const file = path.join(dir, 'action.js');
  fs.writeFileSync(file, CODE);
  const input = specInputFromFlags('a1', {
    network: 'datil-dev',
    mode: 'pkp',
    pkpPublicKey: PKP,
    litActionFile: readLitActionFile(file),
    litActionParams: parseJsParams('{"agent":"a1"}'),
  });
  const spec = parseAgentSpec(input);
  assert.deepEqual(spec.litAction, { code: CODE, jsParams: { agent: 'a1' } });
  assert.equal(spec.signer, undefined);
});

test('--lit-action-ipfs-id', () => {
  const input = specInputFromFlags('a2', {
    network: 'datil-dev',
    mode: 'pkp',
    pkpPublicKey: PKP,
    litActionIpfsId: CID,
  });
  assert.deepEqual(parseAgentSpec(input).litAction, { ipfsId: CID });
});

test('unreadable action files and non-JSON params are refused by the flag parsers', () => {
  assert.throws(() => readLitActionFile('/nonexistent/action.js'), InvalidArgumentError);
  assert.throws(() => parseJsParams('{agent: a1}'), InvalidArgumentError);
});

test('spec errors name the Lit Action flags', () => {
  const message = specErrorOf(
    specInputFromFlags('a3', {
      network: 'datil-dev',
      mode: 'pkp',
      pkpPublicKey: PKP,
      litActionIpfsId: 'nope',
      litActionParams: { key: `0x${'1'.repeat(64)}` },
    }),
  );
  assert.match(message, /--lit-action-ipfs-id: must be the IPFS CID/);
  assert.match(message, /--lit-action-params: looks like a private key/);
  assert.match(
    specErrorOf(
      specInputFromFlags('a4', {
        network: 'datil-dev',
        mode: 'pkp',
        pkpPublicKey: PKP,
        litActionFile: CODE,
        litActionIpfsId: CID,
      }),
    ),
    /--lit-action-file\/--lit-action-ipfs-id: give exactly one/,
  );
});

test('a --from-file spec with litAction goes through unchanged', () => {
  const [entry] = parseAgentsFile(
    JSON.stringify([
      { agentId: 'a5', network: 'devnet', mode: 'pkp', pkpPublicKey: PKP, litAction: { ipfsId: CID } },
    ]),
    'agents.json',
  );
  assert.deepEqual(parseAgentSpec(entry).litAction, { ipfsId: CID });
});
