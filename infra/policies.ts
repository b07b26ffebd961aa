// The two MinIO users' IAM policies, as plain policy documents (pure functions, unit-tested and
// applied to a real S3 server in test/infra). Least privilege on one bucket's backup prefix:
// - the job (CronJobs): read, write, tag, lock and hold backups; it can never delete a version,
//   bypass governance retention or change the bucket's configuration, so a stolen job key cannot
//   erase backups (a new upload under an existing key only adds a version);
// - operators (`db-backup delete`): the job's rights plus deleting object versions. Object-lock
//   retention still protects young backups from them: s3:BypassGovernanceRetention is denied.

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
}
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

/** Reads of the bucket itself. Listing is not narrowed to the prefix with an `s3:prefix`
 * condition: HeadBucket (the job's "does the bucket exist") is authorised as s3:ListBucket without
 * a prefix, and the bucket holds nothing but this stack's backups. */
const BUCKET_READS = [
  "s3:ListBucket",
  "s3:ListBucketVersions",
  "s3:ListBucketMultipartUploads",
  "s3:GetBucketLocation",
  "s3:GetBucketVersioning",
  "s3:GetBucketObjectLockConfiguration",
];

/** What the job does to objects under the prefix: upload (single and multipart, incl. aborting its
 * own failed uploads), read, copy to latest.sql.gz, tag for expiry / untag for protection
 * (PutObjectTagging with the remaining tags: deleting a tag set is s3:DeleteObjectTagging, which the
 * job does not get), GOVERNANCE retention and legal holds. */
export const JOB_OBJECT_ACTIONS = [
  "s3:GetObject",
  "s3:PutObject",
  "s3:AbortMultipartUpload",
  "s3:ListMultipartUploadParts",
  "s3:GetObjectTagging",
  "s3:PutObjectTagging",
  "s3:GetObjectRetention",
  "s3:PutObjectRetention",
  "s3:GetObjectLegalHold",
  "s3:PutObjectLegalHold",
];

/** Operators may, in addition, read and delete specific versions (`db-backup delete` removes a
 * dump's and manifest's versions for good). */
export const OPERATOR_EXTRA_ACTIONS = ["s3:GetObjectVersion", "s3:GetObjectVersionTagging", "s3:DeleteObject", "s3:DeleteObjectVersion"];

/** Changing the bucket itself: what neither key may do (the Pulumi program owns these). */
export const BUCKET_CONFIG_WRITES = [
  "s3:DeleteBucket",
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:PutBucketVersioning",
  "s3:PutBucketObjectLockConfiguration",
  "s3:PutLifecycleConfiguration",
];
/** Erasing backups, or cutting their retention short. */
export const ERASING_ACTIONS = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"];

export const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
export const prefixArn = (bucket: string, prefix: string) => `arn:aws:s3:::${bucket}/${prefix.replace(/\/+$/, "")}/*`;

/** Explicit denies on the whole bucket: not needed while these are the users' only policies, but
 * they still hold if someone later attaches a broader policy or group to the user (an explicit
 * Deny always wins). */
const deny = (bucket: string, actions: string[]): PolicyStatement => ({
  Sid: "NeverAllowed",
  Effect: "Deny",
  Action: actions,
  Resource: [bucketArn(bucket), `${bucketArn(bucket)}/*`],
});

export function jobPolicy(bucket: string, prefix: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadBackupBucket", Effect: "Allow", Action: [...BUCKET_READS], Resource: [bucketArn(bucket)] },
      { Sid: "WriteBackups", Effect: "Allow", Action: [...JOB_OBJECT_ACTIONS], Resource: [prefixArn(bucket, prefix)] },
      deny(bucket, [...ERASING_ACTIONS, ...BUCKET_CONFIG_WRITES]),
    ],
  };
}

export function operatorPolicy(bucket: string, prefix: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadBackupBucket", Effect: "Allow", Action: [...BUCKET_READS], Resource: [bucketArn(bucket)] },
      {
        Sid: "ManageBackups",
        Effect: "Allow",
        Action: [...JOB_OBJECT_ACTIONS, ...OPERATOR_EXTRA_ACTIONS],
        Resource: [prefixArn(bucket, prefix)],
      },
      deny(bucket, ["s3:BypassGovernanceRetention", ...BUCKET_CONFIG_WRITES]),
    ],
  };
}

/** An IAM (user) policy as a bucket policy for one principal: how the tests apply it to a real S3
 * user on a server without MinIO's admin API (Ceph RGW takes bucket policies with principals). */
export function asBucketPolicy(policy: PolicyDocument, principalArn: string) {
  return {
    Version: policy.Version,
    Statement: policy.Statement.map((s) => ({ ...s, Principal: { AWS: [principalArn] } })),
  };
}
