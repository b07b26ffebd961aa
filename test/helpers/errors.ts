// Checks of the job's typed errors, for unit tests that call job functions directly.
import { expect } from "vitest";
import { DbBackupError } from "../../job/core/errors";

/** Calls `fn`, which must throw an integrity error (exit code 4); returns it. */
export function integrityError(fn: () => unknown): DbBackupError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DbBackupError);
    expect((error as DbBackupError).kind).toBe("integrity");
    expect((error as DbBackupError).exitCode).toBe(4);
    return error as DbBackupError;
  }
  throw new Error("expected an integrity error, got none");
}

/** Calls `fn`, which must throw a one-line usage error (exit code 2); returns its message. */
export function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DbBackupError);
    expect((error as DbBackupError).kind).toBe("usage");
    expect((error as DbBackupError).exitCode).toBe(2);
    expect((error as Error).message).not.toContain("\n");
    return (error as Error).message;
  }
  throw new Error("expected a usage error, got none");
}
