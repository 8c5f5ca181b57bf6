/**
 * DuckDB lets one process open a database file: a second one (a CLI command while the server
 * runs) is refused with "IO Error: Could not set lock on file "<file>": Conflicting lock is held
 * in <program> (PID <n>)". That refusal, recognised by its exact wording, as a typed error.
 */
const LOCK_CONFLICT = /Could not set lock on file "[^"]*": Conflicting lock is held in /;
const HOLDER_PID = /Conflicting lock is held in .*\(PID (\d+)\)/;

export class EventStoreLockedError extends Error {
  constructor(
    readonly file: string,
    readonly holderPid: number | null,
    options?: ErrorOptions,
  ) {
    super(
      `the event store ${file} is in use by another process${holderPid === null ? '' : ` (PID ${holderPid})`}: DuckDB lets one process open it`,
      options,
    );
  }
}

/** The lock conflict DuckDB reported when opening `file`, or null for any other error. */
export function lockConflictOf(err: unknown, file: string): EventStoreLockedError | null {
  if (!(err instanceof Error) || !LOCK_CONFLICT.test(err.message)) return null;
  const pid = HOLDER_PID.exec(err.message)?.[1];
  return new EventStoreLockedError(file, pid === undefined ? null : Number(pid), { cause: err });
}
