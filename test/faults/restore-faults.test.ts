// Restores that fail leave the target exactly as it was: psql stopping half-way (the target lacks
// a role the dump grants to), pg_restore of a custom archive in one transaction, and a parallel
// pg_restore (--jobs 2), which cannot be one transaction: it only goes into an empty database and
// the job drops what it created when it fails. Plus what failures.test.ts does not cover of
// corrupt objects: `download` and custom-format backups, tampered, truncated, deleted, lying.
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackupManifestSchema, type BackupManifest } from "../../job/inventory/manifest";
import { expectFailure } from "../helpers/assertions";
import { jobEnv, runCli } from "../helpers/cli";
import { tempDir } from "../helpers/fault-servers";
import { subscribeEvents } from "../helpers/nats";
import { createDatabase, database, dropDatabase, loadFixture, sql, uniqueName } from "../helpers/pg";
import { getObject, makeBucket, putObject, removeBucket, s3Client, uniqueBucket } from "../helpers/s3";
import { requireServices } from "../helpers/services";
import { dbSnapshot } from "../helpers/snapshots";

const source = uniqueName("dbb_fault_rs");
const bucket = uniqueBucket("dbb-fault-restore");
const doomed = `dbb_doomed_${process.pid}_${Date.now().toString(36)}`;
const created: string[] = [];
let env: Record<string, string>;
let plain: BackupManifest;
let custom: BackupManifest;
let events: Awaited<ReturnType<typeof subscribeEvents>>;

function emptyTarget(): Promise<{ name: string; url: string }> {
  return database(created, "dbb_fault_rt");
}

/** A target with data of its own, so "unchanged" is something to check. */
function markedTarget(): Promise<{ name: string; url: string }> {
  return database(created, "dbb_fault_rt", { sql: "CREATE SCHEMA keep; CREATE TABLE keep.marker (v text); INSERT INTO keep.marker VALUES ('untouched')" });
}

beforeAll(async () => {
  await requireServices("postgres", "s3", "nats");
  created.push(source);
  const url = await createDatabase(source);
  loadFixture(source);
  // A role the dump grants to, dropped after the backups: restoring them fails at the grants,
  // near the end, after every table was created and filled (as with a target lacking a role or an
  // extension the source had). A comment on public: the one thing it changes in an existing schema.
  await sql("postgres", `CREATE ROLE ${doomed} NOLOGIN`);
  await sql(source, `CREATE TABLE public.notes (id int PRIMARY KEY, body text); INSERT INTO public.notes SELECT g, 'note ' || g FROM generate_series(1, 50) g;
    COMMENT ON SCHEMA public IS 'commented by the source'; GRANT SELECT ON pmoves_core.content_items TO ${doomed}`);
  await makeBucket(bucket);
  events = await subscribeEvents();
  env = jobEnv(url, bucket);
  const a = await runCli(["create", "--json"], env);
  expect(a.code, a.stderr).toBe(0);
  plain = BackupManifestSchema.parse(JSON.parse(a.stdout));
  const b = await runCli(["create", "--format", "custom", "--json"], env);
  expect(b.code, b.stderr).toBe(0);
  custom = BackupManifestSchema.parse(JSON.parse(b.stdout));
  await sql(source, `REVOKE ALL ON pmoves_core.content_items FROM ${doomed}`);
  await sql("postgres", `DROP ROLE ${doomed}`);
});

afterAll(async () => {
  await events?.close();
  for (const name of created) await dropDatabase(name);
  await sql("postgres", `DROP ROLE IF EXISTS ${doomed}`).catch(() => undefined);
  await removeBucket(bucket);
});

describe("a restore that fails half-way", () => {
  it("plain backup: nothing is committed, the target is exactly as before", async () => {
    const target = await markedTarget();
    const before = await dbSnapshot(target.name);
    const result = await runCli(["restore", plain.id, "--target", target.url, "--target-env", "test"], env);
    expect(result.code).toBe(1);
    expectFailure(result, new RegExp(`the restore into .* failed: role "${doomed}" does not exist \\(the dump's statement at line \\d+\\); nothing was committed`));
    expect(await dbSnapshot(target.name)).toEqual(before);
  });

  it("pg_restore in one transaction (custom backup, --jobs 1): the target is exactly as before", async () => {
    const target = await markedTarget();
    const before = await dbSnapshot(target.name);
    const result = await runCli(["restore", custom.id, "--target", target.url, "--target-env", "test", "--jobs", "1"], env);
    expect(result.code).toBe(1);
    expectFailure(result, new RegExp(`the restore into .* failed: role "${doomed}" does not exist .*; nothing was committed`));
    expect(await dbSnapshot(target.name)).toEqual(before);
  });

  it("parallel pg_restore (--jobs 2) is refused into a database that holds anything", async () => {
    const target = await markedTarget();
    const before = await dbSnapshot(target.name);
    const result = await runCli(["restore", custom.id, "--target", target.url, "--target-env", "test", "--jobs", "2"], env);
    expect(result.code).toBe(3);
    expectFailure(result, /parallel restore \(--jobs 2\) .* only goes into an empty database.*--jobs 1/);
    expect(await dbSnapshot(target.name)).toEqual(before);
  });

  it("parallel pg_restore (--jobs 2) failing half-way: the job drops what it created, the empty target is as before", async () => {
    const target = await emptyTarget();
    const before = await dbSnapshot(target.name);
    const result = await runCli(["restore", custom.id, "--target", target.url, "--target-env", "test", "--jobs", "2"], env);
    expect(result.code).toBe(1);
    expectFailure(result, new RegExp(`pg_restore failed.*role "${doomed}" does not exist.*objects were dropped, .* is as it was`));
    expect(await dbSnapshot(target.name)).toEqual(before);
  });
});

