/**
 * Registers the keeper's custom search attributes on a namespace (operator service), once per
 * cluster. Idempotent: attributes already registered with the right type are left alone; one
 * registered with another type is an error (Temporal cannot change a type).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_TYPES } from '../shared/search-attributes';
import { GRPC, grpcCode, SessionKeeperError } from './errors';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

const TYPE_CODES: Record<'Keyword' | 'Datetime' | 'Int', temporal.api.enums.v1.IndexedValueType> = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

export interface SearchAttributeSetupRow {
  name: string;
  type: string;
  /** `registered` now, or `present` already. */
  result: 'registered' | 'present';
}

function typeName(code: number | null | undefined): string {
  return (IndexedValueType[code ?? 0] ?? 'UNSPECIFIED').replace(/^INDEXED_VALUE_TYPE_/, '');
}

/** Pure: which attributes to add, and which exist with a conflicting type. */
export function planSearchAttributes(
  existing: Record<string, number>,
  wanted: Record<string, 'Keyword' | 'Datetime' | 'Int'> = SEARCH_ATTRIBUTE_TYPES,
): { add: Record<string, number>; present: string[]; conflicts: string[] } {
  const add: Record<string, number> = {};
  const present: string[] = [];
  const conflicts: string[] = [];
  for (const [name, type] of Object.entries(wanted)) {
    const want = TYPE_CODES[type];
    const have = existing[name];
    if (have === undefined) add[name] = want;
    else if (have === want) present.push(name);
    else conflicts.push(`${name} is ${typeName(have)}, needs ${typeName(want)}`);
  }
  return { add, present, conflicts };
}

export async function registerSearchAttributes(
  client: Client,
  namespace: string,
): Promise<SearchAttributeSetupRow[]> {
  const operator = client.connection.operatorService;
  const list = async () => {
    const res = await operator.listSearchAttributes({ namespace });
    return Object.fromEntries(Object.entries(res.customAttributes ?? {}).map(([k, v]) => [k, Number(v)]));
  };
  const plan = planSearchAttributes(await list());
  if (plan.conflicts.length) {
    throw new SessionKeeperError(
      `namespace "${namespace}" has search attributes with the wrong type (${plan.conflicts.join('; ')}); ` +
        'remove them (`temporal operator search-attribute remove`) and run setup again',
    );
  }
  if (Object.keys(plan.add).length) {
    try {
      await operator.addSearchAttributes({ namespace, searchAttributes: plan.add });
    } catch (err) {
      // Another setup raced us: fine if the attributes now exist with the right types.
      if (grpcCode(err) !== GRPC.ALREADY_EXISTS) throw err;
    }
    const after = planSearchAttributes(await list());
    const missing = Object.keys(after.add);
    if (missing.length || after.conflicts.length) {
      throw new SessionKeeperError(
        `namespace "${namespace}": search attributes ${[...missing, ...after.conflicts].join(', ')} still not registered; check the server's logs`,
      );
    }
  }
  return Object.entries(SEARCH_ATTRIBUTE_TYPES).map(([name, type]) => ({
    name,
    type,
    result: plan.add[name] !== undefined ? 'registered' : 'present',
  }));
}
