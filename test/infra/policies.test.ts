// The job's key cannot erase backups; the operators' can delete versions but not bypass retention;
// neither reaches beyond its bucket's backup prefix.
import { describe, expect, it } from "vitest";
import {
  BUCKET_CONFIG_WRITES,
  OPERATOR_EXTRA_ACTIONS,
  asBucketPolicy,
  jobPolicy,
  operatorPolicy,
  type PolicyDocument,
} from "../../infra/policies";

const BUCKET = "db-backups-prod";
const PREFIX = "supabase";
const allowed = (policy: PolicyDocument) => policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action);
const denied = (policy: PolicyDocument) => policy.Statement.filter((s) => s.Effect === "Deny").flatMap((s) => s.Action);
const resources = (policy: PolicyDocument) => policy.Statement.flatMap((s) => s.Resource);

/** Bucket-configuration writes: anything that changes the bucket rather than an object in it. */
const BUCKET_CONFIG_WRITE = /^s3:(Put|Delete)Bucket|^s3:(CreateBucket|DeleteBucket)$|^s3:Put(Lifecycle|Encryption|Replication)Configuration$/;

describe("jobPolicy", () => {
  const policy = jobPolicy(BUCKET, PREFIX);

  it("grants no object or version deletion, no governance bypass, no wildcard", () => {
    for (const action of allowed(policy)) {
      expect(action).not.toMatch(/^s3:DeleteObject/);
      expect(action).not.toBe("s3:BypassGovernanceRetention");
      expect(action).not.toContain("*");
    }
  });

  it("grants no bucket-configuration write and no bucket deletion", () => {
    for (const action of allowed(policy)) expect(action).not.toMatch(BUCKET_CONFIG_WRITE);
  });

  it("and denies erasing and reconfiguring outright, should a broader policy ever be attached", () => {
    expect(denied(policy)).toEqual(
      expect.arrayContaining(["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", ...BUCKET_CONFIG_WRITES]),
    );
  });

  it("touches nothing but its bucket, and writes only under the backup prefix", () => {
    expect(new Set(resources(policy))).toEqual(
      new Set([`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/${PREFIX}/*`, `arn:aws:s3:::${BUCKET}/*`]),
    );
    const objectGrants = policy.Statement.filter((s) => s.Effect === "Allow" && s.Action.includes("s3:PutObject"));
    expect(objectGrants.flatMap((s) => s.Resource)).toEqual([`arn:aws:s3:::${BUCKET}/${PREFIX}/*`]);
  });

  it("can do what the job does: list, get, put, tagging, retention, legal hold, abort multipart", () => {
    expect(allowed(policy)).toEqual(
      expect.arrayContaining([
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
        "s3:GetObjectTagging",
        "s3:PutObjectTagging",
        "s3:PutObjectRetention",
        "s3:PutObjectLegalHold",
        "s3:GetObjectLegalHold",
        "s3:AbortMultipartUpload",
        "s3:GetBucketObjectLockConfiguration",
      ]),
    );
  });
});

describe("operatorPolicy", () => {
  const policy = operatorPolicy(BUCKET, PREFIX);

  it("is the job's grants plus deleting object versions", () => {
    const extra = allowed(policy).filter((a) => !allowed(jobPolicy(BUCKET, PREFIX)).includes(a));
    expect(extra.sort()).toEqual([...OPERATOR_EXTRA_ACTIONS].sort());
    expect(extra).toContain("s3:DeleteObjectVersion");
  });

  it("cannot bypass governance retention or change the bucket, and stays on the prefix", () => {
    expect(allowed(policy)).not.toContain("s3:BypassGovernanceRetention");
    expect(denied(policy)).toContain("s3:BypassGovernanceRetention");
    for (const action of allowed(policy)) expect(action).not.toMatch(BUCKET_CONFIG_WRITE);
    expect(denied(policy)).toEqual(expect.arrayContaining(BUCKET_CONFIG_WRITES));
    const deletes = policy.Statement.filter((s) => s.Effect === "Allow" && s.Action.includes("s3:DeleteObjectVersion"));
    expect(deletes.flatMap((s) => s.Resource)).toEqual([`arn:aws:s3:::${BUCKET}/${PREFIX}/*`]);
  });
});

describe("asBucketPolicy", () => {
  it("keeps every statement and adds the principal", () => {
    const bucketPolicy = asBucketPolicy(jobPolicy(BUCKET, PREFIX), "arn:aws:iam:::user/x");
    expect(bucketPolicy.Statement).toHaveLength(jobPolicy(BUCKET, PREFIX).Statement.length);
    for (const s of bucketPolicy.Statement) expect(s.Principal).toEqual({ AWS: ["arn:aws:iam:::user/x"] });
  });
});
