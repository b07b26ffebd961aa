// Restores and pre-migration backups, started by people, never by a clock:
// - `db-restore` and `db-backup-pre-migration`: suspended CronJobs used as Job templates. Values
//   come from env vars expanded into args by Kubernetes (`$(BACKUP_ID)`), set per run with
//   `kubectl set env` (see README.md, "Deployment with Pulumi"): no shell in the container.
//   `db-restore` runs with the restore Secret (the write URLs); the pre-migration template with
//   the backup Secret, like the scheduled backups.
// - a one-off restore Job from stack config (`restore.backupId` + `restore.requestId`).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { RestoreRequest, StackConfig } from "../config";
import { AD_HOC_JOB_TTL_SECONDS, cronJobSpec, jobSpec, type PodRuntime, type Workload } from "../workload";

export const RESTORE_TEMPLATE = "db-restore";
export const PRE_MIGRATION_TEMPLATE = "db-backup-pre-migration";
/** Suspended templates still need a valid schedule; this one is never reached while suspended. */
const NEVER = "0 0 1 1 *";

/** The env vars a restore from the template takes; empty means "not given" to the job. */
export const RESTORE_VARS = {
  backupId: "BACKUP_ID",
  target: "RESTORE_TARGET",
  approvedBy: "RESTORE_APPROVED_BY",
  confirm: "RESTORE_CONFIRM",
  reason: "RESTORE_REASON",
  requestId: "RESTORE_REQUEST_ID",
} as const;
export const PRE_MIGRATION_TAG_VAR = "BACKUP_TAG";
/** Every variable a Job from a template may set (the admission policy admits no other). */
export const TEMPLATE_VARS = [...Object.values(RESTORE_VARS), PRE_MIGRATION_TAG_VAR];

const expand = (variable: string) => `$(${variable})`;

export interface RestoreTemplatesArgs extends Pick<StackConfig, "timeZone"> {
  /** RESTORE_TARGET's default: a restore goes into this stack's own environment unless told otherwise. */
  environment: string;
  deadlines: Pick<StackConfig["deadlines"], "restoreSeconds" | "backupSeconds">;
  runtime: PodRuntime;
  namespace: pulumi.Input<string>;
}

/** The two templates' workloads (pure): the admission policy admits exactly their runs. */
export function templateWorkloads(args: Omit<RestoreTemplatesArgs, "runtime" | "namespace" | "timeZone">): Record<string, Workload> {
  return {
    [RESTORE_TEMPLATE]: {
      workload: "restore",
      component: "restore",
      args: [
        "restore", expand(RESTORE_VARS.backupId),
        "--target", expand(RESTORE_VARS.target),
        "--approved-by", expand(RESTORE_VARS.approvedBy),
        "--confirm", expand(RESTORE_VARS.confirm),
        "--reason", expand(RESTORE_VARS.reason),
        "--request-id", expand(RESTORE_VARS.requestId),
        // Restoring an environment means replacing its data; the job accepts --clean only for a
        // verified backup, which is the seed's "no overwrite without verification".
        "--clean",
      ],
      env: [
        { name: RESTORE_VARS.backupId, value: "" },
        { name: RESTORE_VARS.target, value: args.environment },
        { name: RESTORE_VARS.approvedBy, value: "" },
        { name: RESTORE_VARS.confirm, value: "" },
        { name: RESTORE_VARS.reason, value: "" },
        { name: RESTORE_VARS.requestId, value: "" },
      ],
      // Never retried by Kubernetes: a restore runs once or is started again by a person.
      backoffLimit: 0,
      activeDeadlineSeconds: args.deadlines.restoreSeconds,
      // Inherited by `kubectl create job --from=cronjob/db-restore`: finished restores clean up.
      ttlSecondsAfterFinished: AD_HOC_JOB_TTL_SECONDS,
    },
    [PRE_MIGRATION_TEMPLATE]: {
      workload: "backup",
      component: "backup-pre-migration",
      args: ["create", "--type", "pre_migration", "--tag", expand(PRE_MIGRATION_TAG_VAR)],
      env: [{ name: PRE_MIGRATION_TAG_VAR, value: "" }],
      backoffLimit: 0,
      activeDeadlineSeconds: args.deadlines.backupSeconds,
      ttlSecondsAfterFinished: AD_HOC_JOB_TTL_SECONDS,
    },
  };
}

