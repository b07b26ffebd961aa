// The generated lifecycle rules and the rendered backup policy on the real S3 server (Ceph RGW,
// where a lifecycle "day" lasts 10 s), attacked with the backup key as a stolen key would be used.
// Every backup is written and locked as the job does (PutObjectRetention on its version, for its
// type's retention); a restore point has its lock extended; one backup has no lock at all. Then the attacker writes a forged
// version over every dump: the original becomes noncurrent, and before this change lifecycle
// removed it a day later. Now the original stays until its retention (its lock, and a noncurrent
// rule as long as the retention), then lifecycle removes it, type by type in retention order; an
// unlocked one stays its retention by the noncurrent rule alone; the restore point outlives its type
// and every overwritten backup (lifecycle honours the lock); the attacker's deletes, bypasses,
// shortened locks and lifecycle rules are refused.
import * as Minio from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKUP_TYPES, objectLayout, type BackupType } from "../../job/core/catalog";
import { lifecycleRules, toS3Lifecycle } from "../../infra/lifecycle";
import { asBucketPolicy, workloadPolicy } from "../../infra/policies";
import { errorCode, removeBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";

/** The server's lifecycle clock: `rgw lc debug interval = 10` (scripts/services.sh). */
const DAY_SECONDS = 10;
/** Objects due in the same lifecycle pass are removed by parallel workers a few seconds apart. */
const PASS_SECONDS = 5;
/** Short test retentions, one day apart, so the order is visible within a minute. */
const TEST_RETENTION: Record<BackupType, number> = { daily: 1, manual: 2, pre_migration: 3, monthly: 4 };
/** The restore point's extended lock: past every type's retention. */
const RESTORE_POINT_DAYS = 6;
const PREFIX = "supabase";
const bucket = `dbb-infra-lifecycle-${Date.now().toString(36)}`;
/** RGW names users by uid: scripts/services.sh creates `dbbackup-other` with the "other" keys. */
const PRINCIPAL = "arn:aws:iam:::user/dbbackup-other";

function client(accessKey: string, secretKey: string): Minio.Client {
  const endpoint = new URL(services.s3Endpoint);
  return new Minio.Client({ endPoint: endpoint.hostname, port: Number(endpoint.port), useSSL: false, accessKey, secretKey, region: "us-east-1" });
}
const owner = client(services.s3AccessKey, services.s3SecretKey);
/** The backup key, restricted by the rendered backup policy. */
const key = client(services.s3OtherAccessKey, services.s3OtherSecretKey);

async function versions(key: string): Promise<{ versionId: string; isDeleteMarker: boolean }[]> {
  const found: { versionId: string; isDeleteMarker: boolean }[] = [];
  for await (const item of owner.listObjects(bucket, key, false, { IncludeVersion: true }) as AsyncIterable<{ name: string; versionId: string; isDeleteMarker?: boolean }>) {
    if (item.name === key) found.push({ versionId: item.versionId, isDeleteMarker: Boolean(item.isDeleteMarker) });
  }
  return found;
}
const hasVersion = async (k: string, versionId: string) => (await versions(k)).some((v) => v.versionId === versionId && !v.isDeleteMarker);


/** As the job writes a backup object: upload, then lock that version for the type's retention. */
async function writeLocked(k: string, body: string, days: number): Promise<string> {
  const { versionId } = (await key.putObject(bucket, k, Buffer.from(body))) as { versionId: string };
  await key.putObjectRetention(bucket, k, {
    mode: Minio.RETENTION_MODES.GOVERNANCE,
    retainUntilDate: new Date(Date.now() + days * DAY_SECONDS * 1000).toISOString(),
    versionId,
  } as never);
  return versionId;
}

describe("lifecycle rules and the backup key against the real S3 server", () => {
  const dumps = Object.fromEntries(BACKUP_TYPES.map((t) => [t, objectLayout.dumpKey(PREFIX, t, `backup_${t}`, "plain")])) as Record<BackupType, string>;
  const manifests = Object.fromEntries(BACKUP_TYPES.map((t) => [t, objectLayout.manifestKey(PREFIX, t, `backup_${t}`)])) as Record<BackupType, string>;
  const restorePoint = objectLayout.dumpKey(PREFIX, "daily", "backup_restore_point", "plain");
  /** A backup whose lock is missing (an older job, a lock call that failed): only lifecycle keeps it. */
  const unlocked = objectLayout.dumpKey(PREFIX, "manual", "backup_unlocked", "plain");
  let unlockedVersion = "";
  const request = objectLayout.requestKey(PREFIX, "req-1");
  const latest = objectLayout.latestKey(PREFIX);
  const originals = {} as Record<BackupType, string>;
  const manifestVersions = {} as Record<BackupType, string>;
  let restorePointVersion = "";
  let uploadedAt = 0;
  let requestVersion = "";

  beforeAll(async () => {
    await requireServices("s3");
    await owner.makeBucket(bucket, "us-east-1", { ObjectLocking: true }); // as every stack: locking implies versioning
    await owner.setBucketLifecycle(bucket, toS3Lifecycle(lifecycleRules(PREFIX, TEST_RETENTION)) as unknown as Minio.LifecycleConfig);
    await owner.setBucketPolicy(bucket, JSON.stringify(asBucketPolicy(workloadPolicy("backup", bucket, PREFIX, TEST_RETENTION), PRINCIPAL)));
    // The request record: written by the bucket owner here (the backup key may not write requests/).
    requestVersion = ((await owner.putObject(bucket, request, Buffer.from("{}"))) as { versionId: string }).versionId;
    uploadedAt = Date.now();
    for (const type of BACKUP_TYPES) {
      originals[type] = await writeLocked(dumps[type], `genuine ${type} dump`, TEST_RETENTION[type]);
      manifestVersions[type] = await writeLocked(manifests[type], `genuine ${type} manifest`, TEST_RETENTION[type]);
    }
    restorePointVersion = await writeLocked(restorePoint, "a verified restore point", TEST_RETENTION.daily);
    // What the drill does for a restore point: extend its lock (never shorten it).
    await key.putObjectRetention(bucket, restorePoint, {
      mode: Minio.RETENTION_MODES.GOVERNANCE,
      retainUntilDate: new Date(Date.now() + RESTORE_POINT_DAYS * DAY_SECONDS * 1000).toISOString(),
      versionId: restorePointVersion,
    } as never);
    unlockedVersion = ((await key.putObject(bucket, unlocked, Buffer.from("an unlocked manual dump"))) as { versionId: string }).versionId;
    await key.putObject(bucket, latest, Buffer.from('{"id":"backup_daily"}'));
    await key.putObject(bucket, latest, Buffer.from('{"id":"backup_monthly"}'));

    // The attack: a forged version over every dump (allowed: a write is a new version).
    for (const type of BACKUP_TYPES) await key.putObject(bucket, dumps[type], Buffer.from(`forged ${type} dump`));
    await key.putObject(bucket, unlocked, Buffer.from("forged"));
  }, 60_000);

  // The server's lifecycle pass walks every bucket that has rules: leave none behind.
  afterAll(async () => {
    await owner.setBucketLifecycle(bucket, null as never).catch(() => undefined);
    await removeBucket(bucket); // the bucket owner may bypass governance retention
  });

  it("the server accepted every generated rule", async () => {
    const stored = (await owner.getBucketLifecycle(bucket)) as unknown as { Rule: { ID: string }[] | { ID: string } };
    const ids = (Array.isArray(stored.Rule) ? stored.Rule : [stored.Rule]).map((r) => r.ID).sort();
    expect(ids).toEqual(lifecycleRules(PREFIX, TEST_RETENTION).map((r) => r.id).sort());
  });

  it("the stolen backup key cannot remove, unlock, shorten, or change the rules: every attempt refused", async () => {
    const monthly = dumps.monthly;
    const original = originals.monthly;
    expect(await errorCode(key.removeObject(bucket, monthly, { versionId: original }))).toBe("AccessDenied");
    expect(await errorCode(key.removeObject(bucket, monthly, { versionId: original, governanceBypass: true } as never))).toBe("AccessDenied");
    expect(await errorCode(key.removeObject(bucket, monthly))).toBe("AccessDenied"); // not even a delete marker
    const soon = new Date(Date.now() + 1000).toISOString();
    expect(await errorCode(key.putObjectRetention(bucket, monthly, { mode: Minio.RETENTION_MODES.GOVERNANCE, retainUntilDate: soon, versionId: original } as never))).toBe("AccessDenied");
    expect(
      await errorCode(key.putObjectRetention(bucket, monthly, { mode: Minio.RETENTION_MODES.GOVERNANCE, retainUntilDate: soon, versionId: original, governanceBypass: true } as never)),
    ).toBe("AccessDenied");
    expect(await errorCode(key.setBucketLifecycle(bucket, { Rule: [{ ID: "x", Status: "Enabled", Filter: { Prefix: "" }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }] } as never))).toBe(
      "AccessDenied",
    );
    expect(await errorCode(key.setBucketVersioning(bucket, { Status: "Suspended" }))).toBe("AccessDenied");
    expect(await errorCode(key.putObject(bucket, request, Buffer.from("{}")))).toBe("AccessDenied"); // requests/ is the restore key's
    const retention = (await owner.getObjectRetention(bucket, monthly, { versionId: original }).catch(() => key.getObjectRetention(bucket, monthly, { versionId: original }))) as {
      mode: string;
      retainUntilDate: string;
    };
    expect(retention.mode).toBe("GOVERNANCE");
    expect(new Date(retention.retainUntilDate).getTime()).toBeGreaterThanOrEqual(uploadedAt + TEST_RETENTION.monthly * DAY_SECONDS * 1000 - 2000);
    for (const type of BACKUP_TYPES) expect(await hasVersion(dumps[type], originals[type]), type).toBe(true);
  });

  it("every overwritten original stays until its type's retention, then lifecycle removes it, in retention order; the restore point outlives them all", async () => {
    const goneAfter: Partial<Record<BackupType, number>> = {};
    const restorePointSeen: number[] = [];
    let unlockedGone: number | undefined;
    // Generous: when other suites keep the server's lifecycle busy, a pass can start tens of seconds late.
    const deadline = uploadedAt + (TEST_RETENTION.monthly * DAY_SECONDS + 70) * 1000;
    while (Object.keys(goneAfter).length < BACKUP_TYPES.length && Date.now() < deadline) {
      for (const type of BACKUP_TYPES) {
        if (goneAfter[type] === undefined && !(await hasVersion(dumps[type], originals[type]))) goneAfter[type] = (Date.now() - uploadedAt) / 1000;
      }
      if (await hasVersion(restorePoint, restorePointVersion)) restorePointSeen.push((Date.now() - uploadedAt) / 1000);
      if (unlockedGone === undefined && !(await hasVersion(unlocked, unlockedVersion))) unlockedGone = (Date.now() - uploadedAt) / 1000;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const timings = `seconds after upload: ${JSON.stringify({ ...goneAfter, unlocked: unlockedGone })}`;
    expect(Object.keys(goneAfter).sort(), `originals never removed; ${timings}`).toEqual([...BACKUP_TYPES].sort());
    for (const type of BACKUP_TYPES) {
      // Never before its retention, whatever the attacker wrote over it.
      expect(goneAfter[type]!, `${type} original gone before its retention; ${timings}`).toBeGreaterThanOrEqual(TEST_RETENTION[type] * DAY_SECONDS);
    }
    // Without a lock, the noncurrent rule alone keeps an overwritten backup for its type's retention.
    if (unlockedGone !== undefined) expect(unlockedGone, `unlocked manual original gone early; ${timings}`).toBeGreaterThanOrEqual(TEST_RETENTION.manual * DAY_SECONDS);
    const byRetention = [...BACKUP_TYPES].sort((a, b) => TEST_RETENTION[a] - TEST_RETENTION[b]);
    for (const [i, longer] of byRetention.entries()) {
      if (i > 0) expect(goneAfter[byRetention[i - 1]!]!, timings).toBeLessThanOrEqual(goneAfter[longer]! + PASS_SECONDS);
    }
    // The restore point (a daily, 1 day) is still stored after the monthly original went: its
    // extended lock holds it past its type's expiry and past the noncurrent rule.
    expect(await hasVersion(restorePoint, restorePointVersion), `restore point gone; ${timings}`).toBe(true);
    expect(Math.max(...restorePointSeen)).toBeGreaterThanOrEqual(goneAfter.monthly!);
    // Nothing lifecycle does touches the request records; a replaced latest.json went after a day.
    expect(await hasVersion(request, requestVersion)).toBe(true);
    expect((await versions(latest)).filter((v) => !v.isDeleteMarker)).toHaveLength(1);
  }, 180_000);
});
