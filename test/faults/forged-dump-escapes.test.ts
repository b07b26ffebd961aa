// A forged dump trying to get out of the restore's one transaction, or out of the restored
// database, against the real PostgreSQL, S3 server and NATS, through the bundle. Each dump is
// stored as a backup of its own with a manifest whose SHA-256, sizes and row counts match it (what
// whoever holds the bucket's key can write), so only the apply engine stands in the way. The
// statements are put after the data, just before pg_dump's closing `\unrestrict`: a statement the
// engine skipped instead of refusing would let the restore exit 0.
//
// What restore-transaction.test.ts already proves (`\!`, `\o`, `\copy`, one COMMIT of the dump's,
// COPY … FROM PROGRAM, ALTER SYSTEM, CREATE ROLE) is not repeated here. Here: transaction control
// in every spelling; the other cluster-level statements of the deny-list; COPY to a file or from a
// program by query; the other psql meta-commands; two statements smuggled in one through the
// lexer; a dump taking away the job's lock timeout; cluster-wide GRANT/REVOKE and SELECTs with
// effects outside the transaction, which pg_dump never writes either; bytes that are not text;
// and the converse: a genuine pg_dump with user mappings (postgres_fdw) is not taken for a forged one.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackupManifestSchema, type BackupManifest } from "../../job/inventory/manifest";
import { expectOneLineError } from "../helpers/assertions";
import { createBackup, manifestKey } from "../helpers/backups";
import { jobEnv, runCli, startCli, type CliResult } from "../helpers/cli";
import { database, dbUrl, dropDatabase, sql } from "../helpers/pg";
import { getObject, makeBucket, putObject, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { bucketVersions, dbSnapshot } from "../helpers/snapshots";

const bucket = uniqueBucket("dbb-forged-esc");
const created: string[] = [];
const stamp = `${process.pid}_${Date.now().toString(36)}`;
/** Roles of this file: one the forged dumps try to change or drop, grantees, and names that must never exist. */
const victim = `dbb_fe_victim_${stamp}`;
const groupGrantee = `dbb_fe_group_${stamp}`;
const grantee = `dbb_fe_grantee_${stamp}`;
const verifyGrantee = `dbb_fe_vgrantee_${stamp}`;
const smuggled = `dbb_fe_smuggled_${stamp}`;
const dblinkRole = `dbb_fe_dblink_${stamp}`;
const ROLES = [victim, groupGrantee, grantee, verifyGrantee, smuggled, dblinkRole];
/** A database the forged dumps try to drop, alter or lock out, and one they try to create. */
const victimDb = `dbb_fe_victimdb_${stamp}`;
const smuggledDb = `dbb_fe_smuggleddb_${stamp}`;
/** A large object oid of this run (the forged dumps export it to a file). */
const LO_OID = 3_000_000_000 + (process.pid % 1_000_000);

let env: Record<string, string>;
let good: BackupManifest;
/** The good backup's SQL, as pg_dump wrote it. */
let genuine: string;
/** Where a forged dump would write files: world-writable, so the server's own OS user could. */
let dir: string;
let forgedCount = 0;

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Stores `dump` as a new completed backup whose manifest matches it (SHA-256, sizes, row counts). */
async function forge(dump: string | Buffer): Promise<BackupManifest> {
  const id = `forged_${stamp}_${++forgedCount}`;
  const text = typeof dump === "string" ? Buffer.from(dump, "utf8") : dump;
  const body = zlib.gzipSync(text);
  const manifest = BackupManifestSchema.parse({
    ...good,
    id,
    key: `supabase/manual/${id}.sql.gz`,
    sha256: sha256(body),
    sizes: { stored: body.length, dumped: text.length },
  });
  await putObject(bucket, manifest.key, body);
  await putObject(bucket, manifestKey(manifest), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

/** The genuine dump with `block` put after everything, before `\unrestrict`; `line` is the block's first line. */
function atEnd(block: string): { text: string; line: number } {
  const unrestrict = genuine.lastIndexOf("\n\\unrestrict ");
  const at = unrestrict < 0 ? genuine.length : unrestrict + 1;
  return { text: genuine.slice(0, at) + block + "\n" + genuine.slice(at), line: genuine.slice(0, at).split("\n").length };
}

/** A target with data of its own (and a table the victim role owns), so "unchanged" means something. */
function markedTarget(): Promise<{ name: string; url: string }> {
  return database(created, "dbb_fe_t", {
    sql: `CREATE SCHEMA keep; CREATE TABLE keep.marker (v text); INSERT INTO keep.marker VALUES ('untouched');
      CREATE TABLE keep.owned (v int); ALTER TABLE keep.owned OWNER TO ${victim}`,
  });
}

function restore(m: BackupManifest, target: { url: string }): Promise<CliResult> {
  return runCli(["restore", m.id, "--target", target.url, "--target-env", "test"], env);
}

/** The one line a refused statement gives. */
function refusedAt(why: string, line: number): RegExp {
  return new RegExp(`^error: ${escapeRe(`the dump holds ${why} at line ${line}, which pg_dump never writes: refused, the dump is forged or not pg_dump's; nothing was restored`)}$`);
}

/** The one line a psql meta-command gives. */
function metaAt(command: string, line: number): RegExp {
  return new RegExp(`^error: ${escapeRe(`the dump holds a psql meta-command at line ${line} (\\${command}): never run; the dump is forged or not pg_dump's; nothing was restored`)}$`);
}

const roleExists = async (name: string) => (await sql("postgres", "SELECT 1 FROM pg_roles WHERE rolname = $1", [name])).length > 0;
const databaseExists = async (name: string) => (await sql("postgres", "SELECT 1 FROM pg_database WHERE datname = $1", [name])).length > 0;
const memberOf = async (role: string, group: string) =>
  (await sql<{ m: boolean }>("postgres", "SELECT pg_has_role($1, $2, 'MEMBER') AS m", [role, group]))[0]!.m;

/** Runs `fn` over `items`, `size` at a time. */
async function inPool<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

interface Attack {
  name: string;
  /** What is put at the end of the dump. */
  block: string;
  /** The line of the block the refused statement starts on (default its first). */
  at?: number;
  /** The one error line, from the statement's line in the dump. */
  message: (line: number) => RegExp;
  /** Whether its effect outside the target happened. */
  ran?: (target: { name: string }) => Promise<boolean>;
}

/** Each attack in its own forged backup and fresh target: exit 4 with the one line naming it, the
 * target exactly as before, its effect absent, and the bucket unchanged by the restores. */
async function expectRefusedUnchanged(attacks: Attack[]): Promise<void> {
  const prepared = [];
  for (const attack of attacks) {
    const { text, line } = atEnd(attack.block);
    const target = await markedTarget();
    prepared.push({ attack, line: line + (attack.at ?? 0), manifest: await forge(text), target, before: await dbSnapshot(target.name) });
  }
  const bucketBefore = await bucketVersions(bucket);
  await inPool(prepared, 4, async ({ attack, line, manifest, target, before }) => {
    const result = await restore(manifest, target);
    expect(result.code, `${attack.name}: ${result.stderr}`).toBe(4);
    expectOneLineError(result, attack.message(line));
    expect(await dbSnapshot(target.name), `${attack.name} changed the target`).toEqual(before);
    if (attack.ran) expect(await attack.ran(target), `${attack.name} ran`).toBe(false);
  });
  expect(await bucketVersions(bucket)).toEqual(bucketBefore);
}

beforeAll(async () => {
  await requireServices("postgres", "s3", "nats");
  dir = mkdtempSync(path.join(os.tmpdir(), "dbb-fe-"));
  chmodSync(dir, 0o777);
  // The server's own user can write there: a file a forged statement would write is not absent for want of rights.
  const control = path.join(dir, "control");
  await sql("postgres", `COPY (SELECT 1) TO '${control}'`);
  expect(existsSync(control)).toBe(true);
  rmSync(control);
  await sql("postgres", `CREATE ROLE ${victim} NOLOGIN; CREATE ROLE ${groupGrantee} NOLOGIN; CREATE ROLE ${grantee} NOLOGIN; CREATE ROLE ${verifyGrantee} NOLOGIN`);
  await sql("postgres", `CREATE DATABASE ${victimDb}`);
  const source = await database(created, "dbb_fe_src", {
    sql: "CREATE SCHEMA app; CREATE TABLE app.items (id int PRIMARY KEY, name text); INSERT INTO app.items SELECT g, 'item ' || g FROM generate_series(1, 5) g",
  });
  await makeBucket(bucket);
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl });
  good = await createBackup(env);
  genuine = zlib.gunzipSync(await getObject(bucket, good.key)).toString("utf8");
  expect(good.rowCounts).toEqual({ "app.items": 5 });
  // What the placement relies on: the data comes before pg_dump's closing \unrestrict.
  expect(genuine).toMatch(/\nCOPY app\.items \(id, name\) FROM stdin;\n[\s\S]*\n\\unrestrict \S+\n/);
});

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  for (const name of [victimDb, smuggledDb]) await dropDatabase(name).catch(() => undefined);
  for (const role of ROLES) await sql("postgres", `DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await removeBucket(bucket);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("only the job begins and commits", () => {
  it("transaction control in any spelling (case, comments, ROLLBACK TO, PREPARE/COMMIT/ROLLBACK PREPARED) is refused at its line, nothing restored", async () => {
    const control = (what: string) => (line: number) => refusedAt(`transaction control (${what})`, line);
    const gid = `dbb_fe_gid_${stamp}`;
    const prepared = async () => (await sql("postgres", "SELECT 1 FROM pg_prepared_xacts WHERE gid = $1", [gid])).length > 0;
    await expectRefusedUnchanged([
      { name: "ROLLBACK", block: "ROLLBACK;", message: control("ROLLBACK") },
      { name: "comment, lowercase, WORK", block: "/* the job's transaction */ rollback work ;", message: control("ROLLBACK") },
      { name: "ABORT after a line comment", block: "-- harmless\nAbOrT;", at: 1, message: control("ABORT") },
      { name: "SAVEPOINT", block: "SAVEPOINT dbb_forged;", message: control("SAVEPOINT") },
      { name: "RELEASE SAVEPOINT", block: "RELEASE SAVEPOINT dbb_forged;", message: control("RELEASE SAVEPOINT") },
      { name: "ROLLBACK TO SAVEPOINT", block: "ROLLBACK TO SAVEPOINT dbb_forged;", message: control("ROLLBACK") },
      { name: "PREPARE TRANSACTION, a comment between", block: `prepare /* x */ transaction '${gid}';`, message: control("PREPARE TRANSACTION"), ran: prepared },
      { name: "COMMIT PREPARED (not the dump's COMMIT)", block: `COMMIT PREPARED '${gid}';`, message: control("COMMIT PREPARED") },
      { name: "ROLLBACK PREPARED", block: `ROLLBACK\n  PREPARED '${gid}';`, message: control("ROLLBACK PREPARED") },
    ]);
  });

  it("the dump's own COMMIT, END, COMMIT AND CHAIN, START TRANSACTION and BEGIN are never sent: a failure after them leaves nothing", async () => {
    const block = "COMMIT;\nend transaction;\n/* x */ Commit And Chain;\nSTART TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nbegin work;\nCREATE TABLE keep.failing AS VALUES (1/0);";
    const { text, line } = atEnd(block);
    const forged = await forge(text);
    const target = await markedTarget();
    const before = await dbSnapshot(target.name);
    const result = await restore(forged, target);
    expect(result.code, result.stderr).toBe(1);
    expectOneLineError(result, new RegExp(`^error: the restore into \\S+ failed: division by zero \\(the dump's statement at line ${line + 5}\\); nothing was committed$`));
    expect(await dbSnapshot(target.name)).toEqual(before);

    // Dropped, not refused: without the failure the same statements restore, in one piece.
    const control = await forge(atEnd(block.replace("\nCREATE TABLE keep.failing AS VALUES (1/0);", "")).text);
    const restored = await restore(control, target);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await sql(target.name, "SELECT count(*)::int AS n FROM app.items")).toEqual([{ n: 5 }]);
    expect(await sql(target.name, "SELECT v FROM keep.marker")).toEqual([{ v: "untouched" }]);
  });

  it("verify refuses PREPARE TRANSACTION and \\set ON_ERROR_STOP off (exit 4), drops its scratch database, records no verification", async () => {
    const attacks: [string, (line: number) => RegExp][] = [
      ["PREPARE TRANSACTION 'dbb_fe_verify';", (line) => refusedAt("transaction control (PREPARE TRANSACTION)", line)],
      ["\\set ON_ERROR_STOP off", (line) => metaAt("set", line)],
    ];
    for (const [block, message] of attacks) {
      const { text, line } = atEnd(block);
      const forged = await forge(text);
      const manifestBefore = await getObject(bucket, manifestKey(forged));
      const result = await runCli(["verify", forged.id, "--allow-source-server"], env);
      expect(result.code, result.stderr).toBe(4);
      expectOneLineError(result, message(line));
      const scratch = /scratch database (\S+)/.exec(result.stderr)?.[1];
      expect(scratch, result.stderr).toBeDefined();
      expect(await databaseExists(scratch!), `${scratch} was left behind`).toBe(false);
      expect((await getObject(bucket, manifestKey(forged))).equals(manifestBefore), "the manifest was rewritten").toBe(true);
    }
    expect(await sql("postgres", "SELECT gid FROM pg_prepared_xacts WHERE gid = 'dbb_fe_verify'")).toEqual([]);
  });
});

