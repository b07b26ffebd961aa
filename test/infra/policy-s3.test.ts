// Every workload's rendered policy on a real S3 user. The test server (Ceph RGW) has no MinIO admin
// API for user policies, so each policy is applied as a bucket policy naming the second test user
// as principal (same statements, actions, resources and conditions), one bucket per workload, each
// with Object Lock as every stack has. Then that user, holding the workload's key, does the
// workload's work — and every attack: deleting, tagging, legal holds, bypassing or shortening a
// lock, writing into another workload's folder, reconfiguring the bucket.
//
// The objects attacked are both the principal's own uploads and the bucket owner's: on RGW an
// uploader owns its objects (ACL FULL_CONTROL, which RGW falls back to where no statement
// matches), so only the policy's explicit denies stop it on its own objects.
import * as Minio from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKUP_TYPES, longestRetentionDays, retentionRules } from "../../job/core/catalog";
import { AREAS, RIGHTS, WORKLOADS, areaKey, asBucketPolicy, workloadPolicy, type Area, type Workload } from "../../infra/policies";
import { errorCode, removeBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";

const PREFIX = "supabase";
const RETENTION = retentionRules();
const suffix = Date.now().toString(36);
const bucketOf = (w: Workload) => `dbb-infra-policy-${w}-${suffix}`;
/** A bucket no policy names the principal in. */
const elsewhere = `dbb-infra-policy-none-${suffix}`;
/** RGW names users by uid: scripts/services.sh creates `dbbackup-other` with the "other" keys. */
const PRINCIPAL = "arn:aws:iam:::user/dbbackup-other";
const HOUR_MS = 3_600_000;

function client(accessKey: string, secretKey: string): Minio.Client {
  const endpoint = new URL(services.s3Endpoint);
  return new Minio.Client({ endPoint: endpoint.hostname, port: Number(endpoint.port), useSSL: false, accessKey, secretKey, region: "us-east-1" });
}
const owner = client(services.s3AccessKey, services.s3SecretKey);
/** Holds one workload's key at a time (its bucket's policy). */
const holder = client(services.s3OtherAccessKey, services.s3OtherSecretKey);


/** A key in an area of the layout, as the job would name it. */
function sampleKey(area: Area, name = "backup_20250607_120000"): string {
  const key = areaKey(PREFIX, area);
  if (!key.endsWith("*")) return key;
  const folder = key.slice(0, -1);
  if (area === "verifications") return `${folder}${name}/20250607T130000Z.json`;
  if (area === "runs" || area === "requests") return `${folder}${name}.json`;
  return `${folder}${name}.sql.gz`;
}

async function versionsOf(bucket: string, key: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const item of owner.listObjects(bucket, key, false, { IncludeVersion: true }) as AsyncIterable<{ name: string; versionId: string; isDeleteMarker?: boolean }>) {
    if (item.name === key) ids.push(`${item.isDeleteMarker ? "marker:" : ""}${item.versionId}`);
  }
  return ids;
}

const lock = (bucket: string, key: string, versionId: string, until: Date, extra: Record<string, unknown> = {}) =>
  holder.putObjectRetention(bucket, key, { mode: Minio.RETENTION_MODES.GOVERNANCE, retainUntilDate: until.toISOString(), versionId, ...extra } as never);

interface Seeded {
  /** The bucket owner's locked backup (not owned by the principal). */
  locked: { key: string; versionId: string };
  /** The bucket owner's unlocked backup with two versions. */
  unlocked: { key: string; versions: string[] };
}
const seeded = {} as Record<Workload, Seeded>;

beforeAll(async () => {
  await requireServices("s3");
  await owner.makeBucket(elsewhere, "us-east-1");
  for (const w of WORKLOADS) {
    const bucket = bucketOf(w);
    await owner.makeBucket(bucket, "us-east-1", { ObjectLocking: true });
    await owner.setBucketPolicy(bucket, JSON.stringify(asBucketPolicy(workloadPolicy(w, bucket, PREFIX, RETENTION), PRINCIPAL)));
    const lockedKey = sampleKey("monthly", "backup_20250501_030000");
    const { versionId } = (await owner.putObject(bucket, lockedKey, Buffer.from("locked monthly"))) as { versionId: string };
    await owner.putObjectRetention(bucket, lockedKey, { mode: Minio.RETENTION_MODES.GOVERNANCE, retainUntilDate: new Date(Date.now() + HOUR_MS).toISOString(), versionId } as never);
    const unlockedKey = sampleKey("manual", "backup_20250502_030000");
    const v1 = ((await owner.putObject(bucket, unlockedKey, Buffer.from("manual v1"))) as { versionId: string }).versionId;
    const v2 = ((await owner.putObject(bucket, unlockedKey, Buffer.from("manual v2"))) as { versionId: string }).versionId;
    seeded[w] = { locked: { key: lockedKey, versionId }, unlocked: { key: unlockedKey, versions: [v1, v2] } };
  }
}, 60_000);

