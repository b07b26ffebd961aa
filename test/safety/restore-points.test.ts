// Restore points on the real S3 server with its fast lifecycle clock (a lifecycle "day" is 10 s,
// scripts/services.sh) and the bucket's real rules (infra/lifecycle.ts) with a 1-day test retention
// for daily backups. Each drill extends the lock of the newest 3 verified backups' exact versions
// (RESTORE_POINT_HOLD_SECONDS, 30 s here in place of 35 days); lifecycle removes every other backup
// once its own short lock has run out, and keeps the held ones, listed and restorable, however long
// ago they were taken. When a newer backup is verified, the oldest held one is no longer extended,
// and lifecycle takes it once its hold has run out.
import * as Minio from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleRules, toS3Lifecycle } from "../../infra/lifecycle";
import { retentionRules } from "../../job/core/catalog";
import type { BackupManifest } from "../../job/inventory/manifest";
import { createBackup, manifestKey, retainedUntil, verifyBackup, versionIds } from "../helpers/backups";
import { jobEnv, runCli } from "../helpers/cli";
import { APP_SCHEMAS, database, dataFingerprint, dropDatabase } from "../helpers/pg";
import { makeBucket, removeBucket, s3Client, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";

const HOLD_SECONDS = 30;
const bucket = uniqueBucket("dbb-points");
const created: string[] = [];
let env: Record<string, string>;
let source: { name: string; url: string };

async function listedIds(): Promise<string[]> {
  const result = await runCli(["list", "--json"], env);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { id: string }[]).map((e) => e.id);
}

/** Whether any version of the backup's dump or manifest is left (a delete marker is not one). */
async function stored(m: BackupManifest): Promise<boolean> {
  return (await versionIds(bucket, m.key)).length + (await versionIds(bucket, manifestKey(m))).length > 0;
}

/**
 * Runs a drill every few seconds, as the daily drill CronJob would (here with nothing left to
 * verify, it only extends the holds), until every backup in `gone` has no version left; every
 * backup in `kept` must keep its versions and stay listed all along.
 */
async function drillUntilGone(gone: BackupManifest[], kept: BackupManifest[], seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const drill = await runCli(["verify", "--allow-source-server"], env);
    expect(drill.code, drill.stderr).toBe(0);
    expect(drill.stdout).toMatch(/Nothing to verify/);
    for (const m of kept) expect(await stored(m), `${m.id} must stay`).toBe(true);
    const ids = await listedIds();
    for (const m of kept) expect(ids, `${m.id} must stay listed`).toContain(m.id);
    const left = [];
    for (const m of gone) if (await stored(m)) left.push(m.id);
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`not removed by lifecycle within ${seconds} s: ${left.join(", ")}`);
    await new Promise((r) => setTimeout(r, 5000));
  }
}

async function expectHeld(m: BackupManifest): Promise<void> {
  const [manifestVersion] = (await versionIds(bucket, manifestKey(m))).slice(-1); // its first version
  for (const [key, version] of [[m.key, m.dumpVersionId], [manifestKey(m), manifestVersion]] as const) {
    const until = await retainedUntil(bucket, key, version);
    expect(until, `${key} is held`).not.toBeNull();
    expect(until!.getTime() - Date.now(), `${key} is held about ${HOLD_SECONDS} s past the drill`).toBeGreaterThan((HOLD_SECONDS - 15) * 1000);
  }
}

beforeAll(async () => {
  await requireServices("postgres", "s3");
  source = await database(created, "dbb_psrc", { fixture: true });
  await makeBucket(bucket, { objectLocking: true });
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl, BACKUP_LOCK_SECONDS: "5", RESTORE_POINT_HOLD_SECONDS: String(HOLD_SECONDS) });
  delete env.NATS_URL;
});

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await removeBucket(bucket);
});

describe("verified restore points", () => {
  it("stay through lifecycle while older backups go, and the hold moves to a newer verified backup", async () => {
    const daily: BackupManifest[] = [];
    for (let i = 0; i < 5; i++) daily.push(await createBackup(env, ["--type", "daily"]));
    const [d1, d2, d3, d4, d5] = daily as [BackupManifest, BackupManifest, BackupManifest, BackupManifest, BackupManifest];
    // All five are verified; each drill holds the newest 3 verified, so d1 and d2 stop being held.
    for (const m of daily) await verifyBackup(env, m.id);
    for (const m of [d3, d4, d5]) await expectHeld(m);

    // The bucket's rules, with daily retention shortened to one (10-second) day.
    const rules = lifecycleRules("supabase", { ...retentionRules(), daily: 1 });
    await s3Client().setBucketLifecycle(bucket, toS3Lifecycle(rules) as unknown as Minio.LifecycleConfig);

    await drillUntilGone([d1, d2], [d3, d4, d5], 150);
    let ids = await listedIds();
    expect(ids).not.toContain(d1.id);
    expect(ids).not.toContain(d2.id);
    const status = await runCli(["status"], env);
    expect(status.stdout).toContain("- **Verified Restore Points:** 3");
    expect(status.stdout).not.toMatch(/Only \d verified restore point/);

    // Still restorable, however long ago backups stopped: read by the versions the manifest names,
    // whatever lifecycle put over them.
    const target = await database(created, "dbb_ptgt");
    const restored = await runCli(["restore", d4.id, "--target", target.url, "--target-env", "staging"], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await dataFingerprint(target.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source.name, APP_SCHEMAS));

    // A newer verified backup takes the hold: d3 is no longer extended, and goes once its hold runs out.
    const newer = await createBackup(env, ["--type", "manual"]);
    const moved = await verifyBackup(env, newer.id);
    expect(moved.stdout).toMatch(new RegExp(`restore points \\(locked until \\d{4}-\\d{2}-\\d{2}\\): ${newer.id}, ${d5.id}, ${d4.id}`));
    await drillUntilGone([d3], [d4, d5, newer], 150);
    ids = await listedIds();
    expect(ids).not.toContain(d3.id);
    expect(ids).toEqual(expect.arrayContaining([d4.id, d5.id, newer.id]));
  }, 420_000);
});