describe("statements that act outside the restored database are refused", () => {
  it("the roles, databases and server of the deny-list, and DO, CALL, LOAD, CHECKPOINT: exit 4 naming each, nothing done", async () => {
    const victimState = async () => (await sql<{ s: string }>("postgres", "SELECT rolsuper::text || rolcanlogin::text AS s FROM pg_roles WHERE rolname = $1", [victim]))[0]?.s;
    const settings = async () => (await sql("postgres", "SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1", [victimDb])).length > 0;
    const owner = async (target: { name: string }) => (await sql<{ o: string }>(target.name, "SELECT tableowner AS o FROM pg_tables WHERE schemaname = 'keep' AND tablename = 'owned'"))[0]?.o !== victim;
    const refused = (why: string) => (line: number) => refusedAt(why, line);
    await expectRefusedUnchanged([
      { name: "ALTER ROLE … SUPERUSER", block: `ALTER ROLE ${victim} SUPERUSER LOGIN PASSWORD 'forged';`, message: refused("ALTER ROLE"), ran: async () => (await victimState()) !== "falsefalse" },
      { name: "ALTER USER", block: `alter user ${victim} with superuser;`, message: refused("ALTER USER"), ran: async () => (await victimState()) !== "falsefalse" },
      { name: "DROP ROLE", block: `DROP ROLE ${victim};`, message: refused("DROP ROLE"), ran: async () => !(await roleExists(victim)) },
      { name: "CREATE USER", block: `CREATE USER ${smuggled} SUPERUSER PASSWORD 'forged';`, message: refused("CREATE USER"), ran: () => roleExists(smuggled) },
      { name: "CREATE GROUP", block: `CREATE GROUP ${smuggled};`, message: refused("CREATE GROUP"), ran: () => roleExists(smuggled) },
      { name: "ALTER GROUP … ADD USER", block: `ALTER GROUP pg_execute_server_program ADD USER ${groupGrantee};`, message: refused("ALTER GROUP"), ran: () => memberOf(groupGrantee, "pg_execute_server_program") },
      { name: "DROP OWNED", block: `DROP OWNED BY ${victim};`, message: refused("DROP OWNED") },
      { name: "REASSIGN OWNED", block: `REASSIGN OWNED BY ${victim} TO postgres;`, message: refused("REASSIGN OWNED"), ran: owner },
      { name: "CREATE DATABASE", block: `CREATE DATABASE ${smuggledDb};`, message: refused("CREATE DATABASE"), ran: () => databaseExists(smuggledDb) },
      { name: "DROP DATABASE", block: `DROP DATABASE ${victimDb};`, message: refused("DROP DATABASE"), ran: async () => !(await databaseExists(victimDb)) },
      { name: "ALTER DATABASE … SET", block: `ALTER DATABASE ${victimDb} SET work_mem = '1MB';`, message: refused("ALTER DATABASE"), ran: settings },
      { name: "DO", block: `DO $forged$ BEGIN EXECUTE 'CREATE ROLE ${smuggled}'; END $forged$;`, message: refused("an anonymous code block (DO)"), ran: () => roleExists(smuggled) },
      { name: "CALL", block: "CALL app.forged();", message: refused("CALL of a procedure") },
      { name: "LOAD", block: "LOAD 'auto_explain';", message: refused("LOAD (a shared library)") },
      { name: "CHECKPOINT", block: "CHECKPOINT;", message: refused("CHECKPOINT") },
    ]);
  });

  it("COPY to a file, from a file, to a program by query, to stdout, or from stdin in another format: exit 4, no file written", async () => {
    const file = (what: string) => path.join(dir, `copy_${what}`);
    const copy = (line: number) => refusedAt("a COPY that is not pg_dump's `COPY … FROM stdin` (to or from a file or a program)", line);
    await expectRefusedUnchanged([
      { name: "COPY … TO a file", block: `COPY app.items TO '${file("to_file")}';`, message: copy, ran: async () => existsSync(file("to_file")) },
      { name: "COPY … FROM a file", block: "COPY app.items FROM '/etc/hostname';", message: copy },
      { name: "COPY (query) TO PROGRAM", block: `copy (SELECT 1) to program 'touch ${file("program")}';`, message: copy, ran: async () => existsSync(file("program")) },
      { name: "COPY … TO STDOUT", block: "COPY app.items TO STDOUT;", message: copy },
      { name: "COPY … FROM stdin as csv, with its data", block: "COPY app.items FROM stdin WITH (FORMAT csv);\n6,forged\n\\.", message: copy },
    ]);
  });

  it("GRANT of a role and REVOKE CONNECT on another database (cluster-wide, never in a pg_dump): exit 4, nothing granted or revoked", async () => {
    const connectRevoked = async () => !(await sql<{ ok: boolean }>("postgres", "SELECT has_database_privilege('public', $1, 'CONNECT') AS ok", [victimDb]).catch(() => [{ ok: true }]))[0]!.ok;
    await expectRefusedUnchanged([
      {
        name: "GRANT pg_execute_server_program",
        block: `GRANT pg_execute_server_program, pg_write_server_files TO ${grantee};`,
        message: (line) => new RegExp(`^error: the dump holds .* at line ${line}, which pg_dump never writes: refused`),
        ran: () => memberOf(grantee, "pg_execute_server_program"),
      },
      {
        name: "REVOKE CONNECT ON DATABASE",
        block: `REVOKE CONNECT ON DATABASE ${victimDb} FROM PUBLIC;`,
        message: (line) => new RegExp(`^error: the dump holds .* at line ${line}, which pg_dump never writes: refused`),
        ran: connectRevoked,
      },
    ]);
  });

  it("verify of a dump granting pg_execute_server_program: exit 4, nothing granted on the verification server, not verified", async () => {
    const { text, line } = atEnd(`GRANT pg_execute_server_program TO ${verifyGrantee};`);
    const forged = await forge(text);
    const result = await runCli(["verify", forged.id, "--allow-source-server"], env);
    expect(await memberOf(verifyGrantee, "pg_execute_server_program"), "the drill granted a cluster-wide role").toBe(false);
    expect(result.code, result.stderr).toBe(4);
    expectOneLineError(result, new RegExp(`^error: the dump holds .* at line ${line}, which pg_dump never writes: refused`));
    const manifest = BackupManifestSchema.parse(JSON.parse((await getObject(bucket, manifestKey(forged))).toString("utf8")));
    expect(manifest.verification).toBeUndefined();
  });

  it("SELECTs pg_dump never writes that act outside the transaction (lo_export to a server file, dblink_exec): refused, nothing left behind by the failed restore", async () => {
    const file = path.join(dir, "lo_export");
    const attacks = [
      {
        name: "lo_export",
        block: `SELECT pg_catalog.lo_from_bytea(${LO_OID}, '\\x666f72676564');\nSELECT pg_catalog.lo_export(${LO_OID}, '${file}');\nSELECT 1/0;`,
        ran: async () => existsSync(file),
      },
      {
        name: "dblink_exec",
        block: `CREATE EXTENSION dblink WITH SCHEMA app;\nSELECT app.dblink_exec('${dbUrl("postgres")}', 'CREATE ROLE ${dblinkRole}');\nSELECT 1/0;`,
        ran: () => roleExists(dblinkRole),
      },
    ];
    const outcomes = [];
    for (const attack of attacks) {
      const { text, line } = atEnd(attack.block);
      const forged = await forge(text);
      const target = await markedTarget();
      const before = await dbSnapshot(target.name);
      const result = await restore(forged, target);
      outcomes.push({ name: attack.name, line, result, ran: await attack.ran(), unchanged: JSON.stringify(await dbSnapshot(target.name)) === JSON.stringify(before) });
    }
    expect(outcomes.filter((o) => o.ran).map((o) => o.name), "effects the failed restore left outside the target").toEqual([]);
    for (const o of outcomes) {
      expect(o.unchanged, `${o.name} changed the target`).toBe(true);
      expect(o.result.code, `${o.name}: ${o.result.stderr}`).toBe(4);
      // lo_from_bytea is not pg_dump's either (it writes lo_create/lo_open/lowrite/lo_close).
      expectOneLineError(o.result, new RegExp(`^error: the dump holds .* at line (${o.line}|${o.line + 1}), which pg_dump never writes: refused`));
    }
  });
});

