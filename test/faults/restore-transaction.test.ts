// A restore is one transaction whatever the dump holds, a forged dump runs nothing, and no failure
// exits 0. Real servers, through the bundle, plain dumps. pg_dump's plain output wraps large-object
// data in its own `BEGIN; … COMMIT;`: a restore that fails after that COMMIT (a row count, a cut
// object, a swapped dump, a wrong checksum) must still leave the target exactly as it was, large
// objects included. A dump rewritten by whoever holds the bucket's key (checksum and sizes fixed to
// match) with psql meta-commands (`\!`, `\o`, `\copy … program`), a COMMIT of its own, or statements
// pg_dump never writes (COPY … PROGRAM, ALTER SYSTEM, CREATE ROLE) is refused with exit 4 before
// anything of it runs, by restore and by verify. A restore that cannot load (a type the target
// lacks) or whose object is corrupt never exits 0.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupManifest } from "../../job/inventory/manifest";
import { expectFailure, expectOneLineError } from "../helpers/assertions";
import { createBackup, manifestKey, readManifest, rewriteManifest } from "../helpers/backups";
import { jobEnv, runCli, type CliResult } from "../helpers/cli";
import { subscribeEvents } from "../helpers/nats";
import { database, dataFingerprint, dropDatabase, sql } from "../helpers/pg";
import { getObject, makeBucket, putObject, removeBucket, s3Client, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { bucketVersions, dbSnapshot } from "../helpers/snapshots";

const bucket = uniqueBucket("dbb-restore-tx");
const created: string[] = [];
const stamp = `${process.pid}_${Date.now().toString(36)}`;
/** Files a forged dump would create: in /tmp itself, so the server's own user could write them too. */
const tmpfile = (what: string) => `/tmp/dbb_forged_${stamp}_${what}`;
const forgedRole = `dbb_forged_role_${stamp}`;
const forgedSetting = `dbb_forged_${stamp}`;
const POLICIES = 200;

let env: Record<string, string>;
let events: Awaited<ReturnType<typeof subscribeEvents>>;
let source: { name: string; url: string };
/** The source's backup: two tables, an index, RLS with many policies, four large objects. */
let lo: BackupManifest;
let loDump: Buffer;
let loManifestText: string;
/** A valid backup of another database: the same table t and large objects, no table u. */
let other: BackupManifest;
/** `--schema app` of a database whose table uses extensions.citext. */
let citext: BackupManifest;

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const gunzip = (b: Buffer) => zlib.gunzipSync(b).toString("utf8");

/** An empty database to restore into, and what it looks like before. */
async function emptyTarget(): Promise<{ name: string; url: string; before: Record<string, unknown> }> {
  const db = await database(created, "dbb_rtx_t");
  return { ...db, before: await dbSnapshot(db.name) };
}

/** The target is exactly as it was: no relation, no function, no schema, no large object. */
async function expectUntouched(target: { name: string; before: Record<string, unknown> }): Promise<void> {
  expect(await dbSnapshot(target.name)).toEqual(target.before);
  const rels = await sql<{ n: number }>(target.name, "SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')");
  expect(rels[0]!.n, "a relation was committed").toBe(0);
  const los = await sql<{ n: number }>(target.name, "SELECT count(*)::int AS n FROM pg_largeobject_metadata");
  expect(los[0]!.n, "a large object was committed").toBe(0);
}

async function largeObjects(db: string): Promise<Record<string, string>> {
  const rows = await sql<{ oid: string; digest: string }>(db, "SELECT oid::text, md5(lo_get(oid)) AS digest FROM pg_largeobject_metadata ORDER BY oid");
  return Object.fromEntries(rows.map((r) => [r.oid, r.digest]));
}

function restore(m: BackupManifest, target: { url: string }): Promise<CliResult> {
  return runCli(["restore", m.id, "--target", target.url, "--target-env", "test"], env);
}

/** Stores `dump` as the backup's object and fixes the manifest's SHA-256 and sizes to match it (as
 * whoever holds the job's S3 key can), then `change`s the manifest; runs `fn`; puts both back. */
async function withStored(dump: Buffer | null, change: (m: BackupManifest) => BackupManifest, fn: () => Promise<void>, fixManifest = true): Promise<void> {
  try {
    if (dump === null) await s3Client().removeObject(bucket, lo.key);
    else await putObject(bucket, lo.key, dump);
    await rewriteManifest(bucket, lo, (m) => change(dump !== null && fixManifest ? { ...m, sha256: sha256(dump), sizes: { ...m.sizes, stored: dump.length } } : m));
    await fn();
  } finally {
    await putObject(bucket, lo.key, loDump);
    await putObject(bucket, manifestKey(lo), loManifestText);
  }
}

/** Where forged lines go: after the dump's first statement (`SET statement_timeout = 0;`, right
 * after `\restrict`), or after `CREATE TABLE public.t (…);` (the table exists, its data is not loaded). */
type Anchor = "first statement" | "create table";

/** The backup's dump, gunzipped, with `lines` inserted at `anchor`, gzipped again. */
function forged(anchor: Anchor, lines: string[]): Buffer {
  const all = gunzip(loDump).split("\n");
  const start = anchor === "first statement" ? all.indexOf("SET statement_timeout = 0;") : all.indexOf("CREATE TABLE public.t (");
  const at = anchor === "first statement" ? start : all.findIndex((l, i) => i > start && l === ");");
  expect(start, anchor).toBeGreaterThan(0);
  expect(at, anchor).toBeGreaterThanOrEqual(start);
  all.splice(at + 1, 0, ...lines);
  return zlib.gzipSync(all.join("\n"));
}

function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

beforeAll(async () => {
  await requireServices("postgres", "s3", "nats");
  await makeBucket(bucket);
  events = await subscribeEvents();

  source = await database(created, "dbb_rtx_src", {
    sql: `CREATE TABLE public.t (id int PRIMARY KEY, v text);
      CREATE INDEX t_v ON public.t (v);
      ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
      CREATE TABLE public.u (id int PRIMARY KEY, t_id int REFERENCES public.t (id));
      INSERT INTO public.t SELECT g, 'v' || g FROM generate_series(1, 20) g;
      INSERT INTO public.u SELECT g, g FROM generate_series(1, 5) g;
      SELECT lo_from_bytea(0, convert_to(repeat('large object ' || g || ' ', 50 * g), 'UTF8')) FROM generate_series(1, 4) g;`,
  });
  // Policies are post-data: pg_dump writes them after the large objects' BEGIN … COMMIT. Many,
  // with text that does not compress, so the dump's last third is after that COMMIT.
  await sql(source.name, Array.from({ length: POLICIES }, (_, i) => `CREATE POLICY p${i} ON public.t USING (v <> '${sha256(Buffer.from(`${stamp}${i}`))}');`).join("\n"));
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl });
  lo = await createBackup(env);
  loDump = await getObject(bucket, lo.key);
  loManifestText = (await getObject(bucket, manifestKey(lo))).toString("utf8");
  expect(lo.rowCounts).toEqual({ "public.t": 20, "public.u": 5 });
  // What the tests rely on: the large objects are in the dump, in pg_dump's own transaction.
  expect(gunzip(loDump)).toMatch(/\nBEGIN;\n\nSELECT pg_catalog\.lo_open[\s\S]*\nCOMMIT;\n[\s\S]*CREATE INDEX t_v[\s\S]*ENABLE ROW LEVEL SECURITY/);

  const otherDb = await database(created, "dbb_rtx_other", {
    sql: `CREATE TABLE public.t (id int PRIMARY KEY, v text);
      INSERT INTO public.t SELECT g, 'other ' || g FROM generate_series(1, 20) g;
      SELECT lo_from_bytea(0, convert_to('other object ' || g, 'UTF8')) FROM generate_series(1, 2) g;`,
  });
  other = await createBackup(jobEnv(otherDb.url, bucket));

  const citextDb = await database(created, "dbb_rtx_citext", {
    sql: `CREATE SCHEMA extensions; CREATE EXTENSION citext SCHEMA extensions;
      CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, c extensions.citext);
      INSERT INTO app.t SELECT g, 'Name ' || g FROM generate_series(1, 10) g;`,
  });
  citext = await createBackup(jobEnv(citextDb.url, bucket), ["--schema", "app"]);
});

