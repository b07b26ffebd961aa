// Where the Jobs run and what they are told: the namespace (restricted Pod Security enforced), a
// ServiceAccount without API token, the ConfigMap of plain settings, the CA bundle, and one Secret
// per workload holding only what that workload needs — the only way database URLs and keys reach
// a pod:
//   db-backup-backup    scheduled backups, pre-migration template: the source (read-only role), the backup key
//   db-backup-verify    the drill: the scratch server, the verify key
//   db-backup-status    the staleness check: the read-only status key, the Supabase API token
//   db-backup-restore   restore template, one-off restore: the write URLs, the restore key
// The NATS token goes to the workloads that publish events (backups, drill, restores).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BackupType } from "../../job/core/catalog";
import { ENV, envVarForTarget } from "../../job/core/settings";
import type { StackSecrets } from "../config";
import type { PodWorkload } from "../network";
import { CA_FILE_NAME, CA_PATH } from "../transport";
import { CA_CONFIGMAP, SECRET_NAMES, SERVICE_ACCOUNT, SETTINGS_CONFIGMAP } from "../workload";
import type { Credentials } from "./storage";

/** The ConfigMap's plain settings besides BACKUP_ENV and the bucket's name. */
export interface JobSettings {
  /** MINIO_ENDPOINT: the URL pods reach MinIO at. */
  endpoint: string;
  prefix: string;
  schemas: string[];
  backupName?: string;
  natsUrl?: string;
  supabaseProjectId?: string;
  /** PRODUCTION_DB_ID: production's identity, not a secret. */
  productionDbId?: string;
  restoreLockTimeoutSeconds?: number;
  retention: Record<BackupType, number>;
  /** PEM CA bundle, mounted at CA_PATH. */
  caBundle?: string;
}

/** The stack's secrets the workload Secrets carry (not the MinIO admin's nor the registry's). */
export type JobSecrets = Pick<
  StackSecrets,
  "sourceDbUrl" | "verifyDbUrl" | "restoreDbUrl" | "productionDbUrl" | "natsToken" | "supabaseAccessToken" | "targetDbUrls"
>;

export interface JobRuntimeArgs {
  namespace: string;
  /** BACKUP_ENV, and the restore target its own database (restoreDbUrl) is reached through. */
  environment: string;
  /** A production stack without productionDbId recognises production by its restoreDbUrl. */
  isProduction: boolean;
  settings: JobSettings;
  secrets: JobSecrets;
  bucketName: pulumi.Input<string>;
  /** Each workload's S3 key. */
  credentials: Record<PodWorkload, Credentials>;
  labels: Record<string, string>;
}

export class JobRuntime extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  /** The ConfigMap's data, for documentation and tests. */
  readonly settings: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: JobRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("db-backup:runtime:JobRuntime", name, {}, opts);
    const { labels } = args;
    const inside = { parent: this };

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: args.namespace,
          labels: {
            ...labels,
            // The API server itself then refuses any pod here that is not restricted.
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
          },
        },
      },
      inside,
    );
    this.namespace = namespace.metadata.name;
    const meta = (objectName: string) => ({ name: objectName, namespace: this.namespace, labels });

    new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      // The job never talks to the Kubernetes API: no token in its pods.
      { metadata: meta(SERVICE_ACCOUNT), automountServiceAccountToken: false },
      inside,
    );

    const settings = pulumi.output(args.bucketName).apply((bucket) => plainSettings(args, bucket));
    this.settings = settings;
    new k8s.core.v1.ConfigMap(`${name}-settings`, { metadata: meta(SETTINGS_CONFIGMAP), data: settings }, inside);
    if (args.settings.caBundle) {
      new k8s.core.v1.ConfigMap(`${name}-ca`, { metadata: meta(CA_CONFIGMAP), data: { [CA_FILE_NAME]: args.settings.caBundle } }, inside);
    }

    const data = secretSettings(args);
    for (const workload of ["backup", "verify", "status", "restore"] as const) {
      new k8s.core.v1.Secret(
        `${name}-${workload}-secret`,
        { metadata: meta(SECRET_NAMES[workload]), type: "Opaque", stringData: data[workload] },
        inside,
      );
    }
    this.registerOutputs({ namespace: this.namespace });
  }
}

