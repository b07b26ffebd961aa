// Restore points on the real S3 server with its fast lifecycle clock (a lifecycle "day" is 10 s,
// scripts/services.sh) and the bucket's real rules (infra/lifecycle.ts) with a 1-day test retention
// for daily backups: old daily backups expire, the 3 newest verified ones stay listed and
// restorable, and when a newer backup is verified the protection moves and the oldest one expires.
import * as Minio from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleRules, toS3Lifecycle } from "../../infra/lifecycle";
import { EXPIRY_TAG, RESTORE_POINT_TAG, retentionRules } from "../../job/core/catalog";
import type { BackupManifest } from "../../job/inventory/manifest";
import { createBackup, manifestKey, verifyBackup } from "../helpers/backups";
import { jobEnv, runCli } from "../helpers/cli";
import { APP_SCHEMAS, database, dataFingerprint, dropDatabase } from "../helpers/pg";
import { legalHold, makeBucket, objectTags, removeBucket, s3Client, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";

const bucket = uniqueBucket("dbb-points");
const created: string[] = [];
let env: Record<string, string>;
let source: { name: string; url: string };

async function exists(key: string): Promise<boolean> {
  return s3Client()
    .statObject(bucket, key)
    .then(
      () => true,
      () => false,
    );
}

async function listedIds(): Promise<string[]> {
  const result = await runCli(["list", "--json"], env);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { id: string }[]).map((e) => e.id);
}

/** Waits until every key in `gone` is expired (no current version), checking `kept` stays. */
async function waitForExpiry(gone: string[], kept: string[], seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    for (const key of kept) expect(await exists(key), `${key} must stay`).toBe(true);
    const left = [];
    for (const key of gone) if (await exists(key)) left.push(key);
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`not expired within ${seconds} s: ${left.join(", ")}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const keysOf = (m: BackupManifest) => [m.key, manifestKey(m)];

beforeAll(async () => {
  await requireServices("postgres", "s3");
  source = await database(created, "dbb_psrc", { fixture: true });
  await makeBucket(bucket, { objectLocking: true });
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl, BACKUP_LOCK_SECONDS: "5" });
  delete env.NATS_URL;
});

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await removeBucket(bucket);
});

describe("verified restore points", () => {
  it("survive lifecycle expiry while older daily backups expire, and the protection moves to a newer verified backup", async () => {
    const daily: BackupManifest[] = [];
    for (let i = 0; i < 5; i++) daily.push(await createBackup(env, ["--type", "daily"]));
    const [d1, d2, d3, d4, d5] = daily as [BackupManifest, BackupManifest, BackupManifest, BackupManifest, BackupManifest];
    for (const m of [d3, d4, d5]) await verifyBackup(env, m.id);

    // Protected: no expiry tag (so no rule matches), the restore-point tag, a legal hold.
    for (const key of [d3, d4, d5].flatMap(keysOf)) {
      const tags = await objectTags(bucket, key);
      expect(tags[EXPIRY_TAG.key], key).toBeUndefined();
      expect(tags[RESTORE_POINT_TAG.key], key).toBe(RESTORE_POINT_TAG.value);
      expect(await legalHold(bucket, key), key).toBe(true);
    }
    for (const key of [d1, d2].flatMap(keysOf)) expect((await objectTags(bucket, key))[EXPIRY_TAG.key], key).toBe(EXPIRY_TAG.value);

    // The bucket's rules, with daily retention shortened to one (10-second) day.
    const rules = lifecycleRules("supabase", { ...retentionRules(), daily: 1 });
    await s3Client().setBucketLifecycle(bucket, toS3Lifecycle(rules) as unknown as Minio.LifecycleConfig);

    await waitForExpiry([d1, d2].flatMap(keysOf), [d3, d4, d5].flatMap(keysOf), 60);
    let ids = await listedIds();
    expect(ids).not.toContain(d1.id);
    expect(ids).not.toContain(d2.id);
    expect(ids).toEqual(expect.arrayContaining([d3.id, d4.id, d5.id]));
    const status = await runCli(["status"], env);
    expect(status.stdout).toContain("- **Verified Restore Points:** 3");
    expect(status.stdout).not.toMatch(/Only \d verified restore point/);

    // A newer verified backup takes the protection from the oldest restore point, which expires.
    const newer = await createBackup(env, ["--type", "manual"]);
    const moved = await verifyBackup(env, newer.id);
    expect(moved.stdout).toContain(`no longer protected: ${d3.id}`);
    // Released: the expiry tag back and no hold, or (the lifecycle clock is fast, and under load
    // it may run between the verify and this check) already expired, which only a released
    // backup can be. Either way the protection moved; the wait below proves it expires.
    for (const key of keysOf(d3)) {
      if (!(await exists(key))) continue;
      const tags = await objectTags(bucket, key).catch((error: { code?: string }) => {
        if (error.code === "NoSuchKey") return null; // expired between the two reads
        throw error;
      });
      if (tags === null) continue;
      expect(tags[EXPIRY_TAG.key], key).toBe(EXPIRY_TAG.value);
      expect(await legalHold(bucket, key), key).toBe(false);
    }
    await waitForExpiry(keysOf(d3), [d4, d5, newer].flatMap(keysOf), 60);
    ids = await listedIds();
    expect(ids).not.toContain(d3.id);
    expect(ids).toEqual(expect.arrayContaining([d4.id, d5.id, newer.id]));

    // Still restorable, weeks of no backups or not.
    const target = await database(created, "dbb_ptgt");
    const restored = await runCli(["restore", d4.id, "--target", target.url, "--target-env", "staging"], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await dataFingerprint(target.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source.name, APP_SCHEMAS));
  }, 150_000);
});
