/**
 * A webhook's custom headers (`config.headers`, e.g. `Authorization`) carry credentials, so their
 * values live with the destination's other secrets: the API takes them in `config.headers` like
 * any setting, the store keeps each value encrypted as the secret `header:<Name>`, and the API
 * shows the names with a mask. A mask sent back (a form round-trip) keeps the stored value.
 *
 * Rows saved before this kept the values in the clear in `config`: the store moves them into the
 * secrets the first time it reads such a row (a lazy move: a migration cannot encrypt, it has no
 * VIGIL_SECRET_KEY), and until then they are masked and sent like the others.
 */
import { badRequest } from '../errors.js';

export const HEADER_MASK = '••••••••';
const PREFIX = 'header:';

type Settings = Record<string, unknown>;
type Secrets = Record<string, string>;

const isObject = (v: unknown): v is Settings => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a stored config still holds header values in the clear. */
export const hasPlainHeaders = (config: Settings) => config.headers !== undefined;

/** The stored form: config without headers, the header values among the secrets (replacing the old ones). */
export function sealHeaders(config: Settings, secrets: Secrets): { config: Settings; secrets: Secrets } {
  const { headers, ...rest } = config;
  const sealed = Object.fromEntries(Object.entries(secrets).filter(([k]) => !k.startsWith(PREFIX)));
  if (isObject(headers)) for (const [name, value] of Object.entries(headers)) sealed[PREFIX + name] = String(value);
  return { config: rest, secrets: sealed };
}

/** The form a driver sends from: config.headers with their values, the other secrets apart. */
export function openHeaders(config: Settings, secrets: Secrets): { config: Settings; secrets: Secrets } {
  const headers: Secrets = isObject(config.headers)
    ? Object.fromEntries(Object.entries(config.headers).map(([k, v]) => [k, String(v)]))
    : {};
  const others: Secrets = {};
  for (const [k, v] of Object.entries(secrets)) {
    if (k.startsWith(PREFIX)) headers[k.slice(PREFIX.length)] = v;
    else others[k] = v;
  }
  const { headers: _plain, ...rest } = config;
  return { config: Object.keys(headers).length ? { ...rest, headers } : rest, secrets: others };
}

/** What the API shows: header names with masked values; the secret names that are set, headers aside. */
export function maskHeaders(config: Settings, secretNames: string[]): { config: Settings; secretNames: string[] } {
  const names = new Set(isObject(config.headers) ? Object.keys(config.headers) : []);
  for (const k of secretNames) if (k.startsWith(PREFIX)) names.add(k.slice(PREFIX.length));
  const { headers: _plain, ...rest } = config;
  return {
    config: names.size ? { ...rest, headers: Object.fromEntries([...names].map((n) => [n, HEADER_MASK])) } : rest,
    secretNames: secretNames.filter((k) => !k.startsWith(PREFIX)),
  };
}

/** A request's config with each masked header value replaced by the stored one (a 400 when there is none). */
export function unmaskHeaders(input: unknown, stored: Settings): unknown {
  if (!isObject(input) || !isObject(input.headers)) return input;
  const known = isObject(stored.headers) ? stored.headers : {};
  const headers = Object.fromEntries(
    Object.entries(input.headers).map(([name, value]) => {
      if (value !== HEADER_MASK) return [name, value];
      if (typeof known[name] !== 'string')
        throw badRequest(`config.headers.${name}: send its value (${HEADER_MASK} stands for a stored one, and none is stored)`, {
          field: `config.headers.${name}`,
        });
      return [name, known[name]];
    }),
  );
  return { ...input, headers };
}
