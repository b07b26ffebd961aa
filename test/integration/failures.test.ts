// Every error path of the slice against the real services: each one exits non-zero with one line
// naming what was wrong, leaves the target exactly as it was, and never lets a failed backup
// become `latest`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackupManifestSchema } from "../../job/inventory/manifest";
import { expectOneLineError } from "../helpers/assertions";
import { baseEnv, jobEnv, runCli } from "../helpers/cli";
import { subscribeEvents } from "../helpers/nats";
import { createDatabase, database, dataFingerprint, dropDatabase, loadFixture, sql, uniqueName } from "../helpers/pg";
import { getObject, incompleteUploads, listKeys, makeBucket, putObject, removeBucket, s3Client, uniqueBucket } from "../helpers/s3";
import { requireServices } from "../helpers/services";

const source = uniqueName("dbb_fsrc");
const bucket = uniqueBucket("dbb-fail");
const created: string[] = [];
let env: Record<string, string>;
let good: ReturnType<typeof BackupManifestSchema.parse>;
let events: Awaited<ReturnType<typeof subscribeEvents>>;

/** A target with one table of its own, so "unchanged" is something to check. */
async function markedTarget(): Promise<{ name: string; url: string; before: Record<string, string> }> {
  const { name, url } = await database(created, "dbb_ftgt", { sql: "CREATE SCHEMA keep; CREATE TABLE keep.marker (v text); INSERT INTO keep.marker VALUES ('untouched')" });
  return { name, url, before: await snapshot(name) };
}

async function snapshot(database: string): Promise<Record<string, string>> {
  const tables = await sql<{ n: string }>(database, "SELECT count(*) AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')");
  return { relations: tables[0]!.n, ...(await dataFingerprint(database, ["keep", "pmoves_core", "archon"])) };
}

beforeAll(async () => {
  await requireServices("postgres", "s3", "nats");
  created.push(source);
  const url = await createDatabase(source);
  loadFixture(source);
  await makeBucket(bucket);
  events = await subscribeEvents();
  env = jobEnv(url, bucket);
  const made = await runCli(["create", "--json"], env);
  expect(made.code).toBe(0);
  good = BackupManifestSchema.parse(JSON.parse(made.stdout));
});

afterAll(async () => {
  await events?.close();
  for (const name of created) await dropDatabase(name);
  await removeBucket(bucket);
});

describe("a backup that fails", () => {
  it("never becomes latest, leaves no upload behind, records the failure and publishes it", async () => {
    const latestBefore = await getObject(bucket, "supabase/latest.json");
    const result = await runCli(["create", "--table", "pmoves_core.no_such_*"], env);
    expect(result.code).not.toBe(0);
    expectOneLineError(result, /pg_dump failed.*no matching tables/);
    expect((await getObject(bucket, "supabase/latest.json")).equals(latestBefore)).toBe(true);
    expect(await incompleteUploads(bucket)).toEqual([]);
    const list = JSON.parse((await runCli(["list", "--json"], env)).stdout) as { id: string; status: string }[];
    const failed = list.find((e) => e.status === "Failed");
    expect(failed).toBeDefined();
    const keys = await listKeys(bucket, "supabase/manual/");
    expect(keys.filter((k) => k.includes(failed!.id))).toEqual([`supabase/manual/${failed!.id}.manifest.json`]);
    await events.waitFor((e) => e.subject === "backup.database.failed.v1" && e.data.id === failed!.id);
    const restore = await runCli(["restore", failed!.id, "--target", "postgres://postgres@127.0.0.1:5432/x", "--target-env", "test"], env);
    expect(restore.code).toBe(2);
  });

  it("refuses a schema that does not exist before dumping anything", async () => {
    const result = await runCli(["create", "--schema", "nope"], env);
    expect(result.code).toBe(2);
    expectOneLineError(result, /schema "nope" does not exist/);
  });

  it("fails clearly on wrong database credentials, without printing the password", async () => {
    const bad = new URL(env.SUPABASE_DB_URL!);
    bad.username = "no_such_user";
    bad.password = "hunter2-secret";
    const result = await runCli(["create"], { ...env, SUPABASE_DB_URL: bad.toString() });
    expect(result.code).toBe(1);
    expectOneLineError(result, /cannot connect to the source database/);
    expect(result.stderr + result.stdout).not.toContain("hunter2-secret");
  });

  it("fails clearly on wrong S3 credentials, without printing the secret", async () => {
    const result = await runCli(["list"], { ...env, MINIO_SECRET_KEY: "wrong-secret-value-123" });
    expect(result.code).toBe(1);
    expectOneLineError(result, /credentials|SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId/);
    expect(result.stderr + result.stdout).not.toContain("wrong-secret-value-123");
  });

  it("still succeeds when NATS is down, and says the event was not delivered", async () => {
    const result = await runCli(["create", "--json"], { ...env, NATS_URL: "nats://127.0.0.1:1" });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: event backup\.database\.completed\.v1 was not delivered/);
    const m = BackupManifestSchema.parse(JSON.parse(result.stdout));
    expect(m.notification).toMatchObject({ delivered: false, via: "none" });
    expect(JSON.parse((await getObject(bucket, `supabase/manual/${m.id}.manifest.json`)).toString()).notification.delivered).toBe(false);
  });
});

