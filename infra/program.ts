// The whole backup system for one stack, composed from one component per concern, each handed only
// the part of the config it uses. index.ts calls it with the validated config; the tests and
// `npm run render` call exactly the same function.
import * as pulumi from "@pulumi/pulumi";
import { BackupStorage } from "./components/storage";
import { JobImage } from "./components/image";
import { JobRuntime } from "./components/runtime";
import { BackupSchedules } from "./components/schedules";
import { OneOffRestore, PRE_MIGRATION_TEMPLATE, RESTORE_TEMPLATE, RestoreTemplates } from "./components/restore";
import type { StackConfig } from "./config";
import type { PodRuntime } from "./workload";

export function backupSystem(config: StackConfig) {
  const labels = {
    "app.kubernetes.io/name": "db-backup",
    "app.kubernetes.io/part-of": "db-backup",
    "app.kubernetes.io/managed-by": "pulumi",
    "db-backup/environment": config.environment,
  };
  // The MinIO admin's and the registry's secrets stay with Pulumi; pods get the rest.
  const { minioAdminUser, minioAdminPassword, registryPassword, ...jobSecrets } = config.secrets;

  const storage = new BackupStorage("backups", {
    bucket: config.bucket,
    retention: config.retention,
    minio: config.minio,
    adminUser: minioAdminUser,
    adminPassword: minioAdminPassword,
    namePrefix: `${config.namespace}-${config.environment}`,
  });
  const image = new JobImage("job-image", { image: config.image, registryPassword });
  const runtime = new JobRuntime("runtime", {
    namespace: config.namespace,
    environment: config.environment,
    isProduction: config.isProduction,
    settings: {
      endpoint: config.minio.endpoint,
      prefix: config.bucket.prefix,
      schemas: config.schemas,
      backupName: config.backupName,
      natsUrl: config.natsUrl,
      supabaseProjectId: config.supabaseProjectId,
      lockSeconds: config.lockSeconds,
      retention: config.retention,
    },
    secrets: jobSecrets,
    bucketName: storage.bucketName,
    jobCredentials: storage.job,
    labels,
  });

  const pods: PodRuntime = {
    image: image.ref,
    serviceAccountName: runtime.serviceAccountName,
    configMapName: runtime.configMapName,
    secretName: runtime.secretName,
    resources: config.resources,
    labels,
  };
  const schedules = new BackupSchedules("schedules", {
    schedules: config.schedules,
    timeZone: config.timeZone,
    verifySchedule: config.verifySchedule,
    statusSchedule: config.statusSchedule,
    statusGraceHours: config.statusGraceHours,
    deadlines: config.deadlines,
    runtime: pods,
    namespace: runtime.namespace,
  });
  new RestoreTemplates("restore-templates", {
    environment: config.environment,
    timeZone: config.timeZone,
    deadlines: config.deadlines,
    runtime: pods,
    namespace: runtime.namespace,
  });
  const restore = config.restore
    ? new OneOffRestore("restore", {
        request: config.restore,
        runtime: pods,
        namespace: runtime.namespace,
        deadlineSeconds: config.deadlines.restoreSeconds,
      })
    : undefined;

  return {
    environment: config.environment,
    namespace: runtime.namespace,
    bucket: storage.bucketName,
    image: image.ref,
    cronJobs: schedules.cronJobNames,
    restoreTemplate: RESTORE_TEMPLATE,
    preMigrationTemplate: PRE_MIGRATION_TEMPLATE,
    restoreJob: restore?.jobName,
    /** For `db-backup delete` on an operator's machine: `pulumi stack output --show-secrets`. */
    operatorAccessKey: storage.operator.accessKey,
    operatorSecretKey: pulumi.secret(storage.operator.secretKey),
  };
}
