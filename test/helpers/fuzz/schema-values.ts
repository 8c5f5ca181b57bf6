/**
 * Valid values from the JSON schemas of the OpenAPI document (what TypeBox produced for each route),
 * so a mutation of them gets past validation into the handler.
 */
import type { Rng } from './prng.js';
import type { Json } from './hostile.js';

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: Json[];
  const?: Json;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  format?: string;
  default?: Json;
  nullable?: boolean;
}

/** Strings that satisfy the patterns the schemas use, tried in order. */
function stringFor(rng: Rng, s: JsonSchema): string {
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? 40;
  if (s.format === 'date-time') return new Date(Date.now() - rng.int(0, 30 * 86_400_000)).toISOString();
  if (s.format === 'email') return `${rng.word()}@fuzz.test`;
  const candidates = [
    rng.word(Math.max(1, min), Math.max(1, Math.min(max, 12))),
    String(rng.int(1, 99)),
    `#${rng.pick(['a1b2c3', '00ff00', 'ffffff'])}`,
    '',
    rng.word(3, 6).toUpperCase(),
  ];
  if (s.pattern) {
    const re = new RegExp(s.pattern);
    const hit = candidates.find((c) => re.test(c) && c.length >= min && c.length <= max);
    if (hit !== undefined) return hit;
  }
  let w = rng.word(Math.max(1, min), Math.max(1, Math.min(max, 16)));
  while (w.length < min) w += 'x';
  return w.slice(0, Math.max(min, Math.min(max, w.length)));
}

function numberFor(rng: Rng, s: JsonSchema, integer: boolean): number {
  const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 0);
  const hi = Math.min(s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : lo + 100), lo + 1000);
  const n = lo + rng.next() * Math.max(0, hi - lo);
  return integer ? Math.max(Math.ceil(lo), Math.min(Math.floor(hi), Math.round(n))) : n;
}

/** A value valid for `schema` (best effort: patterns and formats are approximated). */
export function validValue(rng: Rng, schema: JsonSchema | undefined, resolve: (ref: string) => JsonSchema, depth = 0): Json {
  if (!schema) return {};
  if (schema.$ref) return validValue(rng, resolve(schema.$ref), resolve, depth);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return rng.pick(schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return validValue(rng, rng.pick(alternatives), resolve, depth);
  if (schema.allOf) {
    const merged: JsonSchema = { type: 'object', properties: {}, required: [] };
    for (const part of schema.allOf) {
      const p = part.$ref ? resolve(part.$ref) : part;
      Object.assign(merged.properties!, p.properties);
      merged.required!.push(...(p.required ?? []));
    }
    return validValue(rng, merged, resolve, depth);
  }
  let type = Array.isArray(schema.type) ? rng.pick(schema.type) : schema.type;
  if (type === undefined) type = schema.properties ? 'object' : undefined;
  if (schema.nullable && rng.chance(0.1)) return null;
  switch (type) {
    case 'object': {
      const out: Record<string, Json> = {};
      for (const [k, p] of Object.entries(schema.properties ?? {})) {
        if ((schema.required ?? []).includes(k) || (depth < 4 && rng.chance(0.5))) out[k] = validValue(rng, p, resolve, depth + 1);
      }
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object' && depth < 4) {
        for (let i = rng.int(0, 2); i > 0; i--) out[rng.word()] = validValue(rng, schema.additionalProperties, resolve, depth + 1);
      }
      return out;
    }
    case 'array': {
      const min = schema.minItems ?? 0;
      const n = depth > 4 ? min : rng.int(min, Math.max(min, Math.min(schema.maxItems ?? min + 3, min + 3)));
      const items = Array.from({ length: n }, () => validValue(rng, schema.items, resolve, depth + 1));
      return schema.uniqueItems ? [...new Map(items.map((i) => [JSON.stringify(i), i])).values()] : items;
    }
    case 'string':
      return stringFor(rng, schema);
    case 'integer':
      return numberFor(rng, schema, true);
    case 'number':
      return numberFor(rng, schema, false);
    case 'boolean':
      return rng.chance(0.5);
    case 'null':
      return null;
    default:
      return schema.default ?? {};
  }
}
