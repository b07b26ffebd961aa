// The job's and the operators' policies on a real S3 user. The test server (Ceph RGW) has no MinIO
// admin API for user policies, so each policy is applied as a bucket policy naming the second test
// user as principal (same statements, same actions and resources). With the job's policy that
// user can do the job's work, but every delete is refused; with the operators' it can delete a
// version, yet still not one under governance retention.
//
// RGW quirk, handled here: where a bucket policy has no matching statement RGW falls back to ACLs,
// and the uploader of an object owns it (FULL_CONTROL on the object: tagging, even bypassing
// governance retention). MinIO has no such fallback. So the refusals that hinge on object-level
// rights are checked on objects the bucket owner wrote, which the policy principal does not own.
import * as Minio from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXPIRY_TAG, objectLayout } from "../../job/core/catalog";
import { asBucketPolicy, jobPolicy, operatorPolicy } from "../../infra/policies";
import { removeBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";

const PREFIX = "supabase";
const suffix = Date.now().toString(36);
const bucket = `dbb-infra-policy-${suffix}`;
const elsewhere = `dbb-infra-policy-other-${suffix}`;
/** RGW names users by uid: scripts/services.sh creates `dbbackup-other` with the "other" keys. */
const PRINCIPAL = "arn:aws:iam:::user/dbbackup-other";

function client(accessKey: string, secretKey: string): Minio.Client {
  const endpoint = new URL(services.s3Endpoint);
  return new Minio.Client({ endPoint: endpoint.hostname, port: Number(endpoint.port), useSSL: false, accessKey, secretKey, region: "us-east-1" });
}
const owner = client(services.s3AccessKey, services.s3SecretKey);
const holder = client(services.s3OtherAccessKey, services.s3OtherSecretKey);

async function errorCode(action: Promise<unknown>): Promise<string> {
  try {
    await action;
    return "allowed";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

async function versionsOf(key: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const item of holder.listObjects(bucket, key, false, { IncludeVersion: true }) as AsyncIterable<{ name: string; versionId: string }>) {
    if (item.name === key) ids.push(item.versionId);
  }
  return ids;
}

describe("policies applied to a real S3 user", () => {
  const dump = objectLayout.dumpKey(PREFIX, "daily", "backup_20250607_120000", "plain");
  const locked = objectLayout.dumpKey(PREFIX, "daily", "backup_20250607_130000", "plain");
  /** Written by the bucket owner: not owned by the policy's principal. */
  const ownerDump = objectLayout.dumpKey(PREFIX, "monthly", "backup_20250601_030000", "plain");
  const ownerLocked = objectLayout.dumpKey(PREFIX, "monthly", "backup_20250501_030000", "plain");

  beforeAll(async () => {
    await requireServices("s3");
    await owner.makeBucket(bucket, "us-east-1", { ObjectLocking: true });
    await owner.makeBucket(elsewhere, "us-east-1");
    await owner.setBucketPolicy(bucket, JSON.stringify(asBucketPolicy(jobPolicy(bucket, PREFIX), PRINCIPAL)));
    await owner.putObject(bucket, ownerDump, Buffer.from("monthly v1"));
    await owner.putObject(bucket, ownerDump, Buffer.from("monthly v2"));
    await owner.setObjectTagging(bucket, ownerDump, { [EXPIRY_TAG.key]: EXPIRY_TAG.value });
    await owner.putObject(bucket, ownerLocked, Buffer.from("locked monthly"));
    await owner.putObjectRetention(bucket, ownerLocked, { mode: Minio.RETENTION_MODES.GOVERNANCE, retainUntilDate: new Date(Date.now() + 3_600_000).toISOString() } as never);
  });

  afterAll(async () => {
    await removeBucket(bucket); // the bucket owner may bypass governance retention
    await removeBucket(elsewhere);
  });

  it("with the job's policy: the job's work succeeds", async () => {
    expect(await holder.bucketExists(bucket)).toBe(true);
    await holder.putObject(bucket, dump, Buffer.from("dump v1"));
    await holder.putObject(bucket, dump, Buffer.from("dump v2")); // an overwrite is a new version
    await holder.setObjectTagging(bucket, dump, { [EXPIRY_TAG.key]: EXPIRY_TAG.value });
    expect(await holder.getObjectTagging(bucket, dump)).toEqual([{ Key: EXPIRY_TAG.key, Value: EXPIRY_TAG.value }]);
    await holder.setObjectTagging(bucket, dump, { sha256: "0".repeat(64) }); // protection: tag set without the expiry tag
    await holder.putObject(bucket, locked, Buffer.from("locked dump"));
    await holder.putObjectRetention(bucket, locked, { mode: Minio.RETENTION_MODES.GOVERNANCE, retainUntilDate: new Date(Date.now() + 3_600_000).toISOString() } as never);
    await holder.setObjectLegalHold(bucket, dump, { status: Minio.LEGAL_HOLD_STATUS.ENABLED } as never);
    await holder.setObjectLegalHold(bucket, dump, { status: Minio.LEGAL_HOLD_STATUS.DISABLED } as never);
    const body = await holder.getObject(bucket, dump);
    let text = "";
    for await (const chunk of body) text += chunk;
    expect(text).toBe("dump v2");
    expect(await versionsOf(dump)).toHaveLength(2);
  });

  it("with the job's policy: every delete is refused, nothing outside the prefix or bucket is reachable", async () => {
    const [v1] = await versionsOf(dump);
    const [ownerV1] = await versionsOf(ownerDump);
    expect(await errorCode(holder.removeObject(bucket, dump))).toBe("AccessDenied");
    expect(await errorCode(holder.removeObject(bucket, dump, { versionId: v1! }))).toBe("AccessDenied");
    expect(await errorCode(holder.removeObject(bucket, ownerDump))).toBe("AccessDenied");
    expect(await errorCode(holder.removeObject(bucket, ownerDump, { versionId: ownerV1! }))).toBe("AccessDenied");
    const [ownerLockedVersion] = await versionsOf(ownerLocked);
    expect(await errorCode(holder.removeObject(bucket, ownerLocked, { versionId: ownerLockedVersion!, governanceBypass: true }))).toBe("AccessDenied");
    // Multi-object delete: refused as a whole, or with an error per object; either way nothing goes.
    const batch = await holder.removeObjects(bucket, [{ name: ownerDump, versionId: ownerV1! }, { name: dump, versionId: v1! }]).catch((e: { code?: string }) => e.code);
    if (typeof batch === "string") expect(batch).toBe("AccessDenied");
    else for (const entry of batch ?? []) expect(JSON.stringify(entry)).toContain("AccessDenied");
    // Object tags: the policy's PutObjectTagging works on the owner's object, DeleteObjectTagging is not granted.
    await holder.setObjectTagging(bucket, ownerDump, { [EXPIRY_TAG.key]: EXPIRY_TAG.value, sha256: "1".repeat(64) });
    expect(await errorCode(holder.removeObjectTagging(bucket, ownerDump, {} as never))).toBe("AccessDenied");
    expect(await errorCode(holder.putObject(bucket, "not-backups/x", Buffer.from("x")))).toBe("AccessDenied");
    expect(await errorCode(holder.putObject(elsewhere, `${PREFIX}/daily/x`, Buffer.from("x")))).toBe("AccessDenied");
    expect(await errorCode(holder.getObject(elsewhere, "anything"))).not.toBe("allowed");
    expect(await errorCode(holder.setBucketLifecycle(bucket, { Rule: [{ ID: "x", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 1 } }] } as never))).toBe("AccessDenied");
    expect(await errorCode(holder.setBucketPolicy(bucket, "{}"))).toBe("AccessDenied");
    expect(await errorCode(holder.setBucketVersioning(bucket, { Status: "Suspended" }))).toBe("AccessDenied");
    expect(await errorCode(holder.removeBucket(bucket))).toBe("AccessDenied");
    // A stolen job key erased nothing.
    expect(await versionsOf(dump)).toHaveLength(2);
    expect(await versionsOf(ownerDump)).toHaveLength(2);
    expect(await versionsOf(ownerLocked)).toHaveLength(1);
  });

  it("with the operators' policy: a version can be deleted, but not one under governance retention", async () => {
    await owner.setBucketPolicy(bucket, JSON.stringify(asBucketPolicy(operatorPolicy(bucket, PREFIX), PRINCIPAL)));
    const [v1, v2] = await versionsOf(ownerDump);
    await holder.removeObject(bucket, ownerDump, { versionId: v1! });
    expect(await versionsOf(ownerDump)).toEqual([v2]);
    const [lockedVersion] = await versionsOf(ownerLocked);
    expect(await errorCode(holder.removeObject(bucket, ownerLocked, { versionId: lockedVersion! }))).toBe("AccessDenied");
    expect(await errorCode(holder.removeObject(bucket, ownerLocked, { versionId: lockedVersion!, governanceBypass: true }))).toBe("AccessDenied");
    expect(await versionsOf(ownerLocked)).toEqual([lockedVersion]);
  });
});
