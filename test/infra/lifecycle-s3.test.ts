// The generated lifecycle rules, as S3 lifecycle configuration, on the real S3 server (Ceph RGW,
// where a lifecycle "day" lasts 10 s) with short test retentions: each type's tagged backups expire
// in retention order; protected restore points (no expiry tag), other prefixes and the request
// records stay; noncurrent versions (expired backups, old latest.sql.gz) go after the grace day.
import * as Minio from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKUP_TYPES, EXPIRY_TAG, RESTORE_POINT_TAG, SHA256_TAG, objectLayout, type BackupType } from "../../job/core/catalog";
import { lifecycleRules, toS3Lifecycle } from "../../infra/lifecycle";
import { removeBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";

/** The server's lifecycle clock: `rgw lc debug interval = 10` (scripts/services.sh). */
const DAY_SECONDS = 10;
/** Objects due in the same lifecycle pass are removed by parallel workers a few seconds apart. */
const PASS_SECONDS = 5;
/** Short test retentions, one day apart, so the order is visible within a minute. */
const TEST_RETENTION: Record<BackupType, number> = { daily: 1, manual: 2, pre_migration: 3, monthly: 4 };
const PREFIX = "supabase";
const bucket = `dbb-infra-lifecycle-${Date.now().toString(36)}`;

const s3 = () => {
  const endpoint = new URL(services.s3Endpoint);
  return new Minio.Client({
    endPoint: endpoint.hostname,
    port: Number(endpoint.port),
    useSSL: endpoint.protocol === "https:",
    accessKey: services.s3AccessKey,
    secretKey: services.s3SecretKey,
    region: "us-east-1",
  });
};

async function exists(client: Minio.Client, key: string): Promise<boolean> {
  try {
    await client.statObject(bucket, key);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "NotFound" || (error as { code?: string }).code === "NoSuchKey") return false;
    throw error;
  }
}

async function versions(client: Minio.Client, key: string): Promise<{ versionId: string; isDeleteMarker: boolean }[]> {
  const found: { versionId: string; isDeleteMarker: boolean }[] = [];
  const stream = client.listObjects(bucket, key, false, { IncludeVersion: true });
  for await (const item of stream as AsyncIterable<{ name: string; versionId: string; isDeleteMarker?: boolean }>) {
    if (item.name === key) found.push({ versionId: item.versionId, isDeleteMarker: Boolean(item.isDeleteMarker) });
  }
  return found;
}

async function put(client: Minio.Client, key: string, tags: Record<string, string>): Promise<void> {
  await client.putObject(bucket, key, Buffer.from(`content of ${key}\n`));
  if (Object.keys(tags).length > 0) await client.setObjectTagging(bucket, key, tags);
}

const expiryTag = { [EXPIRY_TAG.key]: EXPIRY_TAG.value, [SHA256_TAG]: "0".repeat(64) };
/** What protection leaves on a restore point: the expiry tag replaced by the restore-point tag. */
const protectedTags = { [SHA256_TAG]: "0".repeat(64), [RESTORE_POINT_TAG.key]: RESTORE_POINT_TAG.value };

