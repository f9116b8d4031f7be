/**
 * Before an agent starts: do its key references resolve on this machine? The worker resolves
 * them, and the CLI cannot see the worker's environment, so the answer is only a hint unless the
 * worker shares this machine (the demo, the local cluster, a dev server on loopback). Then a
 * reference that does not resolve here is an error: starting the agent would only park it
 * `failed` on its first mint.
 */
import fs from 'node:fs';
import { keyFileProblem } from '../shared/key-file-policy';
import type { AgentSpec } from '../shared/types';

export interface ReferenceProblem {
  agentId: string;
  /** The spec field: `signer` or `capacityDelegation.signer`. */
  field: string;
  reference: string;
  problem: string;
}

export interface Here {
  env: NodeJS.ProcessEnv;
  /** The key file policy's verdict on a path, or the reason it cannot be read. */
  keyFileProblem: (path: string) => string | undefined;
}

function localKeyFileProblem(p: string): string | undefined {
  try {
    const link = fs.lstatSync(p);
    const target = fs.statSync(p);
    fs.accessSync(p, fs.constants.R_OK);
    return keyFileProblem(
      {
        link: { isSymbolicLink: link.isSymbolicLink(), uid: link.uid },
        target: { isFile: target.isFile(), mode: target.mode, uid: target.uid, size: target.size },
      },
      process.getuid?.() ?? 0,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`;
  }
}

const HERE: Here = { env: process.env, keyFileProblem: localKeyFileProblem };

/** The references a spec names, by field. */
function referencesOf(spec: AgentSpec): { field: string; reference: string }[] {
  return [
    ...(spec.signer !== undefined ? [{ field: 'signer', reference: spec.signer }] : []),
    ...(spec.capacityDelegation
      ? [{ field: 'capacityDelegation.signer', reference: spec.capacityDelegation.signer }]
      : []),
  ];
}

/** The references of `specs` that do not resolve here, each with why. */
export function unresolvedReferences(specs: readonly AgentSpec[], here: Here = HERE): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  for (const spec of specs) {
    for (const { field, reference } of referencesOf(spec)) {
      let problem: string | undefined;
      if (reference.startsWith('env:')) {
        const name = reference.slice(4);
        if (!here.env[name])
          problem = `environment variable ${name} is not set here; set it here and in the worker's environment`;
      } else if (reference.startsWith('file:')) {
        const p = here.keyFileProblem(reference.slice(5));
        if (p) problem = `key file ${p}`;
      }
      if (problem) problems.push({ agentId: spec.agentId, field, reference, problem });
    }
  }
  return problems;
}

/** Pure: one line for a problem, naming the agent, the field and the fix. */
export function describeReferenceProblem(p: ReferenceProblem): string {
  return `agent ${p.agentId}: ${p.field} ${p.reference}: ${p.problem}`;
}
