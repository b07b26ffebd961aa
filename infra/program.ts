// The whole backup system for one stack, composed from one component per concern, each handed only
// the part of the config it uses. index.ts calls it with the validated config; the tests and
// `npm run render` call exactly the same function.
import * as pulumi from "@pulumi/pulumi";
import type { AdmissionInputs, AdmittedRun } from "./access";
import { NamespaceAccess } from "./components/access";
import { JobImage } from "./components/image";
import { NetworkIsolation } from "./components/network";
import { OneOffRestore, PRE_MIGRATION_TEMPLATE, RESTORE_TEMPLATE, RestoreTemplates, TEMPLATE_VARS, oneOffWorkload, templateWorkloads } from "./components/restore";
import { JobRuntime } from "./components/runtime";
import { BackupSchedules, scheduledWorkloads } from "./components/schedules";
import { BackupStorage } from "./components/storage";
import type { StackConfig } from "./config";
import { CA_CONFIGMAP, JOB_COMMAND, SECRET_NAMES, SERVICE_ACCOUNT, SETTINGS_CONFIGMAP, type PodRuntime, type Workload } from "./workload";

export function backupSystem(config: StackConfig) {
  const podLabels = { "app.kubernetes.io/name": "db-backup" };
  const labels = {
    ...podLabels,
    "app.kubernetes.io/part-of": "db-backup",
    "app.kubernetes.io/managed-by": "pulumi",
    "db-backup/environment": config.environment,
  };
  // The MinIO admin's and the registry's secrets stay with Pulumi; pods get the rest, by workload.
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
      productionDbId: config.productionDbId,
      restoreLockTimeoutSeconds: config.restoreLockTimeoutSeconds,
      retention: config.retention,
      caBundle: config.tls.caBundle,
    },
    secrets: jobSecrets,
    bucketName: storage.bucketName,
    credentials: storage.credentials,
    labels,
  });
  new NetworkIsolation("network", { namespace: runtime.namespace, network: config.network, podLabels, labels });

  const pods: PodRuntime = { image: image.ref, resources: config.resources, labels, caBundle: config.tls.caBundle !== undefined };
  const scheduleArgs = {
    schedules: config.schedules,
    timeZone: config.timeZone,
    verifySchedule: config.verifySchedule,
    statusSchedule: config.statusSchedule,
    statusGraceHours: config.statusGraceHours,
    deadlines: config.deadlines,
  };
  const templateArgs = { environment: config.environment, timeZone: config.timeZone, deadlines: config.deadlines };
  const oneOff = config.restore && oneOffWorkload(config.restore, config.deadlines.restoreSeconds);

  // What the admission policy admits: exactly the runs of the CronJobs below (and the one-off
  // restore), with the image they run and the backoffLimit their jobTemplate (or Job) has.
  const workloads: Workload[] = [
    ...scheduledWorkloads(scheduleArgs).map((s) => s.workload),
    ...Object.values(templateWorkloads(templateArgs)),
    ...(oneOff ? [oneOff] : []),
  ];
  const runs: AdmittedRun[] = workloads.map((w) => ({ args: w.args, secret: SECRET_NAMES[w.workload], backoffLimit: w.backoffLimit }));
  const access = new NamespaceAccess("access", {
    namespace: runtime.namespace,
    namespaceName: config.namespace,
    access: config.access,
    secretNames: Object.values(SECRET_NAMES),
    labels,
    admission: image.ref.apply(
      (ref): AdmissionInputs => ({
        // No digest (an image that was not pushed): the policy then admits no Job at all.
        image: ref ?? "",
        command: JOB_COMMAND,
        serviceAccountName: SERVICE_ACCOUNT,
        configMaps: [SETTINGS_CONFIGMAP, ...(config.tls.caBundle !== undefined ? [CA_CONFIGMAP] : [])],
        secrets: Object.values(SECRET_NAMES),
        envNames: TEMPLATE_VARS,
        runs,
        breakGlass: config.access.breakGlass,
      }),
    ),
  });

  const schedules = new BackupSchedules("schedules", { ...scheduleArgs, runtime: pods, namespace: runtime.namespace });
  new RestoreTemplates("restore-templates", { ...templateArgs, runtime: pods, namespace: runtime.namespace });
  const restore = config.restore
    ? new OneOffRestore("restore", {
        request: config.restore,
        runtime: pods,
        namespace: runtime.namespace,
        deadlineSeconds: config.deadlines.restoreSeconds,
        dependsOn: access.admission,
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
    operatorAccessKey: storage.credentials.operator.accessKey,
    operatorSecretKey: pulumi.secret(storage.credentials.operator.secretKey),
  };
}
