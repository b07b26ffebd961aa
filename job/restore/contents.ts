// What a stored dump holds (the schemas it creates, the tables it fills) and how to restore it, read
// before the target is touched: the overwrite check and `--clean` need to know which schemas the
// restore will replace. A custom archive is downloaded (SHA-256 checked) once and reused.
import { promises as fs } from "node:fs";
import readline from "node:readline";
import zlib from "node:zlib";
import type { BackupEntry } from "../inventory";
import type { JobContext } from "../core/context";
import type { PgConnection } from "../postgres/connection";
import { captureOutput, startProcess } from "../postgres/process";
import { quoteIdentifier, unquoteIdentifier } from "../postgres/sql";
import type { Redactor } from "../core/redact";
import { downloadVerified, restoreCustom, restorePlain, type RestoreOutcome } from "./engine";

export interface DumpContents {
  /** Schemas the dump creates (`CREATE SCHEMA`), unquoted. */
  createdSchemas: string[];
  /** Tables the dump fills or creates, as SQL qualified names ("schema.table", quoted as needed). */
  tables: string[];
}

export interface RestoreRun {
  jobs: number;
  /** SQL run in the restore's transaction before the dump (plain format). */
  preamble?: string;
  /** Replace what the archive holds (custom format: pg_restore --clean --if-exists). */
  clean?: boolean;
}

export interface PreparedDump {
  readonly entry: BackupEntry;
  readonly contents: DumpContents;
  /** The dump as SQL, for scanners (roles, row counts): plain = the stored object gunzipped. */
  sql(): Promise<NodeJS.ReadableStream>;
  restore(target: PgConnection, run: RestoreRun): Promise<RestoreOutcome>;
  /** Removes a downloaded archive. */
  dispose(): Promise<void>;
}

/** Plain dumps create their schemas first: read until the first object that is not a schema. */
const HEAD_LIMIT_BYTES = 16 * 1024 * 1024;

export async function prepareDump(ctx: JobContext, entry: BackupEntry): Promise<PreparedDump> {
  const manifest = entry.manifest;
  if (!manifest || manifest.format === "plain") {
    const createdSchemas = await plainCreatedSchemas(ctx, entry.key!);
    return {
      entry,
      contents: { createdSchemas, tables: Object.keys(manifest?.rowCounts ?? {}) },
      sql: async () => (await ctx.repo.getStream(entry.key!)).pipe(zlib.createGunzip()),
      restore: async (target, run) =>
        restorePlain({
          source: await ctx.repo.getStream(entry.key!),
          expectedSha256: manifest?.sha256 ?? null,
          expectedRowCounts: manifest?.rowCounts ?? null,
          target,
          redactor: ctx.redactor,
          preamble: run.preamble,
        }),
      dispose: async () => undefined,
    };
  }
  const download = await downloadVerified(await ctx.repo.getStream(entry.key!), manifest.sha256, `${entry.id}.dump`);
  try {
    const contents = await archiveContents(download.file, ctx.redactor);
    return {
      entry,
      contents,
      sql: async () => pgRestoreSql(download.file, ctx.redactor),
      restore: async (target, run) => {
        await restoreCustom({ archive: download.file, target, redactor: ctx.redactor, jobs: run.jobs, noOwner: manifest.scope.noOwner, clean: run.clean });
        return { sha256: download.sha256, bytes: download.bytes, checkedTables: 0 };
      },
      dispose: () => fs.rm(download.dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await fs.rm(download.dir, { recursive: true, force: true });
    throw error;
  }
}

async function plainCreatedSchemas(ctx: JobContext, key: string): Promise<string[]> {
  const source = await ctx.repo.getStream(key);
  const gunzip = zlib.createGunzip();
  source.on("error", (e) => gunzip.destroy(e));
  const lines = readline.createInterface({ input: source.pipe(gunzip), crlfDelay: Infinity });
  const schemas: string[] = [];
  let bytes = 0;
  try {
    for await (const line of lines) {
      bytes += line.length + 1;
      const schema = /^CREATE SCHEMA (.+);$/.exec(line);
      if (schema) {
        const name = unquoteIdentifier(schema[1]!);
        if (name !== null) schemas.push(name);
        continue;
      }
      if (/^(CREATE (?!SCHEMA|EXTENSION)|COPY |ALTER TABLE|SET default_tablespace)/.test(line) || bytes > HEAD_LIMIT_BYTES) break;
    }
  } catch {
    // A corrupt object: the restore's own SHA-256 check says so (exit 4); this look ahead only
    // tells the overwrite check which schemas the dump would bring.
  } finally {
    // Stopped early on purpose: whatever the streams say while being torn down is not news.
    source.on("error", () => undefined);
    gunzip.on("error", () => undefined);
    lines.close();
    source.destroy();
    gunzip.destroy();
  }
  return schemas;
}

/** Schemas and tables from the archive's table of contents (`pg_restore --list`). */
async function archiveContents(archive: string, redactor: Redactor): Promise<DumpContents> {
  return parseTableOfContents(await captureOutput("pg_restore", ["--list", archive], { redactor, label: "pg_restore --list" }));
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

/** The archive as plain SQL (pg_restore to stdout). */
function pgRestoreSql(archive: string, redactor: Redactor): NodeJS.ReadableStream {
  const p = startProcess("pg_restore", ["--file=-", archive], { stdio: ["ignore", "pipe", "pipe"], redactor, label: "pg_restore" });
  const out = p.child.stdout!;
  p.exited.catch((error: Error) => out.destroy(error));
  return out;
}
