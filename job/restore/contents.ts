// A stored dump made ready to restore: what it holds (the schemas it creates, the tables it fills),
// read before the target is touched, and how to apply it. A plain dump streams from the store
// through SHA-256 and gunzip into the apply engine; its checksum is compared before the job
// commits. A custom archive is downloaded (SHA-256 checked) once, and pg_restore turns it into the
// same script for the same engine (or restores it with --jobs into an empty target).
import { promises as fs } from "node:fs";
import { Writable, addAbortSignal, pipeline } from "node:stream";
import { pipeline as pipelineAsync } from "node:stream/promises";
import zlib from "node:zlib";
import type { JobContext } from "../core/context";
import { integrityError, isKind, oneLine } from "../core/errors";
import type { BackupEntry } from "../inventory";
import { pgConnection } from "../postgres/connection";
import { captureOutput, startProcess } from "../postgres/process";
import { ScriptReader } from "../postgres/script/reader";
import { quoteIdentifier, stripLeadingComments, unquoteIdentifier } from "../postgres/sql";
import { Sha256Tap, isCorruptCompression } from "../streams";
import { ApplyError, applyDump, type ApplyInput } from "./apply";
import { downloadVerified } from "./archive";
import { restoreParallel } from "./parallel";

export interface DumpContents {
  /** Schemas the dump creates (`CREATE SCHEMA`), unquoted. */
  createdSchemas: string[];
  /** Tables the dump fills or creates, as SQL qualified names ("schema.table", quoted as needed). */
  tables: string[];
}

export interface ApplyRun extends Pick<ApplyInput, "preamble" | "postamble" | "withoutTriggers" | "sendsEntry" | "beforeStatement" | "lockTimeoutSeconds" | "onSession"> {
  /** pg_restore jobs for a custom archive (more than 1: an empty target only, not one transaction). */
  jobs: number;
}

export interface RestoreOutcome {
  sha256: string;
  bytes: number;
  /** Rows per table the server loaded. */
  rowCounts: Record<string, number>;
  /** Tables whose row counts were checked against the manifest. */
  checkedTables: number;
}

export interface PreparedDump {
  readonly entry: BackupEntry;
  readonly contents: DumpContents;
  /** Applies the dump to the database at `url`: all of it, checked, or nothing. */
  apply(url: string, run: ApplyRun): Promise<RestoreOutcome>;
  /** Removes a downloaded archive. */
  dispose(): Promise<void>;
}

