// What went wrong talking to PostgreSQL, decided in one place: server errors by their SQLSTATE,
// client tools (psql, pg_dump, pg_restore) by the line libpq and the tool print on stderr.

/** SQLSTATE classes and codes that mean the server could not be reached or went away, not that
 * the SQL was wrong: connection exceptions (08), shutdowns and "cannot connect now" (57P0x), too
 * many connections (53300). */
const UNREACHABLE_SQLSTATE = /^(08...|57P0[1-4]|53300)$/;
/** Network errors node reports before any server answers. */
const UNREACHABLE_ERRNO = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "EPIPE"]);
/** libpq's words for the same, as psql and pg_restore print them (they carry no SQLSTATE). */
const UNREACHABLE_TOOL_TEXT = /could not connect|connection to server .* failed|server closed the connection|timeout expired|no connection to the server/i;

/** Whether an error means the server was unreachable (retrying may help), not a bad statement. */
export function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && (UNREACHABLE_SQLSTATE.test(code) || UNREACHABLE_ERRNO.has(code))) return true;
  return UNREACHABLE_TOOL_TEXT.test(error instanceof Error ? error.message : String(error));
}

/** The line of a client tool's stderr that says what failed: its first error line, with the
 * server's own words when pg_dump/pg_restore give them on a "detail:" line. */
export function toolFailureLine(stderr: string): string | undefined {
  const lines = stderr.split("\n").filter((l) => l.trim() !== "");
  let line = lines.find((l) => /error|fatal/i.test(l)) ?? lines[lines.length - 1];
  const detail = lines.find((l) => /detail: Error message from server:/.test(l));
  if (line && detail && detail !== line) {
    line = `${line.trim()} (${detail.replace(/^.*?detail: Error message from server:\s*/, "").replace(/\s+/g, " ").trim()})`;
  }
  return line?.trim();
}
