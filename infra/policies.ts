// One MinIO user per workload, each with a policy that follows the object layout of
// job/core/catalog.ts (pure functions, unit-tested and applied to a real S3 server in test/infra).
// Who writes what under the prefix:
//   <type>/<id>.sql.gz|.dump, <type>/<id>.manifest.json   backup (every type), restore (pre_migration:
//                                                        its safety backup), operator
//   runs/<id>.json                                       backup, restore (the safety backup), operator
//   verifications/<id>/<time>.json                       verify only: a drill's verdict
//   requests/<id>.json                                   restore, operator
//   latest.json                                          backup, restore, operator (a pointer nobody trusts)
// Every key reads everything under the prefix. No key may delete (but the operators'), bypass
// governance retention, tag, set a legal hold, change the bucket, write into a folder it does not
// own, lock in COMPLIANCE mode or lock for longer than the longest retention. The drill may extend
// the retention of backups (restore points) without writing them.
//
// What each server enforces (measured on the test server, Ceph RGW 16.2; MinIO from its policy
// engine): every explicit Deny of an action on a resource holds on both. The conditions do not on
// RGW: it accepts `s3:object-lock-mode` and `s3:object-lock-remaining-retention-days` in a policy
// and ignores them, so on RGW a stolen key CAN lock its own uploads in COMPLIANCE mode or far into
// the future (test/infra/policy-s3.test.ts proves both ways). MinIO evaluates them.
import { BACKUP_TYPES, longestRetentionDays, objectLayout, type BackupType } from "../job/core/catalog";

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

/** The workloads that hold an S3 key: a MinIO user each. */
export const WORKLOADS = ["backup", "verify", "status", "restore", "operator"] as const;
export type Workload = (typeof WORKLOADS)[number];

/** Reads of the bucket itself. Listing is not narrowed to the prefix with an `s3:prefix`
 * condition: HeadBucket (the job's "does the bucket exist") is authorised as s3:ListBucket without
 * a prefix, and the bucket holds nothing but this stack's backups. */
export const BUCKET_READS = [
  "s3:ListBucket",
  "s3:ListBucketVersions",
  "s3:ListBucketMultipartUploads",
  "s3:GetBucketLocation",
  "s3:GetBucketVersioning",
  "s3:GetBucketObjectLockConfiguration",
];
/** Reads of objects under the prefix: any version (the job restores the version a manifest
 * recorded), its retention and legal hold. */
export const OBJECT_READS = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectRetention", "s3:GetObjectLegalHold"];
/** Writing an object where the workload owns the folder: single and multipart uploads (parts and
 * completion are authorised as s3:PutObject) and the GOVERNANCE lock the job puts on each version
 * right after (Ceph RGW ignores lock headers on PUT, so the job locks by PutObjectRetention). */
export const WRITE_ACTIONS = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObjectRetention"];
/** Extending a backup's retention (the drill's restore points): no key may shorten one, as
 * shortening GOVERNANCE retention needs s3:BypassGovernanceRetention, which every key is denied. */
export const EXTEND_ACTIONS = ["s3:PutObjectRetention"];
/** The operators' extra right: removing versions for good (`db-backup delete`). Retention still
 * applies: a locked version cannot be deleted without the bypass nobody has. */
export const DELETE_ACTIONS = ["s3:DeleteObject", "s3:DeleteObjectVersion"];
/** Tags and legal holds: the job writes neither any more; lifecycle matches no tag. */
export const TAGGING_ACTIONS = ["s3:PutObjectTagging", "s3:DeleteObjectTagging", "s3:PutObjectVersionTagging", "s3:DeleteObjectVersionTagging"];
export const LEGAL_HOLD_ACTIONS = ["s3:PutObjectLegalHold"];
/** Changing the bucket itself: what no key may do (the Pulumi program owns these). Only names both
 * MinIO and Ceph RGW accept (RGW refuses a policy naming s3:ForceDeleteBucket or
 * s3:PutEncryptionConfiguration, which no key is allowed anyway). */