describe("the lexer and the session cannot be turned against the job", () => {
  it("two statements smuggled as one (psql's BEGIN tracking, standard_conforming_strings flipped behind the reader's back): the server runs neither", async () => {
    const cases = [
      {
        name: "BEGIN … END inside CREATE FUNCTION",
        block: `CREATE FUNCTION app.f() RETURNS int LANGUAGE sql SET search_path = begin AS 'select 1';\nCREATE ROLE ${smuggled};\nEND;`,
        at: 0,
      },
    ];
    // Flipping standard_conforming_strings back behind the reader's back needs a SELECT of
    // set_config, which pg_dump never writes: refused before the smuggling statement is reached.
    {
      const { text, line } = atEnd(`SET standard_conforming_strings = off;\nSELECT pg_catalog.set_config('standard_conforming_strings', 'on', false);\nSELECT 'a\\'; CREATE ROLE ${smuggled}; SELECT 1 -- ';`);
      const forged = await forge(text);
      const target = await markedTarget();
      const before = await dbSnapshot(target.name);
      const result = await restore(forged, target);
      expect(result.code, result.stderr).toBe(4);
      expectOneLineError(result, new RegExp(`^error: the dump holds a SELECT other than pg_dump's .* at line ${line + 1}, which pg_dump never writes: refused`));
      expect(await roleExists(smuggled)).toBe(false);
      expect(await dbSnapshot(target.name)).toEqual(before);
    }
    for (const c of cases) {
      const { text, line } = atEnd(c.block);
      const forged = await forge(text);
      const target = await markedTarget();
      const before = await dbSnapshot(target.name);
      const result = await restore(forged, target);
      expect(result.code, `${c.name}: ${result.stderr}`).toBe(1);
      expectOneLineError(result, new RegExp(`^error: the restore into \\S+ failed: cannot insert multiple commands into a prepared statement \\(the dump's statement at line ${line + c.at}\\); nothing was committed$`));
      expect(await roleExists(smuggled), `${c.name}: the smuggled statement ran`).toBe(false);
      expect(await dbSnapshot(target.name)).toEqual(before);
    }
  });

  it("a dump cannot take away RESTORE_LOCK_TIMEOUT_SECONDS: behind a lock the restore still gives up (or refuses the statement), whatever the dump set", async () => {
    const overrides = [
      { name: "no override (control)", sql: "" },
      { name: "pg_dump's SET lock_timeout = 0", sql: "SET lock_timeout = 0;" },
      { name: "SET LOCAL lock_timeout", sql: "SET LOCAL lock_timeout = 0;" },
      { name: "RESET lock_timeout", sql: "RESET lock_timeout;" },
      { name: "set_config('lock_timeout')", sql: "SELECT pg_catalog.set_config('lock_timeout', '0', false);" },
    ];
    const GIVE_UP_MS = 10_000;
    const outcomes = await Promise.all(
      overrides.map(async (o) => {
        const { text, line } = atEnd(`${o.sql}\nALTER TABLE keep.marker ADD COLUMN dbb_waits int;`);
        const forged = await forge(text);
        const target = await markedTarget();
        const before = await dbSnapshot(target.name);
        const blocker = new pg.Client({ connectionString: target.url });
        await blocker.connect();
        try {
          await blocker.query("BEGIN");
          await blocker.query("LOCK TABLE keep.marker IN ACCESS EXCLUSIVE MODE");
          const run = startCli(["restore", forged.id, "--target", target.url, "--target-env", "test"], { ...env, RESTORE_LOCK_TIMEOUT_SECONDS: "1" }, { timeoutMs: 60_000 });
          // Only to stop waiting: a restore still running then waits for as long as the lock is held.
          await Promise.race([run.done, sleep(GIVE_UP_MS)]);
          await blocker.query("ROLLBACK");
          const result = await run.done;
          return { ...o, line, result, unchanged: JSON.stringify(await dbSnapshot(target.name)) === JSON.stringify(before) };
        } finally {
          await blocker.end();
        }
      }),
    );
    // A restore that ran past the lock once it was released waited for it, whatever its timeout.
    expect(outcomes.filter((o) => o.result.code === 0).map((o) => o.name), "waited for the lock past RESTORE_LOCK_TIMEOUT_SECONDS").toEqual([]);
    for (const o of outcomes) {
      if (o.result.code === 4) {
        expectOneLineError(o.result, new RegExp(`^error: the dump holds .* at line ${o.line}, which pg_dump never writes: refused`));
      } else {
        expect(o.result.code, `${o.name}: ${o.result.stderr}`).toBe(1);
        expectOneLineError(o.result, /^error: the restore waited 1 s for a lock on \S+ and gave up \(RESTORE_LOCK_TIMEOUT_SECONDS\): held by pid \d+ .*nothing was committed$/);
      }
      expect(o.unchanged, `${o.name} changed the target`).toBe(true);
    }
  });

  it("psql meta-commands the other tests do not name (\\connect, \\c, \\i, \\gexec, \\setenv, one after a statement on its line, one after SQL): exit 4, never run", async () => {
    const touched = path.join(dir, "meta_touched");
    const written = path.join(dir, "meta_g");
    await expectRefusedUnchanged([
      { name: "\\connect", block: "\\connect postgres", message: (line) => metaAt("connect", line) },
      { name: "\\c", block: `\\c ${victimDb}`, message: (line) => metaAt("c", line) },
      { name: "\\i", block: "\\i /etc/hostname", message: (line) => metaAt("i", line) },
      { name: "\\gexec", block: `SELECT 'CREATE ROLE ${smuggled}'\n\\gexec`, at: 1, message: (line) => new RegExp(`^error: a psql meta-command \\(\\\\…\\) follows SQL on line ${line}: not a pg_dump script; nothing was restored$`), ran: () => roleExists(smuggled) },
      { name: "\\setenv", block: "\\setenv PGHOST 203.0.113.1", message: (line) => metaAt("setenv", line) },
      { name: "\\! after a statement on its line", block: `SET search_path = ''; \\! touch ${touched}`, message: (line) => metaAt("!", line), ran: async () => existsSync(touched) },
      { name: "\\g after SQL", block: `SET search_path = '' \\g ${written}`, message: (line) => new RegExp(`^error: a psql meta-command \\(\\\\…\\) follows SQL on line ${line}: not a pg_dump script; nothing was restored$`), ran: async () => existsSync(written) },
    ]);
  });
});

