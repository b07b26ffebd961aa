// Restores run the stored bytes through a SHA-256 check on their way in, and nothing commits
// unless the whole object matched. Plain dumps stream into one psql transaction whose input is
// ended only after the digest matched and the manifest's row counts were checked inside that same
// transaction; on any error psql is killed, never sent EOF (an EOF inside COPY ends the data
// silently and would commit). Custom archives are downloaded to a file while hashing, then given
// to pg_restore.
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import { integrityError, oneLine } from "./errors";
import { parseQualifiedName } from "./copy-counter";
import type { PgConnection } from "./pg-url";
import { startProcess } from "./process";
import type { Redactor } from "./redact";

export interface RestoreInput {
  /** The stored object, as it comes from the repository. */
  source: Readable;
  expectedSha256: string | null;
  /** Row counts to check inside the transaction before it commits (plain format). */
  expectedRowCounts: Record<string, number> | null;
  target: PgConnection;
  redactor: Redactor;
  /** SQL run inside the restore transaction before the dump (e.g. dropping schemas for --clean). */
  preamble?: string;
}

export interface RestoreOutcome {
  sha256: string;
  bytes: number;
  checkedTables: number;
}

function hashingTap(onDone: (sha: string, bytes: number) => void): Transform {
  const hash = createHash("sha256");
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _e, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      onDone(hash.digest("hex"), bytes);
      done();
    },
  });
}

/** A qualified name from a manifest, accepted only if it is exactly one (quoted) identifier path. */
export function safeQualifiedName(name: string): string {
  if (parseQualifiedName(name, 0) !== name) throw integrityError(`manifest names a table "${name}" that is not a valid identifier`);
  return name;
}

/** A DO block that raises (aborting the transaction) when a table's rows differ from the manifest. */
export function rowCountCheckSql(expected: Record<string, number>): string {
  // The body's dollar-quote tag must not occur in any name (a quoted identifier may contain "$").
  let tag = "$dbbackup_check$";
  for (let n = 1; Object.keys(expected).some((name) => name.includes(tag)); n++) tag = `$dbbackup_check${n}$`;
  const checks = Object.entries(expected).map(([name, rows]) => {
    const ident = safeQualifiedName(name);
    if (!Number.isSafeInteger(rows) || rows < 0) throw integrityError(`manifest row count for ${name} is invalid`);
    const literal = "'" + name.replace(/'/g, "''") + "'";
    return `  SELECT count(*) INTO n FROM ONLY ${ident};\n  IF n <> ${rows} THEN RAISE EXCEPTION 'db-backup: row count mismatch for %: % restored, ${rows} in the manifest', ${literal}, n; END IF;`;
  });
  return `DO ${tag} DECLARE n bigint; BEGIN\n${checks.join("\n")}\nEND ${tag};\n`;
}

export async function restorePlain(input: RestoreInput): Promise<RestoreOutcome> {
  const { target, redactor } = input;
  const psql = startProcess(
    "psql",
    ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "--no-password", "-d", target.url],
    { env: target.env, stdio: ["pipe", "ignore", "pipe"], redactor, label: "psql" },
  );
  const stdin = psql.child.stdin!;
  stdin.on("error", () => undefined); // EPIPE when psql stops early; its exit says why
  let sha = "";
  let bytes = 0;
  const write = async (data: Buffer | string) => {
    if (psql.child.exitCode !== null) throw new Error("psql stopped early");
    if (!stdin.write(data)) await Promise.race([once(stdin, "drain"), psql.exited.then(() => { throw new Error("psql stopped early"); })]);
  };
  const gunzip = zlib.createGunzip();
  const tap = hashingTap((s, b) => ((sha = s), (bytes = b)));
  try {
    if (input.preamble) await write(input.preamble);
    input.source.on("error", (e) => tap.destroy(e));
    tap.on("error", (e) => gunzip.destroy(e));
    input.source.pipe(tap).pipe(gunzip);
    for await (const chunk of gunzip as AsyncIterable<Buffer>) await write(chunk);
    if (input.expectedSha256 !== null && sha !== input.expectedSha256) {
      throw integrityError(`checksum mismatch: the object's SHA-256 is ${sha}, the manifest says ${input.expectedSha256}; nothing was restored`);
    }
    const expected = input.expectedRowCounts ?? {};
    if (Object.keys(expected).length > 0) await write(rowCountCheckSql(expected));
    stdin.end(); // the only way psql commits
    await psql.exited;
    return { sha256: sha, bytes, checkedTables: Object.keys(expected).length };
  } catch (error) {
    psql.kill();
    await psql.exited.catch(() => undefined);
    if (error instanceof Error && error.name === "DbBackupError") throw error;
    // Say why: a corrupt object makes psql or gunzip fail, but the cause is the object. Read
    // the rest of it through the hash to tell the two apart.
    if (input.expectedSha256 !== null && (await objectMatches(input.source, tap, () => sha, input.expectedSha256)) === false) {
      throw integrityError(`checksum mismatch: the stored dump is not the one the manifest describes (corrupt or tampered); nothing was restored`);
    }
    if (psql.child.exitCode !== null && psql.child.exitCode !== 0) {
      const tail = psql.stderrTail();
      const line = tail.split("\n").find((l) => /ERROR|FATAL/.test(l)) ?? tail.split("\n").pop();
      throw new Error(`psql failed, nothing was committed: ${line?.trim()}`);
    }
    if (/incorrect header check|unexpected end of file|invalid|Z_/i.test(oneLine(error))) {
      throw integrityError(`the stored dump is corrupt (${oneLine(error)}); nothing was restored`);
    }
    throw error;
  }
}

