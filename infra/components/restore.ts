// Restores and pre-migration backups, started by people, never by a clock:
// - `db-restore` and `db-backup-pre-migration`: suspended CronJobs used as Job templates. Values
//   come from env vars expanded into args by Kubernetes (`$(BACKUP_ID)`), set per run with
//   `kubectl set env` (see README.md, "Deployment with Pulumi"): no shell in the container.
// - a one-off restore Job from stack config (`restore.backupId` + `restore.requestId`).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { RestoreRequest, StackConfig } from "../config";
import { cronJobSpec, jobSpec, type PodRuntime } from "../workload";

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

const expand = (variable: string) => `$(${variable})`;

export interface RestoreTemplatesArgs extends Pick<StackConfig, "timeZone"> {
  /** RESTORE_TARGET's default: a restore goes into this stack's own environment unless told otherwise. */
  environment: string;
  deadlines: Pick<StackConfig["deadlines"], "restoreSeconds" | "backupSeconds">;
  runtime: PodRuntime;
  namespace: pulumi.Input<string>;
}

export class RestoreTemplates extends pulumi.ComponentResource {
  constructor(name: string, args: RestoreTemplatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("db-backup:restore:RestoreTemplates", name, {}, opts);
    const { runtime, deadlines, timeZone } = args;
    const template = (objectName: string, spec: k8s.types.input.batch.v1.CronJobSpec) =>
      new k8s.batch.v1.CronJob(
        `${name}-${objectName}`,
        { metadata: { name: objectName, namespace: args.namespace, labels: runtime.labels }, spec },
        { parent: this },
      );

    template(
      RESTORE_TEMPLATE,
      cronJobSpec(
        runtime,
        {
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
          activeDeadlineSeconds: deadlines.restoreSeconds,
        },
        { schedule: NEVER, timeZone, suspend: true },
      ),
    );

    template(
      PRE_MIGRATION_TEMPLATE,
      cronJobSpec(
        runtime,
        {
          component: "backup-pre-migration",
          args: ["create", "--type", "pre_migration", "--tag", expand(PRE_MIGRATION_TAG_VAR)],
          env: [{ name: PRE_MIGRATION_TAG_VAR, value: "" }],
          backoffLimit: 0,
          activeDeadlineSeconds: deadlines.backupSeconds,
        },
        { schedule: NEVER, timeZone, suspend: true },
      ),
    );
    this.registerOutputs({});
  }
}

export interface OneOffRestoreArgs {
  request: RestoreRequest;
  runtime: PodRuntime;
  namespace: pulumi.Input<string>;
  deadlineSeconds: number;
}

/** `db-restore-<requestId>`: created by `pulumi up` when the stack's config asks for a restore. A
 * later `pulumi up` may replace it (a new image digest, say); the job records each request id in
 * the bucket and refuses to run one twice, so the restore itself never repeats. */
export class OneOffRestore extends pulumi.ComponentResource {
  readonly jobName: string;

  constructor(name: string, args: OneOffRestoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("db-backup:restore:OneOffRestore", name, {}, opts);
    this.jobName = `${RESTORE_TEMPLATE}-${args.request.requestId}`;
    new k8s.batch.v1.Job(
      `${name}-job`,
      {
        metadata: { name: this.jobName, namespace: args.namespace, labels: args.runtime.labels },
        spec: jobSpec(args.runtime, {
          component: "restore",
          args: restoreArgs(args.request),
          backoffLimit: 0,
          activeDeadlineSeconds: args.deadlineSeconds,
        }),
      },
      // Jobs are immutable: a change means delete, then create (same name).
      { parent: this, deleteBeforeReplace: true },
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