describe("bytes that are not a pg_dump script", () => {
  /** Restores `dump` into a fresh target; the target must be exactly as before. */
  async function restoreUnchanged(dump: string | Buffer): Promise<CliResult> {
    const forged = await forge(dump);
    const target = await markedTarget();
    const before = await dbSnapshot(target.name);
    const result = await restore(forged, target);
    expect(await dbSnapshot(target.name)).toEqual(before);
    return result;
  }

  it("a dump in SJIS, or with a statement that is not UTF-8: exit 4 naming it, nothing restored", async () => {
    expect(genuine).toContain("SET client_encoding = 'UTF8';");
    const sjis = await restoreUnchanged(genuine.replace("SET client_encoding = 'UTF8';", "SET client_encoding = 'SJIS';"));
    expect(sjis.code, sjis.stderr).toBe(4);
    expectOneLineError(sjis, /^error: the dump is written in SJIS: db-backup restores UTF8 dumps \(new backups are dumped as UTF8\); nothing was restored$/);

    const { text, line } = atEnd("SELECT 'caf#';");
    const [head, tail] = text.split("#") as [string, string];
    const latin1 = await restoreUnchanged(Buffer.concat([Buffer.from(head), Buffer.from([0xe9]), Buffer.from(tail)]));
    expect(latin1.code, latin1.stderr).toBe(4);
    expectOneLineError(latin1, new RegExp(`^error: the statement at line ${line} is not valid UTF-8: db-backup restores UTF-8 dumps .*; nothing was restored$`));
  });

  it("a NUL byte in a statement (no pg_dump writes one) is the dump's fault: exit 4 naming its line, not a failed connection", async () => {
    const { text, line } = atEnd("SELECT 'a\u0000b';");
    const result = await restoreUnchanged(text);
    expect(result.code, result.stderr).toBe(4);
    const error = expectOneLineError(result, new RegExp(`line ${line}\\b.*nothing was (restored|committed)$`));
    expect(error).not.toMatch(/connection/);
  });
});

