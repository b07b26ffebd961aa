// Applies a dump to a database in one transaction that only the job can commit. The dump is read
// by the script reader and sent over one node-postgres session: BEGIN by the job, each statement
// alone through the extended protocol (the server refuses two statements in one message), each
// COPY block streamed, then the row counts the server reported checked against the manifest, the
// caller's last checks (the object's SHA-256), and COMMIT by the job. The dump's own transaction
// control is dropped and psql meta-commands are never run (there is no psql). When anything fails,
// when the job is stopped, or when the process dies, the session ends without COMMIT and the
// server rolls everything back: end of input never means commit.
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { oneLine } from "../core/errors";
import { connectPg } from "../postgres/connection";
import { ScriptError, ScriptReader } from "../postgres/script/reader";
import { classifyStatement, parseSet } from "../postgres/script/statements";
import { tocEntryOf, type TocEntry } from "../postgres/supabase";

export interface ApplyInput {
  /** The dump as SQL text: a gunzipped plain dump, or pg_restore's script of an archive. */
  sql: AsyncIterable<Buffer>;
  /** Statements the job runs first inside the transaction (what --clean replaces). */
  preamble?: string[];
  /** Statements the job runs after the dump, before its checks and COMMIT. */
  postamble?: string[];
  /** Rows per table the manifest recorded; checked against what the server loaded. */
  expectedRowCounts: Record<string, number> | null;
  /** Load data without firing the target's triggers (data-only backups, tables that exist). */
  withoutTriggers?: boolean;
  /** Which of the dump's entries (pg_dump's table of contents) are sent; the rest are skipped
   * whole (a Supabase backup into a target that has the platform's structure). Default: all. */
  sendsEntry?: (entry: TocEntry) => boolean;
  /** Runs before a statement is sent (verify creates the roles a statement names). */
  beforeStatement?: (sql: string, client: pg.Client) => Promise<void>;
  /** The last checks before COMMIT (the stored object's SHA-256): a throw rolls back. */
  beforeCommit?: () => Promise<void>;
  /** Seconds a statement waits for a lock before the restore gives up (`--clean` behind an open
   * transaction on the target). */
  lockTimeoutSeconds: number;
  /** Stops the apply (SIGTERM): nothing is committed. */
  signal?: AbortSignal;
  /** Called with the session's backend pid once connected (to watch for lock waits). */
  onSession?: (pid: number) => void;
}

export interface ApplyOutcome {
  /** Rows per table, as the server reported them for each COPY. */
  rowCounts: Record<string, number>;
  statements: number;
  /** The dump's own transaction-control statements, never sent. */
  dropped: number;
  /** Statements of entries the target did not need (sendsEntry). */
  skipped: number;
}

