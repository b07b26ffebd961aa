// The production gate and overwrite protection against the real PostgreSQL, S3 server and NATS:
// every refusal exits 3 with one line naming what would allow it and leaves the target and the
// bucket exactly as they were; every allowed restore works, and a production one is undoable.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupManifest } from "../../job/inventory/manifest";
import { expectRefused } from "../helpers/assertions";
import { createBackup, manifestKey, verifyBackup } from "../helpers/backups";
import { jobEnv, runCli } from "../helpers/cli";
import { subscribeEvents } from "../helpers/nats";
import { APP_SCHEMAS, database, dataFingerprint, dropDatabase, sql } from "../helpers/pg";
import { getObject, listKeys, makeBucket, putObject, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { bucketVersions, relationsSnapshot } from "../helpers/snapshots";

const bucket = uniqueBucket("dbb-gate");
const created: string[] = [];
let source: { name: string; url: string };
let env: Record<string, string>;
let verified: BackupManifest;
let unverified: BackupManifest;
let events: Awaited<ReturnType<typeof subscribeEvents>>;

/** A production-like target: the fixture, changed, plus a schema of its own outside the dump. */
async function occupiedTarget(prefix = "dbb_gprod", password?: string): Promise<{ name: string; url: string }> {
  const db = await database(created, prefix, {
    fixture: true,
  });
  await sql(db.name, "UPDATE pmoves_core.content_items SET title = 'changed in target' WHERE id < 120; CREATE SCHEMA keep; CREATE TABLE keep.marker (v text); INSERT INTO keep.marker VALUES ('untouched')");
  if (!password) return db;
  const url = new URL(db.url);
  url.username = "postgres";
  url.password = password; // trust auth ignores it; it proves the password never shows
  return { name: db.name, url: url.toString() };
}

/** Runs a restore that must be refused and proves it changed nothing. */
async function expectRefusedUnchanged(args: string[], targetDb: string, pattern: RegExp, extraEnv: Record<string, string> = {}): Promise<string> {
  const before = await relationsSnapshot(targetDb);
  const bucketBefore = await bucketVersions(bucket);
  const result = await runCli(["restore", ...args], { ...env, ...extraEnv });
  expectRefused(result, pattern);
  expect(await relationsSnapshot(targetDb)).toEqual(before);
  expect(await bucketVersions(bucket)).toEqual(bucketBefore);
  return result.stderr;
}

beforeAll(async () => {
  await requireServices("postgres", "s3", "nats");
  source = await database(created, "dbb_gsrc", { fixture: true });
  await makeBucket(bucket);
  events = await subscribeEvents();
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl });
  verified = await createBackup(env);
  await verifyBackup(env, verified.id);
  unverified = await createBackup(env);
});

afterAll(async () => {
  await events?.close();
  for (const name of created) await dropDatabase(name);
  await removeBucket(bucket);
});