describe("a genuine dump is not taken for a forged one", () => {
  it("a database with a foreign server and user mappings (postgres_fdw, as Supabase's wrappers): restore and verify exit 0", async () => {
    const fdw = await database(created, "dbb_fe_fdw", {
      sql: `CREATE EXTENSION postgres_fdw; CREATE SERVER dbb_fe_remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', dbname 'postgres');
        CREATE USER MAPPING FOR postgres SERVER dbb_fe_remote OPTIONS (user 'postgres'); CREATE USER MAPPING FOR PUBLIC SERVER dbb_fe_remote;
        CREATE TABLE public.items (id int PRIMARY KEY); INSERT INTO public.items SELECT generate_series(1, 3)`,
    });
    const fdwEnv = { ...env, SUPABASE_DB_URL: fdw.url };
    const backup = await createBackup(fdwEnv);
    expect(zlib.gunzipSync(await getObject(bucket, backup.key)).toString("utf8")).toMatch(/\nCREATE USER MAPPING FOR postgres SERVER dbb_fe_remote OPTIONS \(/);
    const target = await database(created, "dbb_fe_fdw_t");
    const restored = await runCli(["restore", backup.id, "--target", target.url, "--target-env", "test"], fdwEnv);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await sql(target.name, "SELECT count(*)::int AS n FROM pg_user_mappings WHERE srvname = 'dbb_fe_remote'")).toEqual([{ n: 2 }]);
    expect(await sql(target.name, "SELECT count(*)::int AS n FROM public.items")).toEqual([{ n: 3 }]);
    const verified = await runCli(["verify", backup.id, "--allow-source-server"], fdwEnv);
    expect(verified.code, verified.stderr).toBe(0);
  });
});
