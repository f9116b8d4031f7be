/**
 * The part of JSON Schema the published examples' mocha specs use (`chai-json-schema`, i.e. tv4):
 * `type` (one or a list; tv4's extra `undefined`), `properties`, `required`, `patternProperties`,
 * `additionalProperties: false`, `pattern`. As in tv4, a property whose value is `undefined` counts
 * as absent. Returns the violations, empty when the value matches.
 */
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  pattern?: string;
}

function typeOf(v: unknown): string[] {
  if (v === undefined) return ['undefined'];
  if (v === null) return ['null'];
  if (Array.isArray(v)) return ['array'];
  if (typeof v === 'number') return Number.isInteger(v) ? ['integer', 'number'] : ['number'];
  return [typeof v];
}

export function schemaViolations(value: unknown, schema: Schema, at = '$'): string[] {
  const out: string[] = [];
  if (schema.type !== undefined) {
    const allowed = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!typeOf(value).some((t) => allowed.includes(t))) {
      out.push(`${at}: expected ${allowed.join(' | ')}, got ${typeOf(value)[0]} ${short(value)}`);
      return out;
    }
  }
  if (schema.pattern !== undefined && typeof value === 'string' && !new RegExp(schema.pattern).test(value)) {
    out.push(`${at}: ${short(value)} does not match /${schema.pattern}/`);
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (obj[key] === undefined) out.push(`${at}: required property ${key} is missing`);
    }
    for (const [key, v] of Object.entries(obj)) {
      let known = false;
      const own = schema.properties?.[key];
      if (own) {
        known = true;
        if (v !== undefined) out.push(...schemaViolations(v, own, `${at}.${key}`));
      }
      for (const [pattern, sub] of Object.entries(schema.patternProperties ?? {})) {
        if (new RegExp(pattern).test(key)) {
          known = true;
          out.push(...schemaViolations(v, sub, `${at}[${JSON.stringify(key)}]`));
        }
      }
      if (!known && schema.additionalProperties === false) out.push(`${at}: property ${key} is not allowed`);
    }
  }
  return out;
}

function short(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
