// Where the Jobs run and what they are told: the namespace (restricted Pod Security enforced), a
// ServiceAccount without API token, the ConfigMap of plain settings and the Secret — the only way
// database URLs and keys reach a pod.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BackupType } from "../../job/core/catalog";
import { ENV, envVarForTarget } from "../../job/core/settings";
import type { StackSecrets } from "../config";
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
  lockSeconds?: number;
  retention: Record<BackupType, number>;
}

/** The stack's secrets the Secret carries (not the MinIO admin's nor the registry's). */
export type JobSecrets = Pick<
  StackSecrets,
  "sourceDbUrl" | "verifyDbUrl" | "productionDbUrl" | "natsToken" | "supabaseAccessToken" | "targetDbUrls"
>;

export interface JobRuntimeArgs {
  namespace: string;
  /** BACKUP_ENV, and the restore target its own source database is reached through. */
  environment: string;
  /** A production environment's source is PRODUCTION_DB_URL too, unless that secret is set. */
  isProduction: boolean;
  settings: JobSettings;
  secrets: JobSecrets;
  bucketName: pulumi.Input<string>;
  jobCredentials: Credentials;
  labels: Record<string, string>;
}

export class JobRuntime extends pulumi.ComponentResource {
  readonly namespace: pulumi.Output<string>;
  readonly serviceAccountName: pulumi.Output<string>;
  readonly configMapName: pulumi.Output<string>;
  readonly secretName: pulumi.Output<string>;
  /** The ConfigMap's data and the Secret's keys, for documentation and tests. */
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

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      // The job never talks to the Kubernetes API: no token in its pods.
      { metadata: meta("db-backup"), automountServiceAccountToken: false },
      inside,
    );
    this.serviceAccountName = serviceAccount.metadata.name;

    const settings = pulumi.output(args.bucketName).apply((bucket) => plainSettings(args, bucket));
    this.settings = settings;
    const configMap = new k8s.core.v1.ConfigMap(`${name}-settings`, { metadata: meta("db-backup-settings"), data: settings }, inside);
    this.configMapName = configMap.metadata.name;

    const secret = new k8s.core.v1.Secret(
      `${name}-secrets`,
      { metadata: meta("db-backup-secrets"), type: "Opaque", stringData: secretSettings(args, args.jobCredentials) },
      inside,
    );
    this.secretName = secret.metadata.name;
    this.registerOutputs({ namespace: this.namespace });
  }
}

/** The ConfigMap: everything the job reads that is not a secret, under the job's own names. */
export function plainSettings(
  { environment, settings }: Pick<JobRuntimeArgs, "environment" | "settings">,
  bucket: string,
): Record<string, string> {
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
  if (settings.lockSeconds !== undefined) data[ENV.lockSeconds] = String(settings.lockSeconds);
  // The job shows expiry dates from the same retention the bucket's lifecycle rules enforce.
  data[ENV.retentionDays] = Object.entries(settings.retention).map(([type, days]) => `${type}=${days}`).join(",");
  return data;
}

/** The Secret: database URLs, the job's MinIO key, tokens. `<ENV>_DB_URL` is this environment's own
 * database (the source), so `restore … --target <env>` restores into it; other targets come from
 * `targetDbUrls`. PRODUCTION_DB_URL lets the restore gate recognise production by URL. */
export function secretSettings(
  { environment, isProduction, secrets: s }: Pick<JobRuntimeArgs, "environment" | "isProduction" | "secrets">,
  job: Credentials,
): pulumi.Output<Record<string, string>> {
  const production = s.productionDbUrl ?? (isProduction ? s.sourceDbUrl : undefined);
  const targets: pulumi.Input<Record<string, string>> = s.targetDbUrls ?? {};
  const optional = [production ?? "", s.natsToken ?? "", s.supabaseAccessToken ?? ""];
  return pulumi
    .all([job.accessKey, job.secretKey, s.sourceDbUrl, s.verifyDbUrl, targets, ...optional])
    .apply(([accessKey, secretKey, source, verify, targetUrls, productionUrl, natsToken, supabaseToken]) => {
      const data: Record<string, string> = {
        [ENV.accessKey]: accessKey as string,
        [ENV.secretKey]: secretKey as string,
        [ENV.sourceDbUrl]: source as string,
        [ENV.verifyDbUrl]: verify as string,
      };
      for (const [target, url] of Object.entries(targetUrls as Record<string, string>)) data[envVarForTarget(target)] = url;
      data[envVarForTarget(environment)] = source as string;
      if (productionUrl) data[ENV.productionDbUrl] = productionUrl as string;
      if (natsToken) data[ENV.natsToken] = natsToken as string;
      if (supabaseToken) data[ENV.supabaseAccessToken] = supabaseToken as string;
      return data;
    });
}
