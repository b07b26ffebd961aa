// Restores run the stored bytes through a SHA-256 check on their way in, and nothing commits
// unless the whole object matched. Plain dumps stream into one psql transaction whose input is
// ended only after the digest matched and the manifest's row counts were checked inside that same
// transaction; on any error psql is killed, never sent EOF (an EOF inside COPY ends the data
// silently and would commit). Custom archives are downloaded to a file while hashing, then given
// to pg_restore.
import { once } from "node:events";
import { createWriteStream, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { Sha256Tap, isCorruptCompression } from "../streams";
import { finished, pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import { DbBackupError, failure, integrityError, oneLine, refusal } from "../core/errors";
import { toolFailureLine } from "../postgres/failures";
import { quoteLiteral, safeQualifiedName } from "../postgres/sql";
import type { PgConnection } from "../postgres/connection";
import { captureOutput, startProcess } from "../postgres/process";
import type { Redactor } from "../core/redact";

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

/** A DO block that raises (aborting the transaction) when a table's rows differ from the manifest. */
export function rowCountCheckSql(expected: Record<string, number>): string {
  // The body's dollar-quote tag must not occur in any name (a quoted identifier may contain "$").
  let tag = "$dbbackup_check$";
  for (let n = 1; Object.keys(expected).some((name) => name.includes(tag)); n++) tag = `$dbbackup_check${n}$`;
  const checks = Object.entries(expected).map(([name, rows]) => {
    const ident = safeQualifiedName(name);
    if (!Number.isSafeInteger(rows) || rows < 0) throw integrityError(`manifest row count for ${name} is invalid`);
    return `  SELECT count(*) INTO n FROM ONLY ${ident};\n  IF n <> ${rows} THEN RAISE EXCEPTION 'db-backup: row count mismatch for %: % restored, ${rows} in the manifest', ${quoteLiteral(name)}, n; END IF;`;
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
  const write = async (data: Buffer | string) => {
    if (psql.child.exitCode !== null) throw new Error("psql stopped early");
    if (!stdin.write(data)) await Promise.race([once(stdin, "drain"), psql.exited.then(() => { throw new Error("psql stopped early"); })]);
  };
  const gunzip = zlib.createGunzip();
  const tap = new Sha256Tap();
  try {
    if (input.preamble) await write(input.preamble);
    input.source.on("error", (e) => tap.destroy(e));
    tap.on("error", (e) => gunzip.destroy(e));
    input.source.pipe(tap).pipe(gunzip);
    for await (const chunk of gunzip as AsyncIterable<Buffer>) await write(chunk);
    const sha = tap.digest!;
    if (input.expectedSha256 !== null && sha !== input.expectedSha256) {
      throw integrityError(`checksum mismatch: the object's SHA-256 is ${sha}, the manifest says ${input.expectedSha256}; nothing was restored`);
    }
    const expected = input.expectedRowCounts ?? {};
    if (Object.keys(expected).length > 0) await write(rowCountCheckSql(expected));
    stdin.end(); // the only way psql commits
    await psql.exited;
    return { sha256: sha, bytes: tap.bytes, checkedTables: Object.keys(expected).length };
  } catch (error) {
    psql.kill();
    await psql.exited.catch(() => undefined);
    if (error instanceof DbBackupError) throw error;
    // Say why: a corrupt object makes psql or gunzip fail, but the cause is the object. Read
    // the rest of it through the hash to tell the two apart.
    if (input.expectedSha256 !== null && (await objectMatches(input.source, tap, input.expectedSha256)) === false) {
      throw integrityError(`checksum mismatch: the stored dump is not the one the manifest describes (corrupt or tampered); nothing was restored`);
    }
    if (psql.child.exitCode !== null && psql.child.exitCode !== 0) {
      throw new Error(`psql failed, nothing was committed: ${toolFailureLine(psql.stderrTail())}`, { cause: error });
    }
    if (isCorruptCompression(error)) {
      throw integrityError(`the stored dump is corrupt (${oneLine(error)}); nothing was restored`, error);
    }
    throw error;
  }
}

/** Drains what is left of `source` through the hashing tap: whether the digest matches, or null
 * when the object could not be read to its end (a network error is not corruption). */
async function objectMatches(source: Readable, tap: Sha256Tap, expected: string): Promise<boolean | null> {
  if (source.destroyed && !source.readableEnded) return null;
  try {
    tap.unpipe();
    tap.removeAllListeners("error");
    tap.on("data", () => undefined);
    if (!tap.writableFinished) await finished(tap);
    return tap.digest === expected;
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
  const tap = new Sha256Tap();
  try {
    await pipeline(source, tap, createWriteStream(file, { mode: 0o600 }));
    const sha = tap.digest!;
    if (expectedSha256 !== null && sha !== expectedSha256) {
      throw integrityError(`checksum mismatch: the object's SHA-256 is ${sha}, the manifest says ${expectedSha256}; nothing was restored`);
    }
    return { file, dir, sha256: sha, bytes: tap.bytes };
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
  /** Replace what the archive holds (pg_restore --clean --if-exists); with jobs = 1 inside the
   * restore's one transaction. */
  clean?: boolean;
}

/** pg_restore of a verified custom archive. With jobs = 1 it is one transaction (all or nothing).
 * With jobs > 1 pg_restore works in several sessions and cannot be one transaction, so it is taken
 * only into an empty target (no table, view, sequence, function, type or large object outside the
 * system schemas and extensions), and when it fails the job drops what it created: the schemas
 * and extensions that were not there, every object in the schemas that were, and puts those
 * schemas' privileges and comments back; then it checks the target is as it was. */
export async function restoreCustom(input: CustomRestoreInput): Promise<void> {
  const args = ["--exit-on-error", "--no-password", `--dbname=${input.target.url}`];
  if (input.noOwner) args.push("--no-owner");
  if (input.clean) args.push("--clean", "--if-exists");
  if (input.jobs > 1) args.push(`--jobs=${input.jobs}`);
  else args.push("--single-transaction");
  args.push(input.archive);
  const run = () => startProcess("pg_restore", args, { env: input.target.env, stdio: ["ignore", "ignore", "pipe"], redactor: input.redactor, label: "pg_restore" }).exited;
  if (input.jobs <= 1) {
    try {
      await run();
    } catch (error) {
      throw new Error(`${oneLine(error)}; it ran in one transaction, nothing was committed`, { cause: error });
    }
    return;
  }

  const before = await targetState(input.target, input.redactor);
  if (before.occupied > 0) {
    throw refusal(
      `a parallel restore (--jobs ${input.jobs}) runs outside one transaction, so it only goes into an empty database, and ${input.target.display} holds ${before.occupied} object(s): restore with --jobs 1 (one transaction) or into an empty database`,
    );
  }
  try {
    await run();
  } catch (error) {
    const reason = oneLine(error);
    try {
      await psqlQuery(input.target, input.redactor, cleanupSql(before), true);
      const after = await targetState(input.target, input.redactor);
      if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error("objects remain after the cleanup");
    } catch (cleanupError) {
      throw failure(`${reason}; dropping what the parallel restore created failed too (${oneLine(cleanupError)}): ${input.target.display} is NOT as it was`, cleanupError);
    }
    throw failure(`${reason}; the parallel restore's objects were dropped, ${input.target.display} is as it was`);
  }
}

/** The parts of a database a restore can add to, compared before and after a cleanup. */
interface TargetState {
  /** Tables, views, sequences, routines, types and large objects outside system schemas and extensions. */
  occupied: number;
  schemas: { name: string; acl: string[]; comment: string | null; owner: string }[];
  extensions: string[];
  publications: string[];
  eventTriggers: string[];
}

const USER_NAMESPACE = "n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'";
const NOT_EXTENSION_MEMBER = (cls: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${cls}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;
const USER_RELATIONS = `SELECT c.oid, c.relkind, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE ${USER_NAMESPACE} AND c.relkind IN ('r','p','v','m','S','f','c') AND ${NOT_EXTENSION_MEMBER("pg_class", "c.oid")}`;
const USER_ROUTINES = `SELECT p.oid, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE ${USER_NAMESPACE} AND ${NOT_EXTENSION_MEMBER("pg_proc", "p.oid")}`;
const USER_TYPES = `SELECT t.oid, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE ${USER_NAMESPACE} AND t.typtype IN ('d','e','r') AND ${NOT_EXTENSION_MEMBER("pg_type", "t.oid")}`;

const STATE_SQL = `SELECT json_build_object(
  'occupied', (SELECT count(*) FROM (${USER_RELATIONS}) r) + (SELECT count(*) FROM (${USER_ROUTINES}) p)
            + (SELECT count(*) FROM (${USER_TYPES}) t) + (SELECT count(*) FROM pg_largeobject_metadata),
  'schemas', (SELECT coalesce(json_agg(json_build_object(
      'name', n.nspname,
      'acl', ARRAY(SELECT a::text FROM unnest(coalesce(n.nspacl, acldefault('n', n.nspowner))) a ORDER BY 1),
      'comment', obj_description(n.oid, 'pg_namespace'),
      'owner', n.nspowner::regrole::text) ORDER BY n.nspname), '[]'::json)
    FROM pg_namespace n WHERE ${USER_NAMESPACE}),
  'extensions', (SELECT coalesce(json_agg(extname ORDER BY extname), '[]'::json) FROM pg_extension),
  'publications', (SELECT coalesce(json_agg(pubname ORDER BY pubname), '[]'::json) FROM pg_publication),
  'eventTriggers', (SELECT coalesce(json_agg(evtname ORDER BY evtname), '[]'::json) FROM pg_event_trigger))`;

async function targetState(target: PgConnection, redactor: Redactor): Promise<TargetState> {
  return JSON.parse(await psqlQuery(target, redactor, STATE_SQL, false)) as TargetState;
}

const textArray = (items: string[]) => `ARRAY[${items.map(quoteLiteral).join(",")}]::text[]`;

/** One transaction that takes the target back to `before` (which had no objects of its own). */
export function cleanupSql(before: TargetState): string {
  const kept = before.schemas;
  const resetSchemas = kept
    .map((s) => {
      const ident = `%I`;
      return `  IF (SELECT ARRAY(SELECT a::text FROM unnest(coalesce(nspacl, acldefault('n', nspowner))) a ORDER BY 1) FROM pg_namespace WHERE nspname = ${quoteLiteral(s.name)}) IS DISTINCT FROM ${textArray(s.acl)} THEN
    FOR g IN SELECT DISTINCT grantee FROM pg_namespace, aclexplode(coalesce(nspacl, acldefault('n', nspowner))) WHERE nspname = ${quoteLiteral(s.name)} LOOP
      EXECUTE format('REVOKE ALL ON SCHEMA ${ident} FROM %s', ${quoteLiteral(s.name)}, CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END);
    END LOOP;
    FOR g IN SELECT * FROM aclexplode(${textArray(s.acl)}::aclitem[]) LOOP
      EXECUTE format('GRANT %s ON SCHEMA ${ident} TO %s%s', g.privilege_type, ${quoteLiteral(s.name)}, CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END, CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
  END IF;
  IF (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = ${quoteLiteral(s.name)}) <> ${quoteLiteral(s.owner)} THEN
    EXECUTE format('ALTER SCHEMA ${ident} OWNER TO %s', ${quoteLiteral(s.name)}, ${quoteLiteral(s.owner)});
  END IF;
  EXECUTE format('COMMENT ON SCHEMA ${ident} IS %s', ${quoteLiteral(s.name)}, ${s.comment === null ? "'NULL'" : `quote_literal(${quoteLiteral(s.comment)})`});`;
    })
    .join("\n");
  return `DO $dbbackup_cleanup$ DECLARE r record; g record; BEGIN
  FOR r IN SELECT evtname FROM pg_event_trigger WHERE NOT (evtname = ANY(${textArray(before.eventTriggers)})) LOOP
    EXECUTE format('DROP EVENT TRIGGER IF EXISTS %I', r.evtname);
  END LOOP;
  FOR r IN SELECT pubname FROM pg_publication WHERE NOT (pubname = ANY(${textArray(before.publications)})) LOOP
    EXECUTE format('DROP PUBLICATION IF EXISTS %I', r.pubname);
  END LOOP;
  FOR r IN SELECT extname FROM pg_extension WHERE NOT (extname = ANY(${textArray(before.extensions)})) LOOP
    EXECUTE format('DROP EXTENSION IF EXISTS %I CASCADE', r.extname);
  END LOOP;
  FOR r IN SELECT n.nspname FROM pg_namespace n WHERE ${USER_NAMESPACE} AND NOT (n.nspname = ANY(${textArray(kept.map((s) => s.name))})) LOOP
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', r.nspname);
  END LOOP;
  FOR r IN ${USER_RELATIONS} LOOP
    IF EXISTS (SELECT 1 FROM pg_class WHERE oid = r.oid) THEN
      EXECUTE format('DROP %s IF EXISTS %I.%I CASCADE', CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END, r.nspname, r.relname);
    END IF;
  END LOOP;
  FOR r IN ${USER_ROUTINES} LOOP
    IF EXISTS (SELECT 1 FROM pg_proc WHERE oid = r.oid) THEN
      EXECUTE format('DROP %s %s CASCADE', CASE r.prokind WHEN 'a' THEN 'AGGREGATE' WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, r.oid::regprocedure);
    END IF;
  END LOOP;
  FOR r IN ${USER_TYPES} LOOP
    IF EXISTS (SELECT 1 FROM pg_type WHERE oid = r.oid) THEN
      EXECUTE format('DROP %s %s CASCADE', CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.oid::regtype);
    END IF;
  END LOOP;
  PERFORM lo_unlink(oid) FROM pg_largeobject_metadata;
${resetSchemas}
END $dbbackup_cleanup$;
`;
}

/** Runs SQL with psql against the target (libpq: the same sslmode and password as pg_restore). */
async function psqlQuery(target: PgConnection, redactor: Redactor, sql: string, transaction: boolean): Promise<string> {
  const args = ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "--no-password", "-d", target.url];
  if (transaction) args.push("--single-transaction");
  const env = { ...target.env, PGOPTIONS: "-c client_min_messages=warning" };
  return (await captureOutput("psql", args, { env, redactor, label: "psql", input: sql })).trim();
}
