// pg_dump → (row counter) → gzip (pigz on all cores, else zlib) → SHA-256 → the stream an upload
// consumes. The stream only ends cleanly when pg_dump and the compressor exited 0 and the dump did
// not stop inside a COPY block; otherwise it errors, so an upload of it is never completed.
import os from "node:os";
import { PassThrough, type Readable } from "node:stream";
import { Sha256Tap } from "../streams";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import type { DumpFormat } from "../core/catalog";
import { DumpCounter } from "../postgres/script/counter";
import type { BackupScope } from "../inventory";
import type { PgConnection } from "../postgres/connection";
import { captureOutput, startProcess, which, type RunningProcess } from "../postgres/process";
import { quoteIdent } from "../postgres/sql";
import type { Redactor } from "../core/redact";

export interface DumpOptions {
  connection: PgConnection;
  scope: BackupScope;
  format: DumpFormat;
  /** gzip level 1-9 (plain) or pg_dump -Z level (custom). */
  compressionLevel: number;
  redactor: Redactor;
  /** Use pigz when installed (default true); false forces in-process zlib. */
  usePigz?: boolean;
}

export interface DumpResult {
  sha256: string;
  storedBytes: number;
  dumpedBytes: number | null;
  rowCounts: Record<string, number> | null;
  /** Schemas the plain dump creates (null for a custom archive: its table of contents says). */
  createdSchemas: string[] | null;
}

export interface RunningDump {
  /** What to store: gzip'd plain SQL or a custom-format archive. */
  readonly output: Readable;
  /** Available once `output` ended cleanly. */
  result(): DumpResult;
  /** Stops pg_dump and the compressor (the output then errors). */
  abort(): void;
}

export function pgDumpArgs(scope: BackupScope, format: DumpFormat, compressionLevel: number): string[] {
  // UTF-8 whatever the database's encoding (the server converts), so every dump reads the same way.
  const args = [format === "custom" ? "--format=custom" : "--format=plain", "--encoding=UTF8"];
  if (format === "custom") args.push(`--compress=${compressionLevel}`);
  if (scope.noOwner) args.push("--no-owner");
  if (scope.noAcl) args.push("--no-acl");
  if (scope.schemaOnly) args.push("--schema-only");
  if (scope.dataOnly) args.push("--data-only");
  // Named schemas are exact names (the scope checked they exist): quoted, so pg_dump takes case,
  // spaces, quotes, dots and * literally instead of as a pattern.
  for (const schema of scope.schemas ?? []) args.push(`--schema=${exactNamePattern(schema)}`);
  for (const schema of scope.excludedSchemas) args.push(`--exclude-schema=${schema}`);
  for (const table of scope.excludedTableData ?? []) args.push(`--exclude-table-data=${table}`);
  for (const table of scope.tables) args.push(`--table=${table}`);
  // A named schema or table that matches nothing is an error, not an empty backup.
  if ((scope.schemas ?? []).length > 0 || scope.tables.length > 0) args.push("--strict-names");
  return args;
}

/** A pg_dump name pattern matching exactly `name`: quoted, pg_dump takes it literally. */
export const exactNamePattern = quoteIdent;

export function startDump(options: DumpOptions): RunningDump {
  const { connection, scope, format, compressionLevel, redactor } = options;
  const args = [...pgDumpArgs(scope, format, compressionLevel), `--dbname=${connection.conninfo}`];
  const dump = startProcess("pg_dump", args, {
    env: connection.env,
    stdio: ["ignore", "pipe", "pipe"],
    redactor,
    label: "pg_dump",
  });
  const processes: RunningProcess[] = [dump];
  const counter = format === "plain" ? new DumpCounter() : null;

  const compressed: Readable = (() => {
    if (format === "custom") return dump.child.stdout!;
    const counted = counter!;
    const pigzPath = options.usePigz === false ? null : which("pigz");
    if (pigzPath) {
      const pigz = startProcess(pigzPath, [`-${compressionLevel}`, "-p", String(Math.max(1, os.cpus().length)), "-c"], {
        stdio: ["pipe", "pipe", "pipe"],
        redactor,
        label: "pigz",
      });
      processes.push(pigz);
      pipeline(dump.child.stdout!, counted, pigz.child.stdin!).catch(() => abortAll());
      return pigz.child.stdout!;
    }
    const out = new PassThrough();
    pipeline(dump.child.stdout!, counted, zlib.createGzip({ level: compressionLevel }), out).catch((e) => out.destroy(e));
    return out;
  })();

  const abortAll = () => processes.forEach((p) => p.kill());

  // End only when every process exited 0 and the dump is whole.
  const output = new Sha256Tap({
    beforeEnd: async () => {
      // The counter itself fails when pg_dump's output ends inside a statement or a table's data.
      await Promise.all(processes.map((p) => p.exited));
    },
  });
  compressed.on("error", (error) => output.destroy(error));
  compressed.pipe(output);
  output.on("close", () => {
    if (output.digest === null) abortAll();
  });

  return {
    output,
    result: () => {
      if (output.digest === null) throw new Error("dump has not finished");
      return {
        sha256: output.digest,
        storedBytes: output.bytes,
        dumpedBytes: counter?.result.bytes ?? null,
        rowCounts: counter ? counter.result.rowCounts : null,
        createdSchemas: counter ? counter.result.createdSchemas : null,
      };
    },
    abort: () => {
      abortAll();
      output.destroy(new Error("dump aborted"));
    },
  };
}

/** `pg_dump --version`, e.g. "pg_dump (PostgreSQL) 15.19". */
export async function pgDumpVersion(redactor: Redactor): Promise<string> {
  return (await captureOutput("pg_dump", ["--version"], { redactor, label: "pg_dump" })).trim();
}