export const BUCKET_CONFIG_WRITES = [
  "s3:DeleteBucket",
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:PutBucketVersioning",
  "s3:PutBucketObjectLockConfiguration",
  "s3:PutLifecycleConfiguration",
  "s3:PutBucketTagging",
  "s3:PutReplicationConfiguration",
  "s3:PutBucketNotification",
];
export const BYPASS = "s3:BypassGovernanceRetention";

export const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
export const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
export const prefixArn = (bucket: string, prefix: string) => objectArn(bucket, `${prefix.replace(/\/+$/, "")}/*`);

/** The parts of the layout a policy names: a folder (`…/*`) or one key. */
export type Area = BackupType | "runs" | "verifications" | "requests" | "latest" | "legacyLatest";
export const AREAS: readonly Area[] = [...BACKUP_TYPES, "runs", "verifications", "requests", "latest", "legacyLatest"];

export function areaKey(prefix: string, area: Area): string {
  switch (area) {
    case "runs":
      return objectLayout.runsFolder(prefix) + "*";
    case "verifications":
      return objectLayout.verificationsFolder(prefix) + "*";
    case "requests":
      return objectLayout.requestsFolder(prefix) + "*";
    case "latest":
      return objectLayout.latestKey(prefix);
    case "legacyLatest":
      return objectLayout.legacyLatestKey(prefix);
    default:
      return objectLayout.typeFolder(prefix, area) + "*";
  }
}

interface Rights {
  /** Areas the workload writes (and locks what it writes). */
  writes: readonly Area[];
  /** Areas where it only extends retention. */
  extends: readonly Area[];
  /** Whether it may delete versions (retention still applies). */
  deletes: boolean;
}

/** Who writes where: the layout's ownership (job/core/catalog.ts, objectLayout). */
export const RIGHTS: Readonly<Record<Workload, Rights>> = {
  backup: { writes: [...BACKUP_TYPES, "runs", "latest"], extends: [], deletes: false },
  verify: { writes: ["verifications"], extends: [...BACKUP_TYPES], deletes: false },
  status: { writes: [], extends: [], deletes: false },
  // A production restore takes a safety backup of the target first: a pre_migration backup.
  restore: { writes: ["pre_migration", "runs", "requests", "latest"], extends: [], deletes: false },
  // Operators may do what backups and restores do and delete versions, never write a drill's verdict.
  operator: { writes: [...BACKUP_TYPES, "runs", "requests", "latest"], extends: [...BACKUP_TYPES], deletes: true },
};

const everything = (bucket: string) => [bucketArn(bucket), `${bucketArn(bucket)}/*`];
const objects = (bucket: string) => [`${bucketArn(bucket)}/*`];