/** Drains what is left of `source` through the hashing tap: whether the digest matches, or null
 * when the object could not be read to its end (a network error is not corruption). */
async function objectMatches(source: Readable, tap: Transform, digest: () => string, expected: string): Promise<boolean | null> {
  if (source.destroyed && !source.readableEnded) return null;
  try {
    tap.unpipe();
    tap.removeAllListeners("error");
    tap.on("data", () => undefined);
    if (!tap.writableFinished) await finished(tap);
    return digest() === expected;
  } catch {
    return null;
  }
}

/** Downloads to a private temporary file while hashing; the caller removes the directory. */
export async function downloadVerified(
  source: Readable,
  expectedSha256: string | null,
  fileName: string,
): Promise<{ file: string; dir: string; sha256: string; bytes: number }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "db-backup-"));
  const file = path.join(dir, fileName);
  let sha = "";
  let bytes = 0;
  try {
    await pipeline(source, hashingTap((s, b) => ((sha = s), (bytes = b))), createWriteStream(file, { mode: 0o600 }));
    if (expectedSha256 !== null && sha !== expectedSha256) {
      throw integrityError(`checksum mismatch: the object's SHA-256 is ${sha}, the manifest says ${expectedSha256}; nothing was restored`);
    }
    return { file, dir, sha256: sha, bytes };
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface CustomRestoreInput {
  archive: string;
  target: PgConnection;
  redactor: Redactor;
  jobs: number;
  noOwner: boolean;
}

/** pg_restore of a verified custom archive: one transaction when jobs = 1. */
export async function restoreCustom(input: CustomRestoreInput): Promise<void> {
  const args = ["--exit-on-error", "--no-password", `--dbname=${input.target.url}`];
  if (input.noOwner) args.push("--no-owner");
  if (input.jobs > 1) args.push(`--jobs=${input.jobs}`);
  else args.push("--single-transaction");
  args.push(input.archive);
  const p = startProcess("pg_restore", args, { env: input.target.env, stdio: ["ignore", "ignore", "pipe"], redactor: input.redactor, label: "pg_restore" });
  await p.exited;
}
