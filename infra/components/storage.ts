// The backup bucket and who may touch it: bucket (versioned, object-locked, never destroyed by
// Pulumi), lifecycle rules from the retention table, and a MinIO user per workload (backup, verify,
// status, restore, operator) with the least-privilege policy of policies.ts.
import * as minio from "@pulumi/minio";
import * as pulumi from "@pulumi/pulumi";
import type { BackupType } from "../../job/core/catalog";
import type { StackConfig } from "../config";
import { lifecycleRules } from "../lifecycle";
import { WORKLOADS, workloadPolicy, type PolicyDocument, type Workload } from "../policies";

export interface BackupStorageArgs {
  bucket: StackConfig["bucket"];
  retention: Record<BackupType, number>;
  minio: StackConfig["minio"];
  adminUser: pulumi.Input<string>;
  adminPassword: pulumi.Input<string>;
  /** Prefix for MinIO user and policy names, e.g. `db-backup-prod`. */
  namePrefix: string;
}

export interface Credentials {
  accessKey: pulumi.Output<string>;
  secretKey: pulumi.Output<string>;
}

export class BackupStorage extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  /** Each workload's key: `<namePrefix>-<workload>` (MinIO generates the secret key). */
  readonly credentials: Record<Workload, Credentials>;

  constructor(name: string, args: BackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("db-backup:storage:BackupStorage", name, {}, opts);
    const provider = new minio.Provider(
      `${name}-minio`,
      {
        minioServer: args.minio.server,
        minioSsl: args.minio.ssl,
        minioUser: args.adminUser,
        minioPassword: args.adminPassword,
        minioRegion: "us-east-1",
      },
      { parent: this },
    );
    const inside = { parent: this, provider };

    // Object locking is fixed at creation, so a change to it (or to the name) means a new bucket:
    // `protect` stops Pulumi from replacing or deleting this one, and `retainOnDelete` keeps the
    // bucket and its backups even when the resource is removed from the program or the stack.
    const bucket = new minio.S3Bucket(
      `${name}-bucket`,
      { bucket: args.bucket.name, acl: "private", objectLocking: args.bucket.objectLocking, forceDestroy: false },
      { ...inside, protect: true, retainOnDelete: true, import: args.bucket.adopt ? args.bucket.name : undefined },
    );
    this.bucketName = bucket.bucket;

    // Versioning turns an expiry or an overwrite into a delete marker / a new version, never a loss.
    const versioning = new minio.S3BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.bucket, versioningConfiguration: { status: "Enabled" } },
      { ...inside, retainOnDelete: true },
    );

    new minio.IlmPolicy(
      `${name}-lifecycle`,
      { bucket: bucket.bucket, rules: lifecycleRules(args.bucket.prefix, args.retention) },
      { ...inside, dependsOn: [versioning] },
    );

    this.credentials = Object.fromEntries(
      WORKLOADS.map((workload) => [
        workload,
        this.user(`${name}-${workload}`, `${args.namePrefix}-${workload}`, workloadPolicy(workload, args.bucket.name, args.bucket.prefix, args.retention), inside),
      ]),
    ) as Record<Workload, Credentials>;
    this.registerOutputs({ bucketName: this.bucketName });
  }

  /** A MinIO user (its name is the access key; MinIO generates the secret key) with its policy. */
  private user(name: string, userName: string, policy: PolicyDocument, opts: pulumi.CustomResourceOptions): Credentials {
    const user = new minio.IamUser(name, { name: userName, forceDestroy: true }, opts);
    const iamPolicy = new minio.IamPolicy(`${name}-policy`, { name: userName, policy: JSON.stringify(policy, null, 2) }, opts);
    new minio.IamUserPolicyAttachment(`${name}-attachment`, { userName: user.name, policyName: iamPolicy.name }, opts);
    return { accessKey: user.name, secretKey: pulumi.secret(user.secret) };
  }
}