/** A workload's policy on one bucket's backup prefix, for a stack's retention. */
export function workloadPolicy(workload: Workload, bucket: string, prefix: string, retention: Record<BackupType, number>): PolicyDocument {
  const rights = RIGHTS[workload];
  const arns = (areas: readonly Area[]) => areas.map((a) => objectArn(bucket, areaKey(prefix, a)));
  const notWritten = AREAS.filter((a) => !rights.writes.includes(a));
  const notLocked = notWritten.filter((a) => !rights.extends.includes(a));
  const statements: PolicyStatement[] = [
    { Sid: "ReadBucket", Effect: "Allow", Action: [...BUCKET_READS], Resource: [bucketArn(bucket)] },
    { Sid: "ReadBackups", Effect: "Allow", Action: [...OBJECT_READS], Resource: [prefixArn(bucket, prefix)] },
  ];
  if (rights.writes.length > 0) statements.push({ Sid: "WriteOwnFolders", Effect: "Allow", Action: [...WRITE_ACTIONS], Resource: arns(rights.writes) });
  if (rights.extends.length > 0) statements.push({ Sid: "ExtendRetention", Effect: "Allow", Action: [...EXTEND_ACTIONS], Resource: arns(rights.extends) });
  if (rights.deletes) statements.push({ Sid: "DeleteVersions", Effect: "Allow", Action: [...DELETE_ACTIONS], Resource: [prefixArn(bucket, prefix)] });

  // Explicit denies on the whole bucket: they hold even if a broader policy or group is attached to
  // the user later (an explicit Deny always wins), and on Ceph RGW they stop its fallback to object
  // ACLs, under which an uploader owns its objects (tags, even bypass) where no statement matches.
  statements.push({
    Sid: "NeverAllowed",
    Effect: "Deny",
    Action: [...(rights.deletes ? [] : DELETE_ACTIONS), BYPASS, ...TAGGING_ACTIONS, ...LEGAL_HOLD_ACTIONS, ...BUCKET_CONFIG_WRITES],
    Resource: everything(bucket),
  });
  statements.push({
    Sid: "NoWritesOutsideOwnFolders",
    Effect: "Deny",
    Action: ["s3:PutObject"],
    Resource: rights.writes.length === 0 ? objects(bucket) : arns(notWritten),
  });
  statements.push({
    Sid: "NoLocksOutsideOwnFolders",
    Effect: "Deny",
    Action: ["s3:PutObjectRetention"],
    Resource: rights.writes.length + rights.extends.length === 0 ? objects(bucket) : arns(notLocked),
  });
  statements.push(...lockBounds(bucket, retention));
  return { Version: "2012-10-17", Statement: statements };
}

/** No undeletable objects: never COMPLIANCE, never longer than the longest retention, no lock or
 * legal hold on upload (the job locks by PutObjectRetention only). MinIO only accepts
 * s3:object-lock-remaining-retention-days with PutObjectRetention, hence the separate statements. */
export function lockBounds(bucket: string, retention: Record<BackupType, number>): PolicyStatement[] {
  return [
    {
      Sid: "NoComplianceMode",
      Effect: "Deny",
      Action: ["s3:PutObject", "s3:PutObjectRetention"],
      Resource: objects(bucket),
      Condition: { StringEquals: { "s3:object-lock-mode": ["COMPLIANCE"] } },
    },
    {
      Sid: "NoRetentionBeyondLongest",
      Effect: "Deny",
      Action: ["s3:PutObjectRetention"],
      Resource: objects(bucket),
      Condition: { NumericGreaterThan: { "s3:object-lock-remaining-retention-days": String(longestRetentionDays(retention)) } },
    },
    {
      Sid: "NoLockOnUpload",
      Effect: "Deny",
      Action: ["s3:PutObject"],
      Resource: objects(bucket),
      // Any mode at all. (Not `Null: false`, which Ceph RGW evaluates as true for every upload.)
      Condition: { StringLike: { "s3:object-lock-mode": ["*"] } },
    },
    {
      Sid: "NoLegalHoldOnUpload",
      Effect: "Deny",
      Action: ["s3:PutObject"],
      Resource: objects(bucket),
      Condition: { StringEquals: { "s3:object-lock-legal-hold": ["ON"] } },
    },
  ];
}

/** Every workload's policy, by workload. */
export function workloadPolicies(bucket: string, prefix: string, retention: Record<BackupType, number>): Record<Workload, PolicyDocument> {
  return Object.fromEntries(WORKLOADS.map((w) => [w, workloadPolicy(w, bucket, prefix, retention)])) as Record<Workload, PolicyDocument>;
}

/** An IAM (user) policy as a bucket policy for one principal: how the tests apply it to a real S3
 * user on a server without MinIO's admin API (Ceph RGW takes bucket policies with principals). */
export function asBucketPolicy(policy: PolicyDocument, principalArn: string) {
  return {
    Version: policy.Version,
    Statement: policy.Statement.map((s) => ({ ...s, Principal: { AWS: [principalArn] } })),
  };
}
