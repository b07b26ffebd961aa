// The one pod shape every db-backup Job runs in, and the CronJob around it. Pure functions: the
// components pass names and the image; tests check every pod is restricted. Each pod takes the
// shared ConfigMap (plain settings) and the Secret of its workload only.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import { WORKLOAD_LABEL, type PodWorkload } from "./network";
import { CA_DIR } from "./transport";

type JobSpec = k8s.types.input.batch.v1.JobSpec;
type CronJobSpec = k8s.types.input.batch.v1.CronJobSpec;
type EnvVar = k8s.types.input.core.v1.EnvVar;

/** The image's non-root user; job/Dockerfile receives it as the APP_UID build argument. */
export const APP_UID = 10001;
/** Where the image keeps the bundle (`npm run build` → dist/db-backup.cjs). */
export const BUNDLE_PATH = "/app/db-backup.cjs";
export const JOB_COMMAND = ["node", BUNDLE_PATH];
/** The only writable path: the root filesystem is read-only, dumps stream through here when a
 * pg_restore needs a file. */
export const SCRATCH_DIR = "/tmp";
export const CONTAINER_NAME = "db-backup";

/** Object names the admission policy needs before anything exists (access.ts): fixed, not generated. */
export const SERVICE_ACCOUNT = "db-backup";
export const SETTINGS_CONFIGMAP = "db-backup-settings";
export const CA_CONFIGMAP = "db-backup-ca";
/** One Secret per workload, holding only what that workload needs (components/runtime.ts). */
export const SECRET_NAMES: Readonly<Record<PodWorkload, string>> = {
  backup: "db-backup-backup",
  verify: "db-backup-verify",
  status: "db-backup-status",
  restore: "db-backup-restore",
};

/** Finished Jobs kept per CronJob, so a failure stays visible (and alertable) for a while. */
const HISTORY = { successful: 3, failed: 3 };
/** A run missed by more than this (controller down, cluster upgrade) is skipped, not run late. */
const STARTING_DEADLINE_SECONDS = 3600;
/** Jobs people start (from the templates, and the config-driven restore) are removed this long
 * after they finish: a week to read the log and alert on a failure. Scheduled CronJobs keep
 * their history instead (HISTORY). */
export const AD_HOC_JOB_TTL_SECONDS = 7 * 86_400;

export interface PodRuntime {
  image: pulumi.Input<string>;
  resources: StackConfig["resources"];
  labels: Record<string, string>;
  /** Mount the `tls.caBundle` ConfigMap (read-only) at CA_DIR. */
  caBundle: boolean;
}

export interface Workload {
  /** Whose Secret (and S3 key) the pod gets, and which NetworkPolicy applies. */
  workload: PodWorkload;
  /** app.kubernetes.io/component, e.g. backup-daily, restore. */
  component: string;
  args: string[];
  env?: EnvVar[];
  /** Retries of a failed pod; 0 for anything that must not repeat by itself (restores). */
  backoffLimit: number;
  activeDeadlineSeconds: number;
  /** For Jobs people start: removed this long after they finish. */
  ttlSecondsAfterFinished?: number;
}

export function labelsFor(runtime: PodRuntime, workload: Workload): Record<string, string> {
  return { ...runtime.labels, "app.kubernetes.io/component": workload.component, [WORKLOAD_LABEL]: workload.workload };
}

export function jobSpec(runtime: PodRuntime, workload: Workload): JobSpec {
  const { resources } = runtime;
  const volumes: k8s.types.input.core.v1.Volume[] = [{ name: "scratch", emptyDir: { sizeLimit: resources.scratchSize } }];
  const mounts: k8s.types.input.core.v1.VolumeMount[] = [{ name: "scratch", mountPath: SCRATCH_DIR }];
  if (runtime.caBundle) {
    volumes.push({ name: "ca", configMap: { name: CA_CONFIGMAP, defaultMode: 0o444 } });
    mounts.push({ name: "ca", mountPath: CA_DIR, readOnly: true });
  }
  return {
    backoffLimit: workload.backoffLimit,
    activeDeadlineSeconds: workload.activeDeadlineSeconds,
    ...(workload.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: workload.ttlSecondsAfterFinished } : {}),
    template: {
      metadata: { labels: labelsFor(runtime, workload) },
      spec: {
        serviceAccountName: SERVICE_ACCOUNT,
        automountServiceAccountToken: false,
        // No `<SERVICE>_HOST`/`_PORT` variables of every Service in the namespace in the job's env.
        enableServiceLinks: false,
        restartPolicy: "Never",
        securityContext: {
          runAsNonRoot: true,
          runAsUser: APP_UID,
          runAsGroup: APP_UID,
          fsGroup: APP_UID,
          seccompProfile: { type: "RuntimeDefault" },
        },
        containers: [
          {
            name: CONTAINER_NAME,
            image: runtime.image,
            command: JOB_COMMAND,
            args: workload.args,
            envFrom: [{ configMapRef: { name: SETTINGS_CONFIGMAP } }, { secretRef: { name: SECRET_NAMES[workload.workload] } }],
            env: workload.env,
            resources: {
              requests: { cpu: resources.cpuRequest, memory: resources.memoryRequest },
              limits: { cpu: resources.cpuLimit, memory: resources.memoryLimit, "ephemeral-storage": resources.scratchSize },
            },
            securityContext: {
              runAsNonRoot: true,
              allowPrivilegeEscalation: false,
              privileged: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
              seccompProfile: { type: "RuntimeDefault" },
            },
            volumeMounts: mounts,
          },
        ],
        volumes,
      },
    },
  };
}

export interface Schedule {
  /** Cron; ignored while suspended (templates are never scheduled, only copied into Jobs). */
  schedule: string;
  timeZone: string;
  suspend?: boolean;
}

export function cronJobSpec(runtime: PodRuntime, workload: Workload, schedule: Schedule): CronJobSpec {
  return {
    schedule: schedule.schedule,
    timeZone: schedule.timeZone,
    suspend: schedule.suspend ?? false,
    concurrencyPolicy: "Forbid",
    startingDeadlineSeconds: STARTING_DEADLINE_SECONDS,
    successfulJobsHistoryLimit: HISTORY.successful,
    failedJobsHistoryLimit: HISTORY.failed,
    jobTemplate: {
      metadata: { labels: labelsFor(runtime, workload) },
      spec: jobSpec(runtime, workload),
    },
  };
}