describe("the production gate", () => {
  it("refuses a production restore without approval, without or with a wrong --confirm, and counts empty values as not given", async () => {
    const prod = await occupiedTarget();
    const prodEnv = { PROD_DB_URL: prod.url };
    const base = [verified.id, "--target", "prod", "--clean"];
    await expectRefusedUnchanged(base, prod.name, /production restore needs --approved-by <name> and --confirm <backup_id>/, prodEnv);
    await expectRefusedUnchanged([...base, "--approved-by", "alice"], prod.name, /production restore needs .*--confirm <backup_id>.*--confirm backup_/, prodEnv);
    await expectRefusedUnchanged([...base, "--approved-by", "alice", "--confirm", "backup_19990101_000000"], prod.name, /--confirm "backup_19990101_000000" is not the backup id/, prodEnv);
    // What a Kubernetes template passes when the variables are empty.
    await expectRefusedUnchanged([...base, "--approved-by", "", "--confirm", "", "--reason", "", "--request-id", ""], prod.name, /production restore needs --approved-by <name> and --confirm <backup_id>/, prodEnv);
    await expectRefusedUnchanged([...base, "--approved-by", "alice", "--confirm", verified.id, "--skip-safety-backup", "--reason", ""], prod.name, /--skip-safety-backup needs --reason/, prodEnv);
  });

  it("refuses an unverified backup to production, even with approval", async () => {
    const prod = await occupiedTarget();
    await expectRefusedUnchanged(
      [unverified.id, "--target", "production", "--approved-by", "alice", "--confirm", unverified.id, "--clean"],
      prod.name,
      new RegExp(`backup ${unverified.id} has not passed verification: run \`db-backup verify ${unverified.id}\``),
      { PRODUCTION_DB_URL: prod.url },
    );
  });

  it("treats an unknown environment, PRODUCTION_DB_URL's database and a production run's own source as production", async () => {
    const empty = await database(created, "dbb_gunk");
    await expectRefusedUnchanged([unverified.id, "--target", empty.url], empty.name, /production restore needs --approved-by.*environment is unknown/);
    // Named staging, but it is PRODUCTION_DB_URL's database (written differently: localhost).
    const prodUrl = empty.url.replace("127.0.0.1", "localhost");
    await expectRefusedUnchanged([unverified.id, "--target", empty.url, "--target-env", "staging"], empty.name, /production restore needs --approved-by.*PRODUCTION_DB_URL/, { PRODUCTION_DB_URL: prodUrl });
    // The run's own source, in a run whose environment is production.
    await expectRefusedUnchanged([unverified.id, "--target", source.url], source.name, /production restore needs --approved-by.*this run's own source database .*this run's environment is "production"/, { BACKUP_ENV: "production" });
  });

  it("lets local, dev and staging restores through without approval", async () => {
    const staging = await database(created, "dbb_gstg");
    let result = await runCli(["restore", unverified.id, "--target", "staging"], { ...env, STAGING_DB_URL: staging.url });
    expect(result.code, result.stderr).toBe(0);
    expect(await dataFingerprint(staging.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source.name, APP_SCHEMAS));
    const local = await database(created, "dbb_gloc");
    result = await runCli(["restore", unverified.id, "--target", local.url, "--target-env", "local"], env);
    expect(result.code, result.stderr).toBe(0);
  });

  it("restores to production with approval: safety backup first, events with approver, redacted target, backup and reason", async () => {
    const prod = await occupiedTarget("dbb_gprod", "pr0d-s3cret-pw");
    const OWN = [...APP_SCHEMAS, "keep"]; // the safety backup's scope: all but Supabase's schemas
    const before = await relationsSnapshot(prod.name, OWN);
    const result = await runCli(
      ["restore", verified.id, "--target", "production", "--approved-by", "alice", "--confirm", verified.id, "--reason", "drill 42", "--clean", "--json"],
      { ...env, PRODUCTION_DB_URL: prod.url },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain("pr0d-s3cret-pw");
    const report = JSON.parse(result.stdout) as { safetyBackup: string; production: boolean; approvedBy: string };
    expect(report).toMatchObject({ production: true, approvedBy: "alice" });
    expect(await dataFingerprint(prod.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source.name, APP_SCHEMAS));
    // --clean replaced the dump's schemas only: the target's own schema is still there.
    expect(await sql(prod.name, "SELECT v FROM keep.marker")).toEqual([{ v: "untouched" }]);

    const isOurs = (e: { data: Record<string, unknown> }) => e.data.id === verified.id && String(e.data.target).includes(prod.name);
    const started = await events.waitFor((e) => e.subject === "backup.database.restore_started.v1" && isOurs(e));
    const restored = await events.waitFor((e) => e.subject === "backup.database.restored.v1" && isOurs(e));
    for (const e of [started, restored]) {
      expect(e.data).toMatchObject({ backup: verified.id, approvedBy: "alice", reason: "drill 42", production: true, safetyBackup: report.safetyBackup });
      expect(JSON.stringify(e.data)).not.toContain("pr0d-s3cret-pw");
    }
    expect(events.events.indexOf(started)).toBeLessThan(events.events.indexOf(restored));

    // The safety backup is a pre_migration backup tagged pre_restore_<time>, findable by its tag,
    // and it brings the target's former state back.
    const list = JSON.parse((await runCli(["list", "--json", "--type", "pre_migration"], env)).stdout) as { id: string; tag?: string }[];
    const safety = list.find((e) => e.id === report.safetyBackup)!;
    expect(safety.tag).toMatch(/^pre_restore_\d{8}_\d{6}$/);
    const back = await database(created, "dbb_gback");
    const undo = await runCli(["restore", safety.tag!, "--target", back.url, "--target-env", "dev"], env);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await relationsSnapshot(back.name, OWN)).toEqual(before);
  });

  it("skips the safety backup only with a reason, and says so in the events", async () => {
    const prod = await occupiedTarget();
    const keysBefore = await listKeys(bucket, "supabase/pre_migration/");
    const result = await runCli(
      ["restore", verified.id, "--target", "prod", "--approved-by", "bob", "--confirm", verified.id, "--clean", "--skip-safety-backup", "--reason", "target is broken"],
      { ...env, PROD_DB_URL: prod.url },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(await listKeys(bucket, "supabase/pre_migration/")).toEqual(keysBefore);
    const restored = await events.waitFor((e) => e.subject === "backup.database.restored.v1" && String(e.data.target).includes(prod.name));
    expect(restored.data).toMatchObject({ approvedBy: "bob", reason: "target is broken", safetyBackup: null });
  });
});

describe("overwrite protection", () => {
  it("refuses a non-empty target without --clean, and --clean with an unverified backup", async () => {
    const staging = await occupiedTarget("dbb_gocc");
    const stagingEnv = { STAGING_DB_URL: staging.url };
    await expectRefusedUnchanged([unverified.id, "--target", "staging"], staging.name, /already holds tables in the dump's schemas \(archon, pmoves_core\).*add --clean/, stagingEnv);
    await expectRefusedUnchanged([unverified.id, "--target", "staging", "--clean"], staging.name, new RegExp(`--clean would overwrite .* has not passed verification: run \`db-backup verify ${unverified.id}\``), stagingEnv);
    const empty = await database(created, "dbb_gempty");
    await expectRefusedUnchanged([unverified.id, "--target", empty.url, "--target-env", "staging", "--clean"], empty.name, /--clean is accepted only for a verified backup/);
    const result = await runCli(["restore", verified.id, "--target", "staging", "--clean"], { ...env, ...stagingEnv });
    expect(result.code, result.stderr).toBe(0);
    expect(await dataFingerprint(staging.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source.name, APP_SCHEMAS));
    expect(await sql(staging.name, "SELECT v FROM keep.marker")).toEqual([{ v: "untouched" }]);
  });

  it("takes a data-only backup only into empty tables", async () => {
    const dataOnly = await createBackup(env, ["--table", "pmoves_core.content_items", "--data-only"]);
    const full = await occupiedTarget("dbb_gdata");
    await expectRefusedUnchanged([dataOnly.id, "--target", full.url, "--target-env", "dev"], full.name, /already has rows in pmoves_core\.content_items: restore into empty tables, or add --clean/);
    await sql(full.name, "TRUNCATE pmoves_core.content_items CASCADE");
    const result = await runCli(["restore", dataOnly.id, "--target", full.url, "--target-env", "dev"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(await sql(full.name, "SELECT count(*)::int AS n FROM pmoves_core.content_items")).toEqual([{ n: dataOnly.rowCounts!["pmoves_core.content_items"] }]);
  });

  it("drops the schemas inside the restore's transaction: a restore that fails leaves them as they were", async () => {
    const staging = await occupiedTarget("dbb_gtx");
    const before = await relationsSnapshot(staging.name);
    const key = manifestKey(verified);
    const original = await getObject(bucket, key);
    const lying = JSON.parse(original.toString("utf8")) as BackupManifest;
    lying.rowCounts!["pmoves_core.content_items"]! += 1; // still verified; the row check fails at the end
    await putObject(bucket, key, JSON.stringify(lying));
    try {
      const result = await runCli(["restore", verified.id, "--target", staging.url, "--target-env", "staging", "--clean"], env);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/row count mismatch for pmoves_core\.content_items.*nothing was committed|nothing was committed.*row count mismatch/);
      expect(await relationsSnapshot(staging.name)).toEqual(before);
    } finally {
      await putObject(bucket, key, original);
    }
  });
});

describe("--dry-run", () => {
  it("prints every check and what would happen, and touches nothing", async () => {
    const prod = await occupiedTarget();
    const prodEnv = { ...env, PROD_DB_URL: prod.url };
    const before = await relationsSnapshot(prod.name);
    const bucketBefore = await bucketVersions(bucket);
    const seen = events.events.length;
    const ok = await runCli(["restore", verified.id, "--target", "prod", "--approved-by", "alice", "--confirm", verified.id, "--clean", "--request-id", "dry-1", "--dry-run"], prodEnv);
    expect(ok.code, ok.stderr).toBe(0);
    for (const check of ["environment: production", "approval: approved by alice", "confirm:", "verified backup:", "overwrite: --clean replaces", "safety backup:", "request:"]) {
      expect(ok.stdout).toContain(check);
    }
    expect(ok.stdout).toMatch(/back up the target first \(pre_migration, tag pre_restore_/);
    expect(ok.stdout).toMatch(/drop schema\(s\) archon, pmoves_core inside the restore's transaction/);
    expect(ok.stdout).toContain("Dry run: nothing was changed.");

    const refused = await runCli(["restore", verified.id, "--target", "prod", "--dry-run"], prodEnv);
    expectRefused(refused, /production restore needs --approved-by <name> and --confirm <backup_id>/);
    expect(refused.stdout).toMatch(/\[refused\] approval:/);
    expect(refused.stdout).toMatch(/\[refused\] overwrite:/);
    expect(refused.stdout).toMatch(/\[ok\] +verified backup:/);

    expect(await relationsSnapshot(prod.name)).toEqual(before);
    expect(await bucketVersions(bucket)).toEqual(bucketBefore);
    await new Promise((r) => setTimeout(r, 300));
    expect(events.events.slice(seen).filter((e) => String(e.data.target ?? "").includes(prod.name))).toEqual([]);
  });
});

describe("restore requests and pre-migration tags", () => {
  it("records a request id and refuses to run it twice", async () => {
    const first = await database(created, "dbb_greq");
    const requestId = `req-${Date.now().toString(36)}`;
    const result = await runCli(["restore", unverified.id, "--target", first.url, "--target-env", "staging", "--request-id", requestId], env);
    expect(result.code, result.stderr).toBe(0);
    const record = JSON.parse((await getObject(bucket, `supabase/requests/${requestId}.json`)).toString());
    expect(record).toMatchObject({ requestId, backupId: unverified.id, status: "completed", targetEnvironment: "staging" });
    const second = await database(created, "dbb_greq2");
    await expectRefusedUnchanged([unverified.id, "--target", second.url, "--target-env", "staging", "--request-id", requestId], second.name, new RegExp(`restore request ${requestId} already ran \\(completed`));
  });

  it("needs a tag for pre_migration, refuses a tag in use, and restores by tag", async () => {
    const missing = await runCli(["create", "--type", "pre_migration"], env);
    expect(missing.code).toBe(2);
    const tag = `before_v2_schema_${Date.now().toString(36)}`;
    const made = await createBackup(env, ["--type", "pre_migration", "--tag", tag]);
    expect(made.key).toMatch(/^supabase\/pre_migration\//);
    const bucketBefore = await bucketVersions(bucket);
    const again = await runCli(["create", "--type", "pre_migration", "--tag", tag], env);
    expectRefused(again, new RegExp(`tag "${tag}" is already used by backup ${made.id}`));
    expect(await bucketVersions(bucket)).toEqual(bucketBefore);
    const target = await database(created, "dbb_gtag");
    const result = await runCli(["restore", tag, "--target", target.url, "--target-env", "dev"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Restored ${made.id}`);
  });
});
