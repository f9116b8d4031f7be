/**
 * Spec validation as `startAgent` does it, without a Temporal connection: the CLI checks flags
 * before connecting, so a bad spec fails fast and starts nothing even when Temporal is down.
 */
import { AgentSpecError, type AgentSpecInput, BUILT_IN_NETWORKS, parseAgentSpec } from '../shared/agent-spec';
import { knownNetworkNames, loadNetworkConfig, type NetworkConfig } from '../shared/network-config';
import { checkedSpec } from '../shared/spec-check';
import type { AgentSpec } from '../shared/types';

/**
 * Validates and normalises a spec; networks are the built-in ones plus those of `networks`
 * (default: LIT_NETWORKS_FILE / LIT_NETWORKS of `env`). Throws `AgentSpecError` listing every
 * bad field, or `NetworkConfigError` for a broken networks file.
 */
export function validateAgentSpec(
  input: AgentSpecInput | AgentSpec | unknown,
  opts: { env?: NodeJS.ProcessEnv; networks?: NetworkConfig } = {},
): AgentSpec {
  const networks = opts.networks ?? loadNetworkConfig(opts.env ?? process.env);
  const knownNetworks = knownNetworkNames(networks);
  // A spec this edge already parsed (the CLI validates before it connects, then starts) is taken
  // as it is once it passes the normalised check: one parse per spec, not one per hop.
  const checked = checkedSpec(input);
  if (checked.spec && [...BUILT_IN_NETWORKS, ...knownNetworks].includes(checked.spec.network))
    return checked.spec;
  return parseAgentSpec(input, { knownNetworks });
}

/**
 * Validates many specs at once: one `AgentSpecError` listing every bad field of every agent
 * (fields prefixed `agents[i] (id).`), duplicate agent ids included.
 */
export function validateAgentSpecs(
  inputs: unknown[],
  opts: { env?: NodeJS.ProcessEnv; networks?: NetworkConfig } = {},
): AgentSpec[] {
  const networks = opts.networks ?? loadNetworkConfig(opts.env ?? process.env);
  const issues: { field: string; message: string }[] = [];
  const specs: AgentSpec[] = [];
  const seen = new Map<string, number>();
  inputs.forEach((input, i) => {
    const id = (input as { agentId?: unknown } | null)?.agentId;
    const label = `agents[${i}]${typeof id === 'string' ? ` (${id})` : ''}`;
    try {
      const spec = validateAgentSpec(input, { networks });
      const first = seen.get(spec.agentId);
      if (first !== undefined) {
        issues.push({
          field: `${label}.agentId`,
          message: `duplicates agents[${first}]; agent ids must be unique`,
        });
      } else {
        seen.set(spec.agentId, i);
      }
      specs.push(spec);
    } catch (err) {
      if (!(err instanceof AgentSpecError)) throw err;
      for (const issue of err.issues)
        issues.push({ field: `${label}.${issue.field}`, message: issue.message });
    }
  });
  if (issues.length) throw new AgentSpecError(issues);
  return specs;
}
