import { EXIT_CODES, type ExitCodeName } from "./catalog";

/** An error the CLI prints as one line (after redaction) and exits with the code of its kind. */
export class DbBackupError extends Error {
  constructor(
    readonly kind: Exclude<ExitCodeName, "ok">,
    message: string,
  ) {
    super(message);
    this.name = "DbBackupError";
  }
  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

export const usageError = (message: string) => new DbBackupError("usage", message);
export const refusal = (message: string) => new DbBackupError("refused", message);
export const integrityError = (message: string) => new DbBackupError("integrity", message);
export const failure = (message: string) => new DbBackupError("failed", message);

/** The first line of any error's message, for one-line reports. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  const line = text.split("\n").find((l) => l.trim().length > 0) ?? text;
  return line.trim();
}
