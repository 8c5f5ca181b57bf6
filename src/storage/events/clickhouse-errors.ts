/** ClickHouse's error codes that the store turns into Vigil's own errors, and the server's message without its decoration. */

/** ClickHouse's error code, from "Code: 159, e.displayText() = ..." or the client's parsed error. */
export function errorCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^\d+$/.test(code)) return Number(code);
  const m = /Code: (\d+)/.exec((err as Error)?.message ?? '');
  return m ? Number(m[1]) : undefined;
}
export const TIMEOUT_EXCEEDED = 159;
/** max_result_rows or max_result_bytes */
export const TOO_MANY_ROWS = 396;
export const READONLY = 164;
export const UNKNOWN_TABLE = 60;
export const UNKNOWN_DATABASE = 81;
/** Codes of a value that does not convert (CANNOT_PARSE_TEXT, _NUMBER, _DATE ..., CANNOT_CONVERT_TYPE): named as DuckDB names them. */
export const CONVERSION_ERRORS = new Set([6, 27, 38, 41, 53, 69, 70, 72, 321]);

/** The server's text without its code and exception class decoration ("Code: 62, e.displayText() = DB::Exception: ..., e.what() = ..."). */
export function serverMessage(message: string): string {
  return message
    .replace(/^Code: \d+, e\.displayText\(\) = DB::Exception: /, '')
    .replace(/,? e\.what\(\) = DB::Exception\s*$/, '')
    .replace(/\s*\(version [^)]*\)\s*$/, '')
    .trim();
}
