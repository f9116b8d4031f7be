/**
 * Access-control conditions on the node side: the canonical form and hash the SDK's `encrypt`
 * bound the ciphertext to (the node signs the identity built from this hash, so it must hash
 * exactly the conditions it evaluated), and evaluation of the conditions a devnet can decide
 * without a real chain: `:userAddress` compared with `=` / `!=`, combined with `and` / `or`.
 */
import { createHash } from 'node:crypto';
import { litError } from './lit-errors';

export type ConditionKind = 'accessControlConditions' | 'unifiedAccessControlConditions';

export interface AtomicCondition {
  contractAddress: string;
  chain: string;
  standardContractType: string;
  method: string;
  parameters: string[];
  returnValueTest: { comparator: string; value: string };
}

export type ConditionItem = AtomicCondition | { operator: string } | ConditionItem[];

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** The SDK's `canonicalAccessControlConditionFormatter`: fixed keys, fixed order. */
function canonicalAtomic(c: Record<string, unknown>): AtomicCondition {
  const rvt = isObject(c.returnValueTest) ? c.returnValueTest : {};
  return {
    contractAddress: c.contractAddress as string,
    chain: c.chain as string,
    standardContractType: c.standardContractType as string,
    method: c.method as string,
    parameters: c.parameters as string[],
    returnValueTest: { comparator: rvt.comparator as string, value: rvt.value as string },
  };
}

export function canonicalizeConditions(kind: ConditionKind, conditions: unknown): ConditionItem[] {
  if (!Array.isArray(conditions) || conditions.length === 0) {
    throw litError('NodeMissingAccessControlConditions', `${kind} must be a non-empty list`);
  }
  const one = (c: unknown): ConditionItem => {
    if (Array.isArray(c)) return c.map(one);
    if (!isObject(c))
      throw litError('NodeBadInput', 'an access control condition must be an object or a list');
    if ('operator' in c) return { operator: c.operator as string };
    if (!('returnValueTest' in c))
      throw litError('NodeBadInput', 'access control condition lacks returnValueTest');
    if (kind === 'unifiedAccessControlConditions' && c.conditionType !== 'evmBasic') {
      throw litError(
        'NodeBadInput',
        `the devnet evaluates only evmBasic conditions; got conditionType ${JSON.stringify(c.conditionType)}`,
      );
    }
    return canonicalAtomic(c);
  };
  return conditions.map(one);
}

/** Hex SHA-256 of the canonical JSON, as the SDK computes `hashOfConditions`. */
export function hashConditions(canonical: ConditionItem[]): string {
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

export interface EvaluationContext {
  userAddress: string;
}

function evaluateAtomic(c: AtomicCondition, ctx: EvaluationContext): boolean {
  const supported =
    Array.isArray(c.parameters) &&
    c.parameters.length === 1 &&
    c.parameters[0] === ':userAddress' &&
    !c.method &&
    !c.standardContractType &&
    (c.returnValueTest.comparator === '=' || c.returnValueTest.comparator === '!=');
  if (!supported) {
    throw litError(
      'NodeBadInput',
      'the devnet evaluates only conditions of the form {parameters: [":userAddress"], returnValueTest: {comparator: "=" | "!=", value}}',
    );
  }
  const equal = String(c.returnValueTest.value).toLowerCase() === ctx.userAddress.toLowerCase();
  return c.returnValueTest.comparator === '=' ? equal : !equal;
}

/** Evaluates left to right; nested lists are parenthesised groups. */
export function evaluateConditions(items: ConditionItem[], ctx: EvaluationContext): boolean {
  let result: boolean | undefined;
  let pending: 'and' | 'or' | undefined;
  for (const item of items) {
    if (!Array.isArray(item) && 'operator' in item) {
      const op = String(item.operator).toLowerCase();
      if ((op !== 'and' && op !== 'or') || result === undefined || pending) {
        throw litError('NodeBadInput', `misplaced or unknown operator ${JSON.stringify(item.operator)}`);
      }
      pending = op;
      continue;
    }
    const value = Array.isArray(item) ? evaluateConditions(item, ctx) : evaluateAtomic(item, ctx);
    if (result === undefined) result = value;
    else if (!pending) throw litError('NodeBadInput', 'two conditions without an operator between them');
    else result = pending === 'and' ? result && value : result || value;
    pending = undefined;
  }
  if (result === undefined || pending) throw litError('NodeBadInput', 'conditions end without a condition');
  return result;
}