/** Why an apply failed, with what the server said and where in the dump. */
export class ApplyError extends Error {
  constructor(
    message: string,
    readonly reason: "script" | "forged" | "denied" | "server" | "rows" | "interrupted",
    readonly options: { line?: number; sqlstate?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ApplyError";
  }
}

/** Session settings of a dump the job keeps its own values for. */
const JOB_OWNED_SETTINGS = new Set(["lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout", "transaction_timeout"]);
const RESTORABLE_ENCODINGS = new Set(["utf8", "utf-8", "unicode", "sql_ascii"]);

export async function applyDump(url: string, input: ApplyInput): Promise<ApplyOutcome> {
  const client = await connectPg(url);
  // A dropped connection must reject the statement in flight, not crash the process.
  client.on("error", () => undefined);
  const abort = () => void client.end().catch(() => undefined);
  input.signal?.addEventListener("abort", abort, { once: true });
  try {
    input.signal?.throwIfAborted();
    const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    input.onSession?.(pid);
    await client.query("BEGIN");
    await client.query(`SET LOCAL lock_timeout = '${Math.round(input.lockTimeoutSeconds * 1000)}ms'`);
    const outcome = await run(client, input);
    input.signal?.throwIfAborted();
    await input.beforeCommit?.();
    input.signal?.throwIfAborted();
    await client.query("COMMIT");
    return outcome;
  } catch (error) {
    if (input.signal?.aborted) throw new ApplyError("the restore was stopped before it committed: nothing was committed", "interrupted", { cause: error });
    throw error;
  } finally {
    input.signal?.removeEventListener("abort", abort);
    // Without COMMIT, ending the session rolls the transaction back.
    await client.end().catch(() => undefined);
  }
}

async function run(client: pg.Client, input: ApplyInput): Promise<ApplyOutcome> {
  const rowCounts: Record<string, number> = {};
  let statements = 0;
  let dropped = 0;
  let skipped = 0;
  for (const sql of input.preamble ?? []) await send(client, sql, 0);
  if (input.withoutTriggers) await disableTriggers(client);
  const reader = new ScriptReader(input.sql);
  // The entry the statements belong to: the last header seen (an entry's later statements have none).
  let entry: TocEntry | null = null;
  try {
    for await (const item of reader.items()) {
      input.signal?.throwIfAborted();
      if (item.kind !== "meta") entry = tocEntryOf(item.sql) ?? entry;
      if (item.kind !== "meta" && entry && input.sendsEntry && !input.sendsEntry(entry)) {
        if (item.kind === "copy") {
          // Never expected (every row is sent), but a skipped block is still read to its end.
          for await (const _chunk of item.data) input.signal?.throwIfAborted();
        } else {
          // Skipped or not, a statement pg_dump never writes means the dump is not what it claims.
          const kind = classifyStatement(item.sql);
          if (kind.kind === "refused") throw new ApplyError(`the dump holds ${kind.why} at line ${item.line}, which pg_dump never writes: refused, the dump is forged or not pg_dump's`, "forged", { line: item.line });
        }
        skipped++;
        continue;
      }
      if (item.kind === "meta") {
        // pg_dump brackets its scripts with \restrict / \unrestrict (psql's own protection); there
        // is no psql here to run any meta-command, and any other one means a forged script.
        if (item.command === "restrict" || item.command === "unrestrict") continue;
        throw new ApplyError(`the dump holds a psql meta-command at line ${item.line} (\\${item.command}): never run; the dump is forged or not pg_dump's`, "forged", { line: item.line });
      }
      if (item.kind === "copy") {
        const rows = await copyIn(client, item.sql, item.data, input.signal);
        if (rows !== item.rows()) {
          throw new ApplyError(`the server loaded ${rows} rows into ${item.copy.table} at line ${item.line}, the dump holds ${item.rows()}`, "rows", { line: item.line });
        }
        rowCounts[item.copy.table] = (rowCounts[item.copy.table] ?? 0) + rows;
        // Checked as soon as the table is loaded: a dump that lost rows says so before anything
        // that depends on them (a foreign key) fails for that reason.
        if (input.expectedRowCounts) checkTableRows(item.copy.table, rowCounts[item.copy.table]!, input.expectedRowCounts);
        continue;
      }
      const kind = classifyStatement(item.sql);
      if (kind.kind === "refused") throw new ApplyError(`the dump holds ${kind.why} at line ${item.line}, which pg_dump never writes: refused, the dump is forged or not pg_dump's`, "forged", { line: item.line });
      if (kind.kind === "dropped") {
        dropped++;
        continue;
      }
      const set = parseSet(item.sql);
      if (set && JOB_OWNED_SETTINGS.has(set.name)) continue;
      if (set?.name === "client_encoding" && !RESTORABLE_ENCODINGS.has(set.value.toLowerCase())) {
        throw new ApplyError(`the dump is written in ${set.value}: db-backup restores UTF8 dumps (new backups are dumped as UTF8)`, "script", { line: item.line });
      }
      await input.beforeStatement?.(item.sql, client);
      await send(client, item.sql, item.line);
      statements++;
    }
  } catch (error) {
    if (error instanceof ScriptError) throw new ApplyError(error.message, "script", { line: error.line, cause: error });
    throw error;
  }
  for (const sql of input.postamble ?? []) await send(client, sql, 0);
  if (input.expectedRowCounts) checkRowCounts(rowCounts, input.expectedRowCounts);
  return { rowCounts, statements, dropped, skipped };
}

/** One statement, alone, through the extended protocol. */
async function send(client: pg.Client, sql: string, line: number): Promise<void> {
  try {
    await client.query({ text: sql, queryMode: "extended" } as pg.QueryConfig);
  } catch (error) {
    throw serverError(error, line);
  }
}

async function copyIn(client: pg.Client, sql: string, data: AsyncIterable<Buffer>, signal?: AbortSignal): Promise<number> {
  const stream = client.query(copyFrom(sql));
  let failed: unknown;
  stream.on("error", (error) => (failed ??= error));
  // Waits for the stream, the server's error, or the job being stopped, whichever comes first.
  const settle = (event: "drain" | "finish") =>
    new Promise<void>((resolve) => {
      const done = () => {
        stream.off(event, done);
        stream.off("error", done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      stream.once(event, done);
      stream.once("error", done);
      signal?.addEventListener("abort", done, { once: true });
    });
  try {
    for await (const chunk of data) {
      signal?.throwIfAborted();
      if (failed !== undefined) break;
      if (!stream.write(chunk)) await settle("drain");
    }
    signal?.throwIfAborted();
    if (failed === undefined) {
      stream.end();
      await settle("finish");
      signal?.throwIfAborted();
    }
  } catch (error) {
    // The data could not be read (a cut or corrupt dump), or the job was stopped: the COPY fails
    // (CopyFail), and the transaction with it. The session is ended by the caller either way.
    stream.destroy(error as Error);
    throw error;
  }
  if (failed !== undefined) throw serverError(failed, 0);
  return stream.rowCount;
}

/** Triggers of the tables the data goes into must not fire while it loads (a profile row per
 * user, an audit row per insert): the server's replica mode, as Supabase's own CLI loads data. */
async function disableTriggers(client: pg.Client): Promise<void> {
  await client.query("SAVEPOINT dbbackup_replica_mode");
  try {
    await client.query("SET LOCAL session_replication_role = replica");
    await client.query("RELEASE SAVEPOINT dbbackup_replica_mode");
  } catch (error) {
    await client.query("ROLLBACK TO SAVEPOINT dbbackup_replica_mode");
    throw new ApplyError(
      `loading data without firing the target's triggers needs session_replication_role, which this role may not set (${oneLine(error)}): restore as a superuser, or GRANT SET ON PARAMETER session_replication_role TO <role>`,
      "denied",
      { sqlstate: (error as { code?: string }).code, cause: error },
    );
  }
}

function checkTableRows(table: string, rows: number, expected: Record<string, number>): void {
  if (!(table in expected)) throw new ApplyError(`row count mismatch for ${table}: ${rows} restored, the manifest has no such table`, "rows");
  if (expected[table] !== rows) throw new ApplyError(`row count mismatch for ${table}: ${rows} restored, ${expected[table]} in the manifest`, "rows");
}

function checkRowCounts(loaded: Record<string, number>, expected: Record<string, number>): void {
  for (const [table, rows] of Object.entries(expected)) {
    if (loaded[table] !== rows) {
      throw new ApplyError(`row count mismatch for ${table}: ${loaded[table] ?? 0} restored, ${rows} in the manifest`, "rows");
    }
  }
  for (const [table, rows] of Object.entries(loaded)) {
    if (!(table in expected)) throw new ApplyError(`row count mismatch for ${table}: ${rows} restored, the manifest has no such table`, "rows");
  }
}

function serverError(error: unknown, line: number): ApplyError {
  if (error instanceof ApplyError) return error;
  const sqlstate = (error as { code?: unknown })?.code;
  const where = line > 0 ? ` (the dump's statement at line ${line})` : "";
  return new ApplyError(`${oneLine(error)}${where}`, "server", { line, sqlstate: typeof sqlstate === "string" ? sqlstate : undefined, cause: error });
}