export async function prepareDump(ctx: JobContext, entry: BackupEntry): Promise<PreparedDump> {
  const manifest = entry.manifest;
  if (!manifest || manifest.format === "plain") {
    const createdSchemas = manifest?.contents?.createdSchemas ?? (await plainCreatedSchemas(ctx, entry));
    return {
      entry,
      contents: { createdSchemas, tables: Object.keys(manifest?.rowCounts ?? {}) },
      apply: (url, run) => applyPlain(ctx, entry, url, run),
      dispose: async () => undefined,
    };
  }
  const download = await downloadVerified(await readDump(ctx, entry), manifest.sha256, `${entry.id}.dump`, ctx.signal);
  try {
    const contents = parseTableOfContents(await captureOutput("pg_restore", ["--list", download.file], { redactor: ctx.redactor, label: "pg_restore --list" }));
    return {
      entry,
      contents,
      apply: async (url, run) => {
        if (run.jobs > 1) {
          await restoreParallel({ archive: download.file, targetUrl: url, target: pgConnection(url), redactor: ctx.redactor, jobs: run.jobs, noOwner: manifest.scope.noOwner, signal: ctx.signal });
          return { sha256: download.sha256, bytes: download.bytes, rowCounts: {}, checkedTables: 0 };
        }
        // pg_restore only writes the archive out as a script; the engine applies it. Its exit
        // code is checked before the commit: an archive it could not read to the end never
        // commits, however cleanly its output happened to stop.
        const args = ["--file=-", ...(manifest.scope.noOwner ? ["--no-owner"] : []), download.file];
        const script = startProcess("pg_restore", args, { stdio: ["ignore", "pipe", "pipe"], redactor: ctx.redactor, label: "pg_restore" });
        script.exited.catch((error: Error) => script.child.stdout!.destroy(error));
        try {
          const outcome = await applyOrExplain(url, {
            ...run,
            sql: script.child.stdout! as AsyncIterable<Buffer>,
            expectedRowCounts: manifest.rowCounts,
            signal: ctx.signal,
            beforeCommit: () => script.exited,
          });
          return { sha256: download.sha256, bytes: download.bytes, rowCounts: outcome.rowCounts, checkedTables: Object.keys(manifest.rowCounts ?? {}).length };
        } finally {
          script.kill();
        }
      },
      dispose: () => fs.rm(download.dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await fs.rm(download.dir, { recursive: true, force: true });
    throw error;
  }
}

/** A plain dump, one pass: store → SHA-256 → gunzip → engine; the digest is checked before COMMIT. */
async function applyPlain(ctx: JobContext, entry: BackupEntry, url: string, run: ApplyRun): Promise<RestoreOutcome> {
  const expected = entry.manifest?.sha256 ?? null;
  const tap = new Sha256Tap();
  const sql = pipeline(await readDump(ctx, entry), tap, zlib.createGunzip(), () => undefined);
  if (ctx.signal) addAbortSignal(ctx.signal, sql); // a stopped job stops reading the store
  try {
    const outcome = await applyOrExplain(url, {
      ...run,
      sql: sql as AsyncIterable<Buffer>,
      expectedRowCounts: entry.manifest?.rowCounts ?? null,
      signal: ctx.signal,
      beforeCommit: async () => {
        if (expected !== null && tap.digest !== expected) {
          throw integrityError(`checksum mismatch: the object's SHA-256 is ${tap.digest}, the manifest says ${expected}; nothing was restored`);
        }
      },
    });
    const counted = Object.keys(entry.manifest?.rowCounts ?? {}).length;
    return { sha256: tap.digest!, bytes: tap.bytes, rowCounts: outcome.rowCounts, checkedTables: counted };
  } catch (error) {
    sql.destroy();
    throw await objectFault(ctx, entry, error);
  }
}

/** A failed restore whose cause may be the stored object: a corrupt or replaced object makes the
 * SQL fail (a syntax error, a cut statement), but the cause is the object. Read it again from the
 * store: a SHA-256 that differs from the manifest's is said as such; a matching one whose gzip
 * stream does not decompress to its end is a corrupt object. A store that cannot be read, or a job
 * that was stopped, says nothing more. Otherwise the error stands (the target refused something). */
async function objectFault(ctx: JobContext, entry: BackupEntry, error: unknown): Promise<unknown> {
  const expected = entry.manifest?.sha256 ?? null;
  if (expected === null || ctx.signal?.aborted) return error;
  const digest = await objectDigest(ctx, entry).catch(() => null);
  if (digest === null) return error;
  if (digest !== expected) {
    return integrityError("checksum mismatch: the stored dump is not the one the manifest describes (corrupt or tampered); nothing was restored", error);
  }
  if (isKind(error, "integrity")) return error;
  const inflates = await gunzipsToEnd(ctx, entry);
  if (inflates !== null) return integrityError(`the stored dump is corrupt (${inflates}); nothing was restored`, error);
  return error;
}

/** Why the object's gzip stream does not decompress to its end, or null when it does. */
async function gunzipsToEnd(ctx: JobContext, entry: BackupEntry): Promise<string | null> {
  try {
    await pipelineAsync(await readDump(ctx, entry), zlib.createGunzip(), discard());
    return null;
  } catch (error) {
    return isCorruptCompression(error) ? oneLine(error) : null;
  }
}

/** The dump version the backup's manifest records: never a later version of its key. */
function readDump(ctx: JobContext, entry: BackupEntry) {
  return ctx.repo.getStream(entry.key!, entry.dumpVersionId);
}

/** A sink that throws everything away (for a stream read only for its checks). */
const discard = () =>
  new Writable({
    write: (_chunk, _encoding, done) => done(),
  });

/** The engine, with the failures that are the dump's fault said as integrity errors. */
async function applyOrExplain(url: string, input: ApplyInput) {
  try {
    return await applyDump(url, input);
  } catch (error) {
    if (isCorruptCompression(error)) throw integrityError(`the stored dump is corrupt (${oneLine(error)}); nothing was restored`, error);
    if (error instanceof ApplyError && (error.reason === "script" || error.reason === "forged")) {
      throw integrityError(`${error.message}; nothing was restored`, error);
    }
    if (error instanceof ApplyError && error.reason === "rows") throw integrityError(`${error.message}; nothing was committed`, error);
    throw error;
  }
}

async function objectDigest(ctx: JobContext, entry: BackupEntry): Promise<string> {
  const tap = new Sha256Tap();
  await pipelineAsync(await readDump(ctx, entry), tap, discard());
  return tap.digest!;
}

/** A plain dump without recorded contents (older manifests, legacy dumps) creates its schemas
 * first: read it until the first statement that is not about a schema. */
async function plainCreatedSchemas(ctx: JobContext, entry: BackupEntry): Promise<string[]> {
  const source = await readDump(ctx, entry);
  const sql = pipeline(source, zlib.createGunzip(), () => undefined);
  const schemas: string[] = [];
  try {
    for await (const item of new ScriptReader(sql as AsyncIterable<Buffer>).items()) {
      if (item.kind !== "statement") {
        if (item.kind === "copy") break;
        continue;
      }
      const text = stripLeadingComments(item.sql);
      const schema = /^CREATE\s+SCHEMA\s+(.+?)\s*;\s*$/is.exec(text);
      if (schema) {
        const name = unquoteIdentifier(schema[1]!);
        if (name !== null) schemas.push(name);
        continue;
      }
      if (/^(CREATE\s+(?!SCHEMA|EXTENSION)|ALTER\s+TABLE|SET\s+default_tablespace)/i.test(text)) break;
    }
  } catch {
    // A corrupt object: the restore's own SHA-256 check says so (exit 4); this look ahead only
    // tells the overwrite check which schemas the dump would bring.
  } finally {
    sql.destroy();
  }
  return schemas;
}

export function parseTableOfContents(toc: string): DumpContents {
  const createdSchemas = new Set<string>();
  const tables = new Set<string>();
  for (const line of toc.split("\n")) {
    const schema = /^\d+; \d+ \d+ SCHEMA - (.+) (\S*)$/.exec(line);
    if (schema) createdSchemas.add(schema[1]!);
    const table = /^\d+; \d+ \d+ TABLE (?!ATTACH )(?:DATA )?(\S+) (.+) (\S*)$/.exec(line);
    if (table) tables.add(`${quoteIdentifier(table[1]!)}.${quoteIdentifier(table[2]!)}`);
  }
  return { createdSchemas: [...createdSchemas], tables: [...tables] };
}