afterAll(async () => {
  await events?.close();
  for (const name of created) await dropDatabase(name);
  await sql("postgres", `DROP ROLE IF EXISTS ${forgedRole}`).catch(() => undefined);
  await removeBucket(bucket);
});

describe("large objects stay inside the one transaction", () => {
  it("restores the original: tables, index, RLS and large objects with identical content", async () => {
    const target = await emptyTarget();
    const result = await restore(lo, target);
    expect(result.code, result.stderr).toBe(0);
    expect(await largeObjects(target.name)).toEqual(await largeObjects(source.name));
    expect(Object.keys(await largeObjects(target.name))).toHaveLength(4);
    expect(await dataFingerprint(target.name, ["public"])).toEqual(await dataFingerprint(source.name, ["public"]));
    expect(await sql(target.name, "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.t'::regclass")).toEqual([{ relrowsecurity: true }]);
    expect(await sql(target.name, "SELECT count(*)::int AS n FROM pg_policies WHERE tablename = 't'")).toEqual([{ n: POLICIES }]);
    expect(await sql(target.name, "SELECT indexname FROM pg_indexes WHERE indexname = 't_v'")).toEqual([{ indexname: "t_v" }]);
  });

  it("a row count edited in the manifest (+1): exit 4 naming the mismatch, nothing in the target", async () => {
    const target = await emptyTarget();
    await withStored(loDump, (m) => ({ ...m, rowCounts: { ...m.rowCounts!, "public.t": 21 } }), async () => {
      const result = await restore(lo, target);
      expect(result.code, result.stderr).toBe(4);
      expectOneLineError(result, /row count mismatch for public\.t: 20 restored, 21 in the manifest/);
    }, false);
    await expectUntouched(target);
  });

  it("a manifest whose SHA-256 does not match (checked last, after the large objects' COMMIT): exit 4, nothing in the target", async () => {
    const target = await emptyTarget();
    await withStored(loDump, (m) => ({ ...m, sha256: "0".repeat(64) }), async () => {
      const result = await restore(lo, target);
      expect(result.code, result.stderr).toBe(4);
      expectOneLineError(result, /checksum mismatch/);
    }, false);
    await expectUntouched(target);
  });

  it("the stored gzip cut by a third (checksum fixed to match), cut after the large objects' COMMIT: exit 4, nothing in the target", async () => {
    const target = await emptyTarget();
    const cut = loDump.subarray(0, Math.floor((loDump.length * 2) / 3));
    // What the cut object still holds: the large objects' BEGIN … COMMIT and the index.
    const readable = zlib.gunzipSync(cut, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString("utf8");
    expect(readable).toMatch(/\nSELECT pg_catalog\.lo_close\(0\);\n\nCOMMIT;\n[\s\S]*CREATE INDEX t_v/);
    await withStored(cut, (m) => m, async () => {
      const result = await restore(lo, target);
      expect(result.code, result.stderr).toBe(4);
      expectOneLineError(result, /corrupt|cut short|unexpected end/);
    });
    await expectUntouched(target);
  });

  it("the dump replaced by another valid dump (checksum fixed to match): exit 4 on the row counts, nothing in the target", async () => {
    const target = await emptyTarget();
    const swapped = await getObject(bucket, other.key);
    expect(gunzip(swapped)).toMatch(/\nBEGIN;\n\nSELECT pg_catalog\.lo_open[\s\S]*\nCOMMIT;\n/);
    await withStored(swapped, (m) => m, async () => {
      const result = await restore(lo, target);
      expect(result.code, result.stderr).toBe(4);
      expectOneLineError(result, /row count mismatch for public\.u: 0 restored, 5 in the manifest/);
    });
    await expectUntouched(target);
  });
});

describe("forged dumps run nothing", () => {
  it("the server could run a forged COPY … PROGRAM into /tmp (so an absent file means it did not run)", async () => {
    const control = tmpfile("control");
    await sql(source.name, `CREATE TEMP TABLE x (a text); COPY x FROM PROGRAM 'touch ${control}'`);
    expect(existsSync(control)).toBe(true);
    await sql(source.name, `CREATE TEMP TABLE x (a text); COPY x FROM PROGRAM 'rm -f ${control}'`);
    expect(existsSync(control)).toBe(false);
  });

  const metaCommands: { name: string; command: string; line: (file: string) => string }[] = [
    { name: "\\!", command: "\\\\!", line: (f) => `\\! touch ${f}` },
    { name: "\\o", command: "\\\\o", line: (f) => `\\o ${f}` },
    { name: "\\copy … to program", command: "\\\\copy", line: (f) => `\\copy (select 1) to program 'touch ${f}'` },
  ];
  for (const meta of metaCommands) {
    it(`${meta.name} after the first statement: restore and verify exit 4 naming it, nothing run, nothing restored, no verification`, async () => {
      const file = tmpfile(meta.name.replace(/\W+/g, "_"));
      const dump = forged("first statement", [meta.line(file)]);
      const target = await emptyTarget();
      await withStored(dump, (m) => m, async () => {
        const bucketBefore = await bucketVersions(bucket);
        const restored = await restore(lo, target);
        expect(restored.code, restored.stderr).toBe(4);
        expectOneLineError(restored, new RegExp(`psql meta-command at line \\d+ \\(${meta.command}\\).*forged`));
        expect(existsSync(file), "the meta-command ran").toBe(false);
        expect(await bucketVersions(bucket)).toEqual(bucketBefore);

        const verified = await runCli(["verify", lo.id, "--allow-source-server"], env);
        expect(verified.code, verified.stderr).toBe(4);
        expectOneLineError(verified, new RegExp(`psql meta-command at line \\d+ \\(${meta.command}\\)`));
        expect(existsSync(file), "the meta-command ran").toBe(false);
        await events.waitFor((e) => e.subject === "backup.database.verify_failed.v1" && e.data.backup === lo.id && new RegExp(`\\(${meta.command}\\)`).test(String(e.data.reason)));
        expect(await readManifest(bucket, lo)).not.toHaveProperty("verification");
      });
      await expectUntouched(target);
    });
  }

  it("a forged COMMIT before the data, then a row count that fails: nothing committed", async () => {
    const dump = forged("create table", ["COMMIT;"]);
    const target = await emptyTarget();
    await withStored(dump, (m) => ({ ...m, rowCounts: { ...m.rowCounts!, "public.u": 6 } }), async () => {
      const result = await restore(lo, target);
      expect(result.code, result.stderr).toBe(4);
      expectOneLineError(result, /row count mismatch for public\.u: 5 restored, 6 in the manifest/);
    });
    await expectUntouched(target);
  });

  const statements: { name: string; sql: () => string; message: RegExp; ran: () => Promise<boolean> }[] = [
    {
      name: "COPY t FROM PROGRAM",
      sql: () => `COPY public.t FROM PROGRAM 'touch ${tmpfile("copy_program")}';`,
      message: /a COPY that is not pg_dump's .*program/,
      ran: async () => existsSync(tmpfile("copy_program")),
    },
    {
      name: "ALTER SYSTEM",
      sql: () => `ALTER SYSTEM SET application_name = '${forgedSetting}';`,
      message: /ALTER SYSTEM/,
      ran: async () => (await sql("postgres", "SELECT 1 FROM pg_file_settings WHERE setting = $1", [forgedSetting])).length > 0,
    },
    {
      name: "CREATE ROLE",
      sql: () => `CREATE ROLE ${forgedRole} SUPERUSER LOGIN PASSWORD 'forged';`,
      message: /CREATE ROLE/,
      ran: async () => (await sql("postgres", "SELECT 1 FROM pg_roles WHERE rolname = $1", [forgedRole])).length > 0,
    },
  ];
  for (const statement of statements) {
    it(`${statement.name} inserted after CREATE TABLE: restore and verify refuse it (exit 4), nothing run, nothing restored`, async () => {
      const dump = forged("create table", [statement.sql()]);
      const target = await emptyTarget();
      await withStored(dump, (m) => m, async () => {
        const restored = await restore(lo, target);
        expect(restored.code, restored.stderr).toBe(4);
        expectOneLineError(restored, new RegExp(`the dump holds ${statement.message.source}.* at line \\d+, which pg_dump never writes: refused`));
        expect(await statement.ran(), `${statement.name} ran`).toBe(false);

        const verified = await runCli(["verify", lo.id, "--allow-source-server"], env);
        expect(verified.code, verified.stderr).toBe(4);
        expectOneLineError(verified, statement.message);
        expect(await statement.ran(), `${statement.name} ran`).toBe(false);
        await events.waitFor((e) => e.subject === "backup.database.verify_failed.v1" && e.data.backup === lo.id && statement.message.test(String(e.data.reason)));
        expect(await readManifest(bucket, lo)).not.toHaveProperty("verification");
      });
      await expectUntouched(target);
    });
  }
});

describe("a failure never exits 0", () => {
  it("a --schema app backup whose table needs extensions.citext, into a database without it: exit 1 naming the type, nothing restored; verify exits 4", async () => {
    // As on Supabase: the target has the extensions schema, not the extension.
    const target = await database(created, "dbb_rtx_t", { sql: "CREATE SCHEMA extensions" });
    const before = await dbSnapshot(target.name);
    const result = await restore(citext, target);
    expect(result.code, result.stderr).toBe(1);
    expectFailure(result, /type "extensions\.citext" does not exist.*nothing was committed/);
    expect(await dbSnapshot(target.name)).toEqual(before);
    // Without even the schema: still a failure that names what is missing.
    const bare = await emptyTarget();
    const again = await restore(citext, bare);
    expect(again.code, again.stderr).toBe(1);
    expectFailure(again, /"extensions" does not exist.*nothing was committed/);
    await expectUntouched(bare);

    const verified = await runCli(["verify", citext.id, "--allow-source-server"], env);
    expect(verified.code, verified.stderr).toBe(4);
    expectOneLineError(verified, /does not restore cleanly: .*extensions.* does not exist/);
    await events.waitFor((e) => e.subject === "backup.database.verify_failed.v1" && e.data.backup === citext.id);
    expect(await readManifest(bucket, citext)).not.toHaveProperty("verification");
  });

  it("one byte flipped in the middle of the dump: exit 4 with the checksum as it was, non-zero with it fixed; nothing restored", async () => {
    const flipped = Buffer.from(loDump);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
    const target = await emptyTarget();
    await withStored(flipped, (m) => m, async () => {
      const result = await restore(lo, target);
      expect(result.code, result.stderr).toBe(4);
      expectOneLineError(result, /checksum mismatch|corrupt/);
    }, false);
    await expectUntouched(target);
    await withStored(flipped, (m) => m, async () => {
      const result = await restore(lo, target);
      // Exit 4 when gunzip reports the damage first, 1 when the server rejects the garbled SQL first.
      expect([1, 4], result.stderr).toContain(result.code);
      expectOneLineError(result, /nothing was (restored|committed)$/);
    });
    await expectUntouched(target);
  });
});

describe("integrity failures exit 4", () => {
  it("a row count edited in the manifest, the dump untouched: exit 4, not 1", async () => {
    const target = await emptyTarget();
    await withStored(loDump, (m) => ({ ...m, rowCounts: { ...m.rowCounts!, "public.u": 4 } }), async () => {
      const result = await restore(lo, target);
      expect(result.code, result.stderr).toBe(4);
      expectOneLineError(result, /row count mismatch for public\.u: 5 restored, 4 in the manifest/);
    }, false);
    await expectUntouched(target);
  });

  it("a backup whose dump was deleted: exit 4 naming it missing", async () => {
    const target = await emptyTarget();
    await withStored(null, (m) => m, async () => {
      const result = await restore(lo, target);
      expect(result.code, result.stderr).toBe(4);
      expectOneLineError(result, new RegExp(`dump ${literal(lo.key)} is missing`));
    });
    await expectUntouched(target);
  });
});
