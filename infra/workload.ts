// The one pod shape every db-backup Job runs in, and the CronJob around it. Pure functions: the
// components pass names and the image; tests check every pod is restricted.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";

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

/** Finished Jobs kept per CronJob, so a failure stays visible (and alertable) for a while. */
const HISTORY = { successful: 3, failed: 3 };
/** A run missed by more than this (controller down, cluster upgrade) is skipped, not run late. */
const STARTING_DEADLINE_SECONDS = 3600;

export interface PodRuntime {
  image: pulumi.Input<string>;
  serviceAccountName: pulumi.Input<string>;
  configMapName: pulumi.Input<string>;
  secretName: pulumi.Input<string>;
  resources: StackConfig["resources"];
  labels: Record<string, string>;
}

export interface Workload {
  /** app.kubernetes.io/component, e.g. backup-daily, restore. */
  component: string;
  args: string[];
  env?: EnvVar[];
  /** Retries of a failed pod; 0 for anything that must not repeat by itself (restores). */
  backoffLimit: number;
  activeDeadlineSeconds: number;
}

export function labelsFor(runtime: PodRuntime, component: string): Record<string, string> {
  return { ...runtime.labels, "app.kubernetes.io/component": component };
}

export function jobSpec(runtime: PodRuntime, workload: Workload): JobSpec {
  const { resources } = runtime;
  return {
    backoffLimit: workload.backoffLimit,
    activeDeadlineSeconds: workload.activeDeadlineSeconds,
    template: {
      metadata: { labels: labelsFor(runtime, workload.component) },
      spec: {
        serviceAccountName: runtime.serviceAccountName,
        automountServiceAccountToken: false,
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
            envFrom: [{ configMapRef: { name: runtime.configMapName } }, { secretRef: { name: runtime.secretName } }],
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
            volumeMounts: [{ name: "scratch", mountPath: SCRATCH_DIR }],
          },
        ],
        volumes: [{ name: "scratch", emptyDir: { sizeLimit: resources.scratchSize } }],
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
      metadata: { labels: labelsFor(runtime, workload.component) },
      spec: jobSpec(runtime, workload),
    },
  };
}