export class RestoreTemplates extends pulumi.ComponentResource {
  constructor(name: string, args: RestoreTemplatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("db-backup:restore:RestoreTemplates", name, {}, opts);
    const { runtime, timeZone } = args;
    for (const [objectName, workload] of Object.entries(templateWorkloads(args))) {
      new k8s.batch.v1.CronJob(
        `${name}-${objectName}`,
        {
          metadata: { name: objectName, namespace: args.namespace, labels: runtime.labels },
          spec: cronJobSpec(runtime, workload, { schedule: NEVER, timeZone, suspend: true }),
        },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }
}

export interface OneOffRestoreArgs {
  request: RestoreRequest;
  runtime: PodRuntime;
  namespace: pulumi.Input<string>;
  deadlineSeconds: number;
  /** Created only after these (the admission policy that must already admit this Job). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** The one-off restore's workload (pure): the admission policy admits exactly this run. */
export function oneOffWorkload(request: RestoreRequest, deadlineSeconds: number): Workload {
  return {
    workload: "restore",
    component: "restore",
    args: restoreArgs(request),
    backoffLimit: 0,
    activeDeadlineSeconds: deadlineSeconds,
    ttlSecondsAfterFinished: AD_HOC_JOB_TTL_SECONDS,
  };
}

/** `db-restore-<requestId>`: created by `pulumi up` when the stack's config asks for a restore.
 * The job records each request id in the bucket and refuses one it has seen, so the restore itself
 * never repeats; and this Job is never replaced or deleted under a running restore (see below). */
export class OneOffRestore extends pulumi.ComponentResource {
  readonly jobName: string;

  constructor(name: string, args: OneOffRestoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("db-backup:restore:OneOffRestore", name, {}, opts);
    this.jobName = `${RESTORE_TEMPLATE}-${args.request.requestId}`;
    new k8s.batch.v1.Job(
      // Named after the request: a new requestId is a new resource, never a replacement of the
      // Job of the previous one (which may still be running).
      `${name}-${args.request.requestId}`,
      {
        metadata: {
          name: this.jobName,
          namespace: args.namespace,
          labels: args.runtime.labels,
          // `pulumi up` does not wait hours for the restore: follow it with `kubectl logs -f`.
          annotations: { "pulumi.com/skipAwait": "true" },
        },
        spec: jobSpec(args.runtime, oneOffWorkload(args.request, args.deadlineSeconds)),
      },
      {
        parent: this,
        dependsOn: args.dependsOn,
        // A Job's pod template is immutable, so any change to the spec (a new image digest after a
        // rebuild, new resources, a changed CA) would make Pulumi delete and recreate the Job,
        // killing a restore in the middle of its transaction. The spec is fixed when the Job is
        // created; a different restore takes a new requestId.
        ignoreChanges: ["spec"],
        // Removing `restore` from the config (or the stack) never deletes a Job that may still be
        // running: Pulumi forgets it, and ttlSecondsAfterFinished removes it a week after it ends.
        retainOnDelete: true,
      },
    );
    this.registerOutputs({ jobName: this.jobName });
  }
}

/** Only the flags that are set: the config-driven Job does not rely on empty values. `--confirm`
 * repeats the backup id: writing that id into the stack's config is the deliberate act. */
export function restoreArgs(request: RestoreRequest): string[] {
  const args = ["restore", request.backupId, "--target", request.target, "--confirm", request.backupId, "--request-id", request.requestId];
  if (request.approvedBy) args.push("--approved-by", request.approvedBy);
  if (request.reason) args.push("--reason", request.reason);
  if (request.clean) args.push("--clean");
  if (request.skipSafetyBackup) args.push("--skip-safety-backup");
  return args;
}