afterAll(async () => {
  for (const w of WORKLOADS) await removeBucket(bucketOf(w)); // the bucket owner may bypass governance retention
  await removeBucket(elsewhere);
});

describe.each(WORKLOADS.map((w) => [w]))("the %s key", (workload) => {
  const bucket = bucketOf(workload);
  const rights = RIGHTS[workload];

  it("reads every backup and version, with its retention, and lists versions", async () => {
    const { locked, unlocked } = seeded[workload];
    let text = "";
    for await (const chunk of await holder.getObject(bucket, unlocked.key, { versionId: unlocked.versions[0] } as never)) text += chunk;
    expect(text).toBe("manual v1");
    expect(((await holder.getObjectRetention(bucket, locked.key, { versionId: locked.versionId })) as { mode: string }).mode).toBe("GOVERNANCE");
    const listed: string[] = [];
    for await (const item of holder.listObjects(bucket, `${PREFIX}/`, true, { IncludeVersion: true }) as AsyncIterable<{ name: string }>) listed.push(item.name);
    expect(listed).toEqual(expect.arrayContaining([locked.key, unlocked.key]));
    expect(await holder.bucketExists(bucket)).toBe(true);
  });

  it(`writes and locks exactly its own folders (${rights.writes.join(", ") || "none"}); every other folder refused`, async () => {
    for (const area of AREAS) {
      const key = sampleKey(area);
      const result = await errorCode(holder.putObject(bucket, key, Buffer.from(`${workload} writes ${area}`)));
      expect(result, `${workload} PutObject ${key}`).toBe(rights.writes.includes(area) ? "allowed" : "AccessDenied");
      if (result !== "allowed") {
        expect(await versionsOf(bucket, key), key).toEqual([]);
        continue;
      }
      // The job locks what it wrote, for its retention; then it (or the drill) may extend, never shorten.
      const [versionId] = await versionsOf(bucket, key);
      await lock(bucket, key, versionId!, new Date(Date.now() + 2 * HOUR_MS));
      await lock(bucket, key, versionId!, new Date(Date.now() + 3 * HOUR_MS));
      expect(await errorCode(lock(bucket, key, versionId!, new Date(Date.now() + HOUR_MS))), `shorten ${key}`).toBe("AccessDenied");
      expect(await errorCode(lock(bucket, key, versionId!, new Date(Date.now() + HOUR_MS), { governanceBypass: true })), `bypass ${key}`).toBe("AccessDenied");
    }
  });

  it("cannot delete, tag, hold or bypass — on its own uploads or anyone's — nor reconfigure the bucket", async () => {
    const { locked, unlocked } = seeded[workload];
    const own = rights.writes.length > 0 ? sampleKey(rights.writes[0]!) : undefined;
    const targets = [locked.key, unlocked.key, ...(own ? [own] : [])];
    for (const key of targets) {
      const before = await versionsOf(bucket, key);
      expect(await errorCode(holder.setObjectTagging(bucket, key, { "db-backup-expiry": "expire" })), `tag ${key}`).toBe("AccessDenied");
      expect(await errorCode(holder.removeObjectTagging(bucket, key, {} as never)), `untag ${key}`).toBe("AccessDenied");
      expect(await errorCode(holder.setObjectLegalHold(bucket, key, { status: Minio.LEGAL_HOLD_STATUS.ENABLED } as never) as unknown as Promise<void>), `hold ${key}`).toBe("AccessDenied");
      if (workload !== "operator") {
        expect(await errorCode(holder.removeObject(bucket, key)), `delete marker on ${key}`).toBe("AccessDenied");
        expect(await errorCode(holder.removeObject(bucket, key, { versionId: before[0]!.replace("marker:", "") })), `delete version of ${key}`).toBe("AccessDenied");
      }
      expect(await errorCode(holder.removeObject(bucket, key, { versionId: before[0]!, governanceBypass: true } as never)), `bypass-delete ${key}`).toBe(
        workload === "operator" && key === unlocked.key ? "allowed" : "AccessDenied",
      );
      if (!(workload === "operator" && key === unlocked.key)) expect(await versionsOf(bucket, key), key).toEqual(before);
    }
    expect(await errorCode(lock(bucket, locked.key, locked.versionId, new Date(Date.now() + 60_000)))).toBe("AccessDenied"); // shorten
    expect(await errorCode(holder.setBucketLifecycle(bucket, { Rule: [{ ID: "x", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 1 } }] } as never))).toBe("AccessDenied");
    expect(await errorCode(holder.setBucketPolicy(bucket, "{}"))).toBe("AccessDenied");
    expect(await errorCode(holder.setBucketVersioning(bucket, { Status: "Suspended" }))).toBe("AccessDenied");
    expect(await errorCode(holder.removeBucket(bucket))).toBe("AccessDenied");
    expect(await errorCode(holder.putObject(bucket, "not-backups/x", Buffer.from("x")))).toBe("AccessDenied");
    expect(await errorCode(holder.putObject(elsewhere, `${PREFIX}/daily/x.sql.gz`, Buffer.from("x")))).toBe("AccessDenied");
    expect(await errorCode(holder.getObject(elsewhere, "anything"))).not.toBe("allowed");
  });

  if (workload === "operator") {
    it("deletes a version for good (db-backup delete), but not a locked one, with or without bypass", async () => {
      const { locked, unlocked } = seeded.operator;
      const before = await versionsOf(bucket, unlocked.key);
      await holder.removeObject(bucket, unlocked.key, { versionId: before[0]! });
      expect(await versionsOf(bucket, unlocked.key)).toEqual(before.slice(1));
      expect(await errorCode(holder.removeObject(bucket, locked.key, { versionId: locked.versionId }))).toBe("AccessDenied");
      expect(await errorCode(holder.removeObject(bucket, locked.key, { versionId: locked.versionId, governanceBypass: true } as never))).toBe("AccessDenied");
      expect(await versionsOf(bucket, locked.key)).toEqual([locked.versionId]);
    });
  }

  if (rights.extends.length > 0 || rights.writes.some((a) => (BACKUP_TYPES as readonly string[]).includes(a))) {
    it("extends the lock of a backup it did not write (a restore point), never shortens it", async () => {
      const { locked } = seeded[workload];
      const canExtend = [...rights.writes, ...rights.extends].includes("monthly");
      expect(await errorCode(lock(bucket, locked.key, locked.versionId, new Date(Date.now() + 2 * HOUR_MS)))).toBe(canExtend ? "allowed" : "AccessDenied");
      expect(await errorCode(lock(bucket, locked.key, locked.versionId, new Date(Date.now() + HOUR_MS / 2)))).toBe("AccessDenied");
    });
  } else {
    it("locks nothing at all", async () => {
      const { locked } = seeded[workload];
      expect(await errorCode(lock(bucket, locked.key, locked.versionId, new Date(Date.now() + 2 * HOUR_MS)))).toBe("AccessDenied");
    });
  }
});

