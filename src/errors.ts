/** One catalog of error codes with their HTTP status; every 4xx the API returns comes from here. */
export const ERRORS = {
  VIGIL_ERR_BAD_REQUEST: 400,
  VIGIL_ERR_INVALID_JSON: 400,
  VIGIL_ERR_INVALID_EVENTS: 400,
  VIGIL_ERR_INVALID_METRIC: 400,
  VIGIL_ERR_METRIC_SQL_INVALID: 400,
  VIGIL_ERR_METRIC_SQL_FORBIDDEN: 400,
  VIGIL_ERR_METRIC_SQL_TIMEOUT: 400,
  VIGIL_ERR_METRIC_SQL_TOO_MANY_ROWS: 400,
  VIGIL_ERR_METRIC_SQL_TOO_LARGE: 400,
  VIGIL_ERR_INVALID_MEASUREMENTS: 400,
  VIGIL_ERR_PAYLOAD_TOO_LARGE: 413,
  VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  VIGIL_ERR_UNAUTHORIZED: 401,
  VIGIL_ERR_FORBIDDEN: 403,
  VIGIL_ERR_NOT_FOUND: 404,
  VIGIL_ERR_CONFLICT: 409,
  VIGIL_ERR_GONE: 410,
  VIGIL_ERR_RATE_LIMITED: 429,
  VIGIL_ERR_UNAVAILABLE: 503,
  VIGIL_ERR_INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class VigilError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.status = ERRORS[code];
  }

  /** Worth retrying later (a job retries it with backoff): the store was busy or slow. */
  get transient(): boolean {
    return this.status === 503;
  }
}

export const badRequest = (message: string, details?: unknown) => new VigilError('VIGIL_ERR_BAD_REQUEST', message, details);
export const notFound = (what: string) => new VigilError('VIGIL_ERR_NOT_FOUND', `${what} not found`);
