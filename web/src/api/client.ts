/**
 * The one way the app talks to the server: same-origin fetch with the session cookie, JSON in and
 * out, the CSRF header on every change, and server errors as `ApiError` (the server's
 * `{error: {code, message, details: {field}}}`), so a form can show the message next to its field.
 */

/** The header cookie-authenticated writes need (src/auth/sessions.ts CSRF_HEADER). */
export const CSRF_HEADER = 'x-csrf-token';

let csrfToken: string | null = null;

/** Set from every answer that carries one (sign-in, setup, GET /api/auth/me). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The request field the error is about (`email`, `definition.event`), when the server says. */
  get field(): string | null {
    const f = this.details?.field;
    return typeof f === 'string' ? f : null;
  }
}

/** The message of an error about `field` (or a field under it), else undefined: what `<Field error>` shows. */
export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError) || !error.field) return undefined;
  return error.field === field || error.field.startsWith(field + '.') ? error.message : undefined;
}

/** The message of an error that no field of `fields` shows: what the form shows at its foot. */
export function formError(error: unknown, fields: readonly string[] = []): string | undefined {
  if (!error) return undefined;
  if (error instanceof ApiError && fields.some((f) => fieldError(error, f))) return undefined;
  return error instanceof Error ? error.message : String(error);
}

type Query = Record<string, string | number | boolean | null | undefined>;

/** `/api/x` plus the query's defined values. */
export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers[CSRF_HEADER] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'VIGIL_ERR_NETWORK', `Vigil did not answer (${err instanceof Error ? err.message : String(err)})`, null);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: a proxy's error page, for instance
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
    const details = e?.details && typeof e.details === 'object' ? (e.details as Record<string, unknown>) : null;
    throw new ApiError(
      res.status,
      e?.code ?? `HTTP_${res.status}`,
      e?.message ?? `the server answered ${res.status} ${res.statusText}`,
      details,
    );
  }
  const token = (json as { csrfToken?: unknown } | null)?.csrfToken;
  if (typeof token === 'string') csrfToken = token;
  return json as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', withQuery(path, query), undefined, signal),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  delete: <T = void>(path: string) => request<T>('DELETE', path),
};

/** `/api/projects/<slug><rest>`, the slug escaped. */
export const projectPath = (slug: string, rest = '') => `/api/projects/${encodeURIComponent(slug)}${rest}`;
