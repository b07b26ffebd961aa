// Deletion and immutability on the real S3 server with Object Lock: each backup's dump and manifest
// versions are locked (GOVERNANCE) for its type's retention and the server refuses a DELETE of a
// locked version; `db-backup delete` refuses young backups, held ones, restore points (whose locks
// every drill extends) and the last 3 verified ones, each with one line and the bucket unchanged, and
// otherwise removes every version of the backup, its run marker and its drills' records for good.
import * as Minio from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupManifest } from "../../job/inventory/manifest";
import { expectRefused } from "../helpers/assertions";
import { backdatedBackup, createBackup, manifestKey, retainedUntil, versionIds } from "../helpers/backups";
import { jobEnv, runCli } from "../helpers/cli";
import { database, dropDatabase } from "../helpers/pg";
import { listKeys, makeBucket, removeBucket, s3Client, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { bucketVersions } from "../helpers/snapshots";

const bucket = uniqueBucket("dbb-lock");
const created: string[] = [];
const DAY = 86_400_000;
let lockedEnv: Record<string, string>;
let shortEnv: Record<string, string>;

let template: BackupManifest;

/** A backup as the job would have written it `days` ago (its lock long run out). */
async function oldBackup(days: number, verified: boolean): Promise<BackupManifest> {
  template ??= await createBackup(shortEnv);
  return backdatedBackup(bucket, template, days, { verified });
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
  it("locks a successful backup's dump and manifest versions for its type's retention (GOVERNANCE); the server refuses a DELETE of them", async () => {
    const m = await createBackup(lockedEnv);
    const [manifestVersion] = await versionIds(bucket, manifestKey(m));
    for (const [key, version] of [[m.key, m.dumpVersionId], [manifestKey(m), manifestVersion]] as const) {
      const retention = await s3Client().getObjectRetention(bucket, key, { versionId: version ?? "" } as never);
      expect(retention?.mode).toBe("GOVERNANCE");
      const until = new Date(retention!.retainUntilDate).getTime();
      expect(Math.abs(until - (Date.now() + 30 * DAY)), `${key}: a manual backup is kept 30 days`).toBeLessThan(3600_000);
    }
    expect(m.dumpVersionId).toBeTruthy();
    expect((await s3Client().statObject(bucket, m.key)).versionId).toBe(m.dumpVersionId);
    await expect(s3Client().removeObject(bucket, m.key, { versionId: m.dumpVersionId! })).rejects.toMatchObject({ code: "AccessDenied" });
    expect(await versionIds(bucket, m.key)).toEqual([m.dumpVersionId]);

    await refusedUnchanged([m.id], new RegExp(`backup ${m.id} is 0\\.0 days old: backups younger than 7 days cannot be deleted; it can be from `));
  });

  it("locks a failed backup's manifest too: the record of the failure stays", async () => {
    const result = await runCli(["create", "--type", "daily", "--table", "pmoves_core.no_such_*", "--json"], lockedEnv);
    expect(result.code).not.toBe(0);
    const list = JSON.parse((await runCli(["list", "--json"], lockedEnv)).stdout) as { id: string; status: string }[];
    const failed = list.find((e) => e.status === "Failed")!;
    const until = await retainedUntil(bucket, `supabase/daily/${failed.id}.manifest.json`);
    expect(Math.abs(until!.getTime() - (Date.now() + 7 * DAY))).toBeLessThan(3600_000);
  });
});

describe("db-backup delete", () => {
  it("refuses a backup under legal hold", async () => {
    const held = await oldBackup(10, false);
    await s3Client().setObjectLegalHold(bucket, held.key, { status: Minio.LEGAL_HOLD_STATUS.ENABLED, versionId: "" } as never);
    await refusedUnchanged([held.id], new RegExp(`backup ${held.id} is under legal hold .*release the hold first`));
  });

  it("holds the newest 3 verified restore points and never leaves fewer than 3; deletes the rest, every version, with its drills' records", async () => {
    const [a, b, c, d] = [await oldBackup(20, true), await oldBackup(19, true), await oldBackup(18, true), await oldBackup(17, true)];
    // A real drill extends the locks of the newest 3 verified backups' exact versions, 35 days on.
    const verify = await runCli(["verify", d.id, "--allow-source-server"], lockedEnv);
    expect(verify.code, verify.stderr).toBe(0);
    for (const m of [b, c, d]) {
      const until = await retainedUntil(bucket, m.key, m.dumpVersionId);
      expect(Math.abs(until!.getTime() - (Date.now() + 35 * DAY)), m.id).toBeLessThan(3600_000);
    }
    expect(await retainedUntil(bucket, a.key, a.dumpVersionId)).toBeNull();

    await refusedUnchanged([b.id], new RegExp(`backup ${b.id} is one of the 3 newest verified restore points, which are protected from deletion`));

    const before = await bucketVersions(bucket);
    const dry = await runCli(["delete", a.id, "--dry-run"], lockedEnv);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/\[ok\] +age: 20 days old/);
    expect(dry.stdout).toMatch(/\[ok\] +retention lock: none left/);
    expect(dry.stdout).toMatch(/would remove every version of/);
    expect(await bucketVersions(bucket)).toEqual(before);

    expect(await listKeys(bucket, `supabase/verifications/${a.id}/`)).toHaveLength(1);
    const deleted = await runCli(["delete", a.id], lockedEnv);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain(`Deleted ${a.id}`);
    expect(await versionIds(bucket, a.key)).toEqual([]);
    expect(await versionIds(bucket, manifestKey(a))).toEqual([]);
    expect(await listKeys(bucket, `supabase/verifications/${a.id}/`)).toEqual([]);

    await refusedUnchanged([b.id], new RegExp(`deleting ${b.id} would leave 2 verified restore point\\(s\\), fewer than 3`));
  });
});
