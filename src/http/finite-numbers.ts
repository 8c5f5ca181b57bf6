/**
 * No request reaches a handler with a number that is not finite. Ajv's type coercion turns the
 * query string `limit=Infinity` (or `1e999`) into Infinity and then skips `minimum`/`maximum`,
 * which it only checks on finite numbers; JSON.parse turns `1e999` in a body into Infinity too.
 * This hook runs after validation and answers such a request 400, naming the field and, where the
 * route's schema has them, its bounds.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';
import { validationMessage } from './validation-message.js';

type Part = 'querystring' | 'params' | 'body';
const PARTS: Array<[Part, (r: FastifyRequest) => unknown]> = [
  ['querystring', (r) => r.query],
  ['params', (r) => r.params],
  ['body', (r) => r.body],
];

interface Step {
  node: unknown;
  key: string;
  parent: Step | null;
}

/** Parsed JSON or a query (whatever its prototype), not a Buffer or a stream. */
const isParsedData = (v: object) => !ArrayBuffer.isView(v) && typeof (v as { pipe?: unknown }).pipe !== 'function';

/** The path (keys from the root) to the first non-finite number in parsed JSON or a query, or null. Iterative: bodies may nest deeply. */
export function nonFinitePath(value: unknown): string[] | null {
  const stack: Step[] = [{ node: value, key: '', parent: null }];
  while (stack.length) {
    const step = stack.pop()!;
    const { node } = step;
    if (typeof node === 'number' && !Number.isFinite(node)) {
      const path: string[] = [];
      for (let s: Step | null = step; s?.parent; s = s.parent) path.unshift(s.key);
      return path;
    }
    // a Buffer or stream body is not parsed data: nothing to look at
    if (typeof node === 'object' && node !== null && isParsedData(node))
      for (const [key, child] of Object.entries(node)) stack.push({ node: child, key, parent: step });
  }
  return null;
}

/** The schema of a path that goes through `properties` only (query strings and params are flat). */
function schemaAt(schema: unknown, path: string[]): Record<string, unknown> | undefined {
  let node = schema as { properties?: Record<string, unknown> } | undefined;
  for (const key of path) node = node?.properties?.[key] as typeof node;
  return node as Record<string, unknown> | undefined;
}

function refusal(part: Part, path: string[], value: number, schema: unknown): VigilError {
  const bound = value > 0 ? 'maximum' : 'minimum';
  const declared = schemaAt(schema, path);
  const error =
    typeof declared?.[bound] === 'number'
      ? {
          keyword: bound,
          instancePath: `/${path.join('/')}`,
          schemaPath: `#/${path.map((k) => `properties/${k}`).join('/')}/${bound}`,
          params: { limit: declared[bound] },
        }
      : { keyword: 'finite', instancePath: `/${path.join('/')}`, message: 'must be a finite number' };
  const { field, message } = validationMessage([error], part, schema);
  return new VigilError('VIGIL_ERR_BAD_REQUEST', `${message} (got ${value})`, { field });
}

export function addFiniteNumberCheck(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    for (const [part, read] of PARTS) {
      const data = read(request);
      if (typeof data !== 'object' || data === null) continue;
      const path = nonFinitePath(data);
      if (!path) continue;
      const value = path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], data) as number;
      throw refusal(part, path, value, request.routeOptions.schema?.[part]);
    }
  });
}