describe("a restore that must refuse", () => {
  it("refuses a tampered dump (one byte flipped) before committing anything", async () => {
    const copy = uniqueName("flip");
    const dump = await getObject(bucket, good.key);
    const tampered = Buffer.from(dump);
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
    await putObject(bucket, good.key, tampered);
    try {
      const target = await markedTarget();
      const result = await runCli(["restore", good.id, "--target", target.url, "--target-env", "test"], env);
      expect(result.code).toBe(4);
      expectOneLineError(result, /checksum mismatch|corrupt/);
      expect(await snapshot(target.name)).toEqual(target.before);
    } finally {
      await putObject(bucket, good.key, dump);
      void copy;
    }
  });

  it("refuses a truncated dump and leaves the target as it was", async () => {
    const dump = await getObject(bucket, good.key);
    await putObject(bucket, good.key, dump.subarray(0, Math.floor(dump.length * 0.8)));
    try {
      const target = await markedTarget();
      const result = await runCli(["restore", good.id, "--target", target.url, "--target-env", "test"], env);
      expect(result.code).toBe(4);
      expect(await snapshot(target.name)).toEqual(target.before);
    } finally {
      await putObject(bucket, good.key, dump);
    }
  });

  it("refuses a backup whose dump was deleted, or whose manifest was altered or removed", async () => {
    const dump = await getObject(bucket, good.key);
    const manifestKey = `supabase/manual/${good.id}.manifest.json`;
    const manifestText = await getObject(bucket, manifestKey);
    const target = await markedTarget();
    try {
      await s3Client().removeObject(bucket, good.key);
      let result = await runCli(["restore", good.id, "--target", target.url, "--target-env", "test"], env);
      expect(result.code).toBe(4);
      expectOneLineError(result, /missing/);
      await putObject(bucket, good.key, dump);

      await putObject(bucket, manifestKey, manifestText.toString().replace('"sha256": "', '"sha256": "0').slice(0, -10));
      result = await runCli(["restore", good.id, "--target", target.url, "--target-env", "test"], env);
      expect(result.code).toBe(4);
      expectOneLineError(result, /manifest .* (invalid|not valid JSON)/);

      const altered = JSON.parse(manifestText.toString());
      altered.rowCounts["pmoves_core.content_items"] += 1; // a valid manifest that lies about the rows
      await putObject(bucket, manifestKey, JSON.stringify(altered));
      result = await runCli(["restore", good.id, "--target", target.url, "--target-env", "test"], env);
      expect(result.code).not.toBe(0);
      expectOneLineError(result, /row count mismatch for pmoves_core\.content_items/);
      expect(await snapshot(target.name)).toEqual(target.before);

      // Without its manifest, the dump is only what a run that took this id left: never restored.
      await s3Client().removeObject(bucket, manifestKey);
      result = await runCli(["restore", good.id, "--target", target.url, "--target-env", "test"], env);
      expect(result.code).toBe(2);
      expectOneLineError(result, /has not finished \(or its run died\)/);
      expect(await snapshot(target.name)).toEqual(target.before);
    } finally {
      await putObject(bucket, good.key, dump);
      await putObject(bucket, manifestKey, manifestText);
    }
  });

  it("rolls back a restore that fails half-way", async () => {
    const target = await markedTarget();
    // The target already has one of the dump's schemas (empty, so the overwrite check lets it
    // through; a table there would be refused before): the restore stops at CREATE SCHEMA archon.
    await sql(target.name, "CREATE SCHEMA archon");
    const before = await snapshot(target.name);
    const result = await runCli(["restore", good.id, "--target", target.url, "--target-env", "test"], env);
    expect(result.code).toBe(1);
    expectOneLineError(result, /the restore into .* failed: schema "archon" already exists \(the dump's statement at line \d+\); nothing was committed/);
    expect(await snapshot(target.name)).toEqual(before);
  });

  it("rejects bad ids before any I/O, and unknown ids before touching the target", async () => {
    for (const id of ["../etc/passwd", "a/b", "a\\b", "x".repeat(300), "bad\u0001id", "..", "with space"]) {
      const result = await runCli(["restore", id, "--target", "postgres://postgres@127.0.0.1:1/none"], env);
      expect(result.code, id).toBe(2);
      expectOneLineError(result, /backup id/);
    }
    const target = await markedTarget();
    const result = await runCli(["restore", "backup_19990101_000000", "--target", target.url, "--target-env", "test"], env);
    expect(result.code).toBe(2);
    expectOneLineError(result, /no backup with id or tag "backup_19990101_000000".*db-backup list/);
    expect(await snapshot(target.name)).toEqual(target.before);
  });

  it("has no default target and names missing settings", async () => {
    let result = await runCli(["restore", good.id], env);
    expect(result.code).toBe(2);
    expectOneLineError(result, /--target/);
    result = await runCli(["restore", good.id, "--target", "staging"], env);
    expectOneLineError(result, /STAGING_DB_URL/);
    result = await runCli(["list"], baseEnv());
    expect(result.code).toBe(2);
    expectOneLineError(result, /MINIO_ENDPOINT.*BACKUP_DIR/);
    result = await runCli(["list"], { ...env, MINIO_SECRET_KEY: "" });
    expectOneLineError(result, /MINIO_SECRET_KEY is not set/);
    result = await runCli(["create"], { ...env, SUPABASE_DB_URL: "mysql://x" });
    expectOneLineError(result, /SUPABASE_DB_URL must start with postgres:\/\//);
  });
});

describe("legacy dumps of the seed's old script", () => {
  it("are listed as legacy and restore only with --allow-unverified", async () => {
    const dump = await getObject(bucket, good.key);
    await putObject(bucket, "supabase/pmoves_20250607_120000.sql.gz", dump);
    const list = JSON.parse((await runCli(["list", "--json"], env)).stdout) as { id: string; status: string; createdAt: string }[];
    const legacy = list.find((e) => e.id === "pmoves_20250607_120000");
    expect(legacy).toMatchObject({ status: "Legacy", createdAt: "2025-06-07T12:00:00.000Z" });
    const target = await markedTarget();
    let result = await runCli(["restore", "pmoves_20250607_120000", "--target", target.url, "--target-env", "test"], env);
    expect(result.code).toBe(3);
    result = await runCli(["restore", "pmoves_20250607_120000", "--target", target.url, "--target-env", "test", "--allow-unverified"], env);
    expect(result.code).toBe(0);
    expect(await dataFingerprint(target.name, ["pmoves_core"])).toEqual(await dataFingerprint(source, ["pmoves_core"]));
  });
});
