/**
 * A schema error in plain words: `name: lowercase letters, digits, _ . -, starting with a letter`
 * instead of the validator's `body/name must match pattern "^[a-z]..."`. The words come from the
 * failed keyword and, where the keyword alone says too little (a pattern, a range), from the schema
 * the route declared: a pattern's `description` says what it accepts.
 */

/** The parts of an Ajv error this module reads. */
export interface SchemaError {
  keyword: string;
  instancePath?: string;
  schemaPath?: string;
  params?: Record<string, unknown>;
  message?: string;
}

type Schema = Record<string, unknown>;
const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'a JSON object',
  null: 'null',
};

const FORMAT_WORDS: Record<string, string> = {
  'date-time': 'an ISO 8601 date-time such as 2026-11-27T12:00:00Z',
  date: 'a date such as 2026-11-27',
  email: 'an e-mail address',
  uri: 'a URL',
  uuid: 'a UUID',
};

const WHERE: Record<string, string> = {
  body: 'the request body',
  querystring: 'the query string',
  params: 'the path',
  headers: 'the headers',
};

/** The field an error is about, as a dotted path (`name`, `definition.filters.0`), or null for the whole part. */
export function fieldOf(e: SchemaError | undefined): string | null {
  if (!e) return null;
  const path = (e.instancePath ?? '').split('/').filter(Boolean);
  if (typeof e.params?.missingProperty === 'string') path.push(e.params.missingProperty);
  if (typeof e.params?.additionalProperty === 'string') path.push(e.params.additionalProperty);
  return path.length ? path.join('.') : null;
}

/** The sub-schema a JSON pointer such as `#/properties/name/pattern` leads to, minus its last step. */
function parentSchema(root: unknown, schemaPath: string | undefined): Schema | undefined {
  if (!schemaPath?.startsWith('#/')) return undefined;
  const steps = schemaPath
    .slice(2)
    .split('/')
    .map((s) => decodeURIComponent(s.replace(/~1/g, '/').replace(/~0/g, '~')));
  let node: unknown = root;
  for (const step of steps.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(step)];
    else if (isSchema(node)) node = node[step];
    else return undefined;
  }
  return isSchema(node) ? node : undefined;
}

const quoted = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

function oneOf(values: unknown[]): string {
  const shown = values.map(quoted);
  return shown.length === 1 ? `must be ${shown[0]}` : `must be one of: ${shown.join(', ')}`;
}

function range(schema: Schema | undefined, fallback: string): string {
  const min = schema?.minimum ?? schema?.exclusiveMinimum;
  const max = schema?.maximum ?? schema?.exclusiveMaximum;
  const what = schema?.type === 'integer' ? 'a whole number' : 'a number';
  if (typeof min === 'number' && typeof max === 'number') return `must be ${what} from ${min} to ${max}`;
  return fallback;
}

function words(e: SchemaError, schema: Schema | undefined, all: SchemaError[]): string {
  const p = e.params ?? {};
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a field this request takes';
    case 'type':
      return `must be ${String(p.type)
        .split(',')
        .map((t) => TYPE_WORDS[t] ?? t)
        .join(' or ')}`;
    case 'const':
      return oneOf([p.allowedValue]);
    case 'enum':
      return oneOf(Array.isArray(p.allowedValues) ? p.allowedValues : []);
    case 'anyOf':
    case 'oneOf': {
      // a union of literals fails once per literal: together they are the list of what is accepted
      const constants = all.filter((o) => o.keyword === 'const' && o.instancePath === e.instancePath).map((o) => o.params?.allowedValue);
      if (constants.length) return oneOf(constants);
      // a union of other kinds says what it accepts in its description, as a pattern does
      return typeof schema?.description === 'string' ? schema.description : 'does not have any of the accepted forms';
    }
    case 'pattern':
      return typeof schema?.description === 'string' ? schema.description : 'is not in the accepted form';
    case 'format':
      return `must be ${FORMAT_WORDS[String(p.format)] ?? `a valid ${String(p.format)}`}`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long`;
    case 'maxLength':
      return `must be at most ${String(p.limit)} characters long`;
    case 'minimum':
    case 'exclusiveMinimum':
      return range(schema, `must be ${e.keyword === 'minimum' ? 'at least' : 'more than'} ${String(p.limit)}`);
    case 'maximum':
    case 'exclusiveMaximum':
      return range(schema, `must be ${e.keyword === 'maximum' ? 'at most' : 'less than'} ${String(p.limit)}`);
    case 'minItems':
      return `must hold at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must hold at most ${String(p.limit)} items`;
    default:
      return e.message ?? 'is not valid';
  }
}

/**
 * The one sentence a 400 says for a request that failed its schema. `context` is the part that
 * failed (body, querystring, params, headers); `schema` the route's schema for that part.
 */
export function validationMessage(
  errors: SchemaError[],
  context: string | undefined,
  schema: unknown,
): { field: string | null; message: string } {
  // a union reports each branch first and itself last: the union's own error is the one to explain
  const e = errors.find((o) => o.keyword === 'anyOf' || o.keyword === 'oneOf') ?? errors[0];
  if (!e) return { field: null, message: `${WHERE[context ?? ''] ?? 'the request'} is not valid` };
  const field = fieldOf(e);
  const said = words(e, parentSchema(schema, e.schemaPath), errors);
  return { field, message: field ? `${field}: ${said}` : `${WHERE[context ?? ''] ?? 'the request'} ${said}` };
}
