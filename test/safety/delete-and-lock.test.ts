// Deletion and immutability on the real S3 server with Object Lock: each successful backup is locked
// (GOVERNANCE) and the server refuses a DELETE of a locked version; `db-backup delete` refuses young
// backups, held ones, protected restore points and the last 3 verified ones, each with one line and
// the bucket unchanged, and otherwise removes every version for good.
import * as Minio from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupManifest } from "../../job/inventory/manifest";
import { expectRefused } from "../helpers/assertions";
import { createBackup, manifestKey, rewriteManifest } from "../helpers/backups";
import { jobEnv, runCli } from "../helpers/cli";
import { database, dropDatabase } from "../helpers/pg";
import { legalHold, makeBucket, removeBucket, s3Client, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { bucketVersions } from "../helpers/snapshots";

const bucket = uniqueBucket("dbb-lock");
const created: string[] = [];
const DAY = 86_400_000;
let lockedEnv: Record<string, string>;
let shortEnv: Record<string, string>;

/** A backup made to look `days` old (its lock lasts 3 s, so it can really go). */
async function oldBackup(days: number, verified: boolean): Promise<BackupManifest> {
  const m = await createBackup(shortEnv);
  const at = new Date(Date.now() - days * DAY).toISOString();
  return rewriteManifest(bucket, m, (x) => ({
    ...x,
    startedAt: at,
    finishedAt: at,
    ...(verified ? { verification: { verifiedAt: at, durationMs: 1, tables: 1, rows: 1, server: "127.0.0.1:5432" } } : {}),
  }));
}

async function versionsOf(key: string): Promise<string[]> {
  const out: string[] = [];
  for await (const v of s3Client().listObjects(bucket, key, false, { IncludeVersion: true }) as AsyncIterable<{ name: string; versionId?: string }>) {
    if (v.name === key) out.push(v.versionId ?? "null");
  }
  return out;
}

async function refusedUnchanged(args: string[], pattern: RegExp): Promise<void> {
  const before = await bucketVersions(bucket);
  expectRefused(await runCli(["delete", ...args], lockedEnv), pattern);
  expect(await bucketVersions(bucket)).toEqual(before);
}

beforeAll(async () => {
  await requireServices("postgres", "s3");
  const source = await database(created, "dbb_lsrc", { fixture: true });
  await makeBucket(bucket, { objectLocking: true });
  lockedEnv = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl, NATS_URL: undefined });
  delete lockedEnv.NATS_URL;
  shortEnv = { ...lockedEnv, BACKUP_LOCK_SECONDS: "3" };
});

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await removeBucket(bucket);
});

describe("Object Lock", () => {
  it("locks a successful backup's dump and manifest for 7 days (GOVERNANCE); the server refuses a DELETE of the locked version", async () => {
    const m = await createBackup(lockedEnv);
    for (const key of [m.key, manifestKey(m)]) {
      const retention = await s3Client().getObjectRetention(bucket, key, { versionId: "" } as never);
      expect(retention?.mode).toBe("GOVERNANCE");
      const until = new Date(retention!.retainUntilDate).getTime();
      expect(Math.abs(until - (Date.now() + 7 * DAY))).toBeLessThan(3600_000);
    }
    const { versionId } = await s3Client().statObject(bucket, m.key);
    expect(versionId).toBeTruthy();
    await expect(s3Client().removeObject(bucket, m.key, { versionId: versionId! })).rejects.toMatchObject({ code: "AccessDenied" });
    expect((await s3Client().statObject(bucket, m.key)).versionId).toBe(versionId);

    await refusedUnchanged([m.id], new RegExp(`backup ${m.id} is 0\\.0 days old: backups younger than 7 days cannot be deleted; it can be from `));
  });

  it("leaves a failed backup's manifest unlocked", async () => {
    const result = await runCli(["create", "--table", "pmoves_core.no_such_*", "--json"], lockedEnv);
    expect(result.code).not.toBe(0);
    const list = JSON.parse((await runCli(["list", "--json"], lockedEnv)).stdout) as { id: string; status: string }[];
    const failed = list.find((e) => e.status === "Failed")!;
    const retention = await s3Client()
      .getObjectRetention(bucket, `supabase/manual/${failed.id}.manifest.json`, { versionId: "" } as never)
      .catch(() => null);
    expect(retention?.mode).toBeUndefined();
  });
});

describe("db-backup delete", () => {
  it("refuses a backup under legal hold", async () => {
    const held = await oldBackup(10, false);
    await s3Client().setObjectLegalHold(bucket, held.key, { status: Minio.LEGAL_HOLD_STATUS.ENABLED, versionId: "" } as never);
    await refusedUnchanged([held.id], new RegExp(`backup ${held.id} is under legal hold .*release the hold first`));
  });

  it("protects the newest 3 verified restore points and never leaves fewer than 3; deletes the rest, every version", async () => {
    const [a, b, c, d] = [await oldBackup(20, true), await oldBackup(19, true), await oldBackup(18, true), await oldBackup(17, true)];
    // A real verification of the newest moves protection onto the newest 3 (tags off, legal hold on).
    const verify = await runCli(["verify", d.id, "--allow-source-server"], lockedEnv);
    expect(verify.code, verify.stderr).toBe(0);
    for (const m of [b, c, d]) expect(await legalHold(bucket, m.key)).toBe(true);
    expect(await legalHold(bucket, a.key)).toBe(false);

    await refusedUnchanged([b.id], new RegExp(`backup ${b.id} is one of the 3 newest verified restore points, which are protected from deletion`));

    const before = await bucketVersions(bucket);
    const dry = await runCli(["delete", a.id, "--dry-run"], lockedEnv);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/\[ok\] +age: 20 days old/);
    expect(dry.stdout).toMatch(/would remove every version of/);
    expect(await bucketVersions(bucket)).toEqual(before);

    expect((await versionsOf(manifestKey(a))).length).toBeGreaterThan(1); // created, then rewritten
    const deleted = await runCli(["delete", a.id], lockedEnv);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain(`Deleted ${a.id}`);
    expect(await versionsOf(a.key)).toEqual([]);
    expect(await versionsOf(manifestKey(a))).toEqual([]);

    await refusedUnchanged([b.id], new RegExp(`deleting ${b.id} would leave 2 verified restore point\\(s\\), fewer than 3`));
  });
});
