// Errors the CLI reports as one line and an exit code. A DbBackupError names its kind (the exit
// code) and keeps what caused it in `cause`, so a wrapped error loses nothing; callers tell kinds
// apart with `instanceof` and `kind`, never by reading messages.
import { EXIT_CODES, type ExitCodeName } from "./catalog";

export type ErrorKind = Exclude<ExitCodeName, "ok">;

/** An error the CLI prints as one line (after redaction) and exits with the code of its kind. */
export class DbBackupError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DbBackupError";
  }
  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

export const usageError = (message: string, cause?: unknown) => new DbBackupError("usage", message, { cause });
export const refusal = (message: string, cause?: unknown) => new DbBackupError("refused", message, { cause });
export const integrityError = (message: string, cause?: unknown) => new DbBackupError("integrity", message, { cause });
export const failure = (message: string, cause?: unknown) => new DbBackupError("failed", message, { cause });

/** Whether `error` is a DbBackupError (of one of `kinds`, when given). */
export function isKind(error: unknown, ...kinds: ErrorKind[]): error is DbBackupError {
  return error instanceof DbBackupError && (kinds.length === 0 || kinds.includes(error.kind));
}

/** The first line of any error's message, for one-line reports. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  const line = text.split("\n").find((l) => l.trim().length > 0) ?? text;
  return line.trim();
}