describe("what Ceph RGW does with the lock conditions (measured; MinIO evaluates them)", () => {
  it("accepts the policy with s3:object-lock-mode and s3:object-lock-remaining-retention-days, but enforces neither", async () => {
    const bucket = bucketOf("backup");
    const key = sampleKey("daily", "backup_measure_conditions");
    const { versionId } = (await holder.putObject(bucket, key, Buffer.from("x"))) as { versionId: string };
    // Beyond the longest retention: MinIO refuses (NoRetentionBeyondLongest); RGW lets it through.
    const tooLong = new Date(Date.now() + (longestRetentionDays(RETENTION) + 30) * 86_400_000);
    expect(await errorCode(lock(bucket, key, versionId, tooLong))).toBe("allowed");
    // COMPLIANCE (a few seconds, so the test can clean up): MinIO refuses (NoComplianceMode); RGW lets it through.
    const other = sampleKey("daily", "backup_measure_compliance");
    const second = (await holder.putObject(bucket, other, Buffer.from("y"))) as { versionId: string };
    const until = Date.now() + 3000;
    expect(
      await errorCode(holder.putObjectRetention(bucket, other, { mode: Minio.RETENTION_MODES.COMPLIANCE, retainUntilDate: new Date(until).toISOString(), versionId: second.versionId } as never)),
    ).toBe("allowed");
    expect(((await holder.getObjectRetention(bucket, other, { versionId: second.versionId })) as { mode: string }).mode).toBe("COMPLIANCE");
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 1500)); // let it lapse before cleanup
  });
});