/** The ConfigMap: everything the job reads that is not a secret, under the job's own names. */
export function plainSettings({ environment, settings }: Pick<JobRuntimeArgs, "environment" | "settings">, bucket: string): Record<string, string> {
  const data: Record<string, string> = {
    [ENV.environment]: environment,
    [ENV.endpoint]: settings.endpoint,
    [ENV.bucket]: bucket,
    [ENV.prefix]: settings.prefix,
  };
  if (settings.schemas.length > 0) data[ENV.schemas] = settings.schemas.join(",");
  if (settings.backupName) data[ENV.name] = settings.backupName;
  if (settings.natsUrl) data[ENV.natsUrl] = settings.natsUrl;
  if (settings.supabaseProjectId) data[ENV.supabaseProjectId] = settings.supabaseProjectId;
  if (settings.productionDbId) data[ENV.productionDbId] = settings.productionDbId;
  if (settings.restoreLockTimeoutSeconds !== undefined) data[ENV.lockTimeout] = String(settings.restoreLockTimeoutSeconds);
  // The job locks each backup for, and shows expiry dates from, the retention the bucket's lifecycle enforces.
  data[ENV.retentionDays] = Object.entries(settings.retention).map(([type, days]) => `${type}=${days}`).join(",");
  if (settings.caBundle) {
    // One bundle for every TLS client in the pod: the S3 client, libpq and the job's own
    // PostgreSQL sessions, and Node's (NATS over tls://).
    data[ENV.caFile] = CA_PATH;
    data.PGSSLROOTCERT = CA_PATH;
    data.NODE_EXTRA_CA_CERTS = CA_PATH;
  }
  return data;
}

/** Each workload's Secret data. `<ENV>_DB_URL` (the environment's own database) is restoreDbUrl,
 * so `restore … --target <env>` restores into it; other targets come from `targetDbUrls`.
 * PRODUCTION_DB_URL (restores only) is the fallback when productionDbId is not set: productionDbUrl,
 * or in a production stack its own restoreDbUrl (a URL that Secret holds anyway). */
export function secretSettings(
  { environment, isProduction, settings, secrets: s, credentials }: Pick<JobRuntimeArgs, "environment" | "isProduction" | "settings" | "secrets" | "credentials">,
): Record<PodWorkload, pulumi.Output<Record<string, string>>> {
  const key = (c: Credentials) => pulumi.all([c.accessKey, c.secretKey]).apply(([a, k]) => ({ [ENV.accessKey]: a, [ENV.secretKey]: k }));
  const nats = s.natsToken ? s.natsToken.apply((t) => ({ [ENV.natsToken]: t })) : pulumi.output({});
  const production = settings.productionDbId ? undefined : (s.productionDbUrl ?? (isProduction ? s.restoreDbUrl : undefined));
  const merge = (...parts: pulumi.Input<Record<string, string>>[]) =>
    pulumi.secret(pulumi.all(parts).apply((all) => Object.assign({}, ...all) as Record<string, string>));
  return {
    backup: merge(key(credentials.backup), s.sourceDbUrl.apply((url) => ({ [ENV.sourceDbUrl]: url })), nats),
    verify: merge(key(credentials.verify), s.verifyDbUrl.apply((url) => ({ [ENV.verifyDbUrl]: url })), nats),
    status: merge(key(credentials.status), s.supabaseAccessToken ? s.supabaseAccessToken.apply((t) => ({ [ENV.supabaseAccessToken]: t })) : {}),
    restore: merge(
      key(credentials.restore),
      pulumi.output(s.targetDbUrls ?? {}).apply((targets) => Object.fromEntries(Object.entries(targets).map(([t, url]) => [envVarForTarget(t), url]))),
      s.restoreDbUrl.apply((url) => ({ [envVarForTarget(environment)]: url })),
      production ? production.apply((url) => ({ [ENV.productionDbUrl]: url })) : {},
      nats,
    ),
  };
}