describe("lifecycle rules on the real S3 server", () => {
  const client = s3();
  const dumps = Object.fromEntries(BACKUP_TYPES.map((t) => [t, objectLayout.dumpKey(PREFIX, t, `backup_${t}`, "plain")])) as Record<BackupType, string>;
  const manifests = Object.fromEntries(BACKUP_TYPES.map((t) => [t, objectLayout.manifestKey(PREFIX, t, `backup_${t}`)])) as Record<BackupType, string>;
  const stays = {
    protectedDaily: objectLayout.dumpKey(PREFIX, "daily", "backup_protected", "plain"),
    protectedDailyManifest: objectLayout.manifestKey(PREFIX, "daily", "backup_protected"),
    protectedManual: objectLayout.dumpKey(PREFIX, "manual", "backup_protected", "plain"),
    otherPrefix: objectLayout.dumpKey("other-app", "daily", "backup_other", "plain"),
    requestRecord: objectLayout.requestKey(PREFIX, "req-1"),
  };
  const latest = objectLayout.latestKey(PREFIX);
  let uploadedAt = 0;
  /** How late the server's lifecycle ran compared to the first due time, to pace the next waits. */
  let lifecycleLag = 0;

  beforeAll(async () => {
    await requireServices("s3");
    await client.makeBucket(bucket, "us-east-1", { ObjectLocking: true }); // as prod: locking implies versioning
    const config = toS3Lifecycle(lifecycleRules(PREFIX, TEST_RETENTION));
    await client.setBucketLifecycle(bucket, config as unknown as Minio.LifecycleConfig);
    uploadedAt = Date.now();
    for (const type of BACKUP_TYPES) {
      await put(client, dumps[type], expiryTag);
      await put(client, manifests[type], expiryTag);
    }
    await put(client, stays.protectedDaily, protectedTags);
    await put(client, stays.protectedDailyManifest, { [RESTORE_POINT_TAG.key]: RESTORE_POINT_TAG.value });
    await put(client, stays.protectedManual, protectedTags);
    await put(client, stays.otherPrefix, expiryTag); // tagged, but outside the backup prefix
    await put(client, stays.requestRecord, expiryTag); // tagged, but no rule covers request records
    await put(client, latest, {});
    await put(client, latest, {}); // the first latest.sql.gz becomes noncurrent
  });

  // The server's lifecycle pass walks every bucket that has rules: leave none behind.
  afterAll(async () => {
    await client.setBucketLifecycle(bucket, null as never).catch(() => undefined);
    await removeBucket(bucket);
  });

  it("the server accepted every generated rule", async () => {
    const stored = (await client.getBucketLifecycle(bucket)) as unknown as { Rule: { ID: string }[] | { ID: string } };
    const ids = (Array.isArray(stored.Rule) ? stored.Rule : [stored.Rule]).map((r) => r.ID).sort();
    expect(ids).toEqual(lifecycleRules(PREFIX, TEST_RETENTION).map((r) => r.id).sort());
  });

  it("expires each type after its retention, in retention order; keeps protected points, other prefixes and request records", async () => {
    const goneAfter: Partial<Record<BackupType, number>> = {};
    // Generous: when other suites keep the server's lifecycle busy, a pass can start tens of seconds late.
    const deadline = uploadedAt + (TEST_RETENTION.monthly * DAY_SECONDS + 60) * 1000;
    while (Object.keys(goneAfter).length < BACKUP_TYPES.length && Date.now() < deadline) {
      for (const type of BACKUP_TYPES) {
        // A type is gone when its dump and its manifest are (RGW expires objects with parallel workers).
        if (goneAfter[type] === undefined && !(await exists(client, dumps[type])) && !(await exists(client, manifests[type]))) {
          goneAfter[type] = (Date.now() - uploadedAt) / 1000;
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const timings = `seconds after upload: ${JSON.stringify(goneAfter)}`;
    expect(Object.keys(goneAfter).sort(), timings).toEqual([...BACKUP_TYPES].sort());
    for (const type of BACKUP_TYPES) {
      // Never before its retention: the rule counts the type's own days, not another type's.
      expect(goneAfter[type]!, `${type} expired before its retention; ${timings}`).toBeGreaterThanOrEqual(TEST_RETENTION[type] * DAY_SECONDS);
    }
    // In order: a type with a longer retention never goes before a shorter one (beyond one pass, in
    // which a late lifecycle run removes everything already due).
    const byRetention = [...BACKUP_TYPES].sort((a, b) => TEST_RETENTION[a] - TEST_RETENTION[b]);
    for (const [i, longer] of byRetention.entries()) {
      if (i > 0) expect(goneAfter[byRetention[i - 1]!]!, timings).toBeLessThanOrEqual(goneAfter[longer]! + PASS_SECONDS);
    }
    lifecycleLag = goneAfter.daily! - TEST_RETENTION.daily * DAY_SECONDS;

    for (const [what, key] of Object.entries(stays)) expect(await exists(client, key), what).toBe(true);
    expect(await exists(client, latest), "current latest.sql.gz").toBe(true);
  }, 150_000);

  it("then removes the expired versions for good, their delete markers, and the old latest.sql.gz", async () => {
    // Expiry left a delete marker over each dump; the noncurrent rule removes the dump's version a
    // day later, and the delete-marker rule then the lone marker.
    const deadline = Date.now() + Math.max(40, 3 * (DAY_SECONDS + lifecycleLag)) * 1000;
    let remaining: string[] = [];
    do {
      remaining = [];
      for (const key of [dumps.daily, manifests.daily, dumps.manual]) {
        if ((await versions(client, key)).some((v) => !v.isDeleteMarker)) remaining.push(key);
      }
      // …and for the oldest, the delete-marker rule has also removed the lone marker: no trace left.
      if ((await versions(client, dumps.daily)).length > 0) remaining.push(`${dumps.daily} (delete marker)`);
      if ((await versions(client, latest)).length > 1) remaining.push(latest);
      if (remaining.length > 0) await new Promise((r) => setTimeout(r, 1000));
    } while (remaining.length > 0 && Date.now() < deadline);
    expect(remaining, "versions still stored").toEqual([]);
    expect((await versions(client, stays.protectedDaily)).length).toBe(1);
    expect((await versions(client, latest)).filter((v) => !v.isDeleteMarker)).toHaveLength(1);
  }, 200_000);
});