describe("corrupt objects, for download and custom-format backups", () => {
  async function withObject(key: string, replacement: Buffer | null, fn: () => Promise<void>): Promise<void> {
    const original = await getObject(bucket, key);
    if (replacement === null) await s3Client().removeObject(bucket, key);
    else await putObject(bucket, key, replacement);
    try {
      await fn();
    } finally {
      await putObject(bucket, key, original);
    }
  }
  const flipped = (b: Buffer) => {
    const c = Buffer.from(b);
    c[Math.floor(c.length / 2)]! ^= 0x01;
    return c;
  };

  it("download refuses a tampered, truncated or deleted dump and leaves no file", async () => {
    const dir = await tempDir("dbb-fault-dl-");
    const file = path.join(dir, "out.sql.gz");
    const dump = await getObject(bucket, plain.key);
    for (const [what, bytes] of [["tampered", flipped(dump)], ["truncated", dump.subarray(0, dump.length >> 1)]] as const) {
      await withObject(plain.key, bytes, async () => {
        const toFile = await runCli(["download", plain.id, file], env);
        expect(toFile.code, what).toBe(4);
        expectFailure(toFile, /checksum mismatch .*the download was removed/);
        expect(await fs.readdir(dir), what).toEqual([]);
        const toStdout = await runCli(["download", plain.id], env);
        expect(toStdout.code, what).toBe(4);
        expectFailure(toStdout, /checksum mismatch .*discard what was written/);
      });
    }
    await withObject(plain.key, null, async () => {
      const result = await runCli(["download", plain.id, file], env);
      expect(result.code).toBe(4);
      expectFailure(result, /cannot be trusted: dump .* is missing/);
      expect(await fs.readdir(dir)).toEqual([]);
    });
    const manifestKey = `supabase/manual/${plain.id}.manifest.json`;
    const lying = JSON.stringify({ ...plain, sha256: "0".repeat(64) });
    await withObject(manifestKey, Buffer.from(lying), async () => {
      const result = await runCli(["download", plain.id, file], env);
      expect(result.code).toBe(4);
      expect(await fs.readdir(dir)).toEqual([]);
    });
    await fs.rm(dir, { recursive: true });
  });

  it("a custom-format restore refuses a tampered, truncated, deleted or unmanifested archive before touching the target", async () => {
    const target = await markedTarget();
    const before = await dbSnapshot(target.name);
    const archive = await getObject(bucket, custom.key);
    const manifestKey = `supabase/manual/${custom.id}.manifest.json`;
    for (const [what, bytes] of [["tampered", flipped(archive)], ["truncated", archive.subarray(0, archive.length - 100)]] as const) {
      await withObject(custom.key, bytes, async () => {
        for (const jobs of ["1", "2"]) {
          const result = await runCli(["restore", custom.id, "--target", target.url, "--target-env", "test", "--jobs", jobs], env);
          expect(result.code, `${what} --jobs ${jobs}`).toBe(4);
          expectFailure(result, /checksum mismatch.*nothing was restored/);
        }
      });
    }
    await withObject(custom.key, null, async () => {
      const result = await runCli(["restore", custom.id, "--target", target.url, "--target-env", "test"], env);
      expect(result.code).toBe(4);
      expectFailure(result, /dump .* is missing/);
    });
    await withObject(manifestKey, null, async () => {
      // Its run marker remains: the archive is what a run that never ended left, never restored.
      const result = await runCli(["restore", custom.id, "--target", target.url, "--target-env", "test"], env);
      expect(result.code).toBe(2);
      expectFailure(result, /has not finished \(or its run died\)/);
    });
    const lying = JSON.stringify({ ...custom, sha256: "f".repeat(64) });
    await withObject(manifestKey, Buffer.from(lying), async () => {
      const result = await runCli(["restore", custom.id, "--target", target.url, "--target-env", "test"], env);
      expect(result.code).toBe(4);
    });
    expect(await dbSnapshot(target.name)).toEqual(before);
  });
});
