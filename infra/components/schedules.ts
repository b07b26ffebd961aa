// What runs by itself: a CronJob per scheduled backup type (`create --type <type>`), the weekly
// restore drill (`verify`), and a staleness check (`status --max-age …`) whose failed Jobs are
// what cluster alerting sees when backups stop. Each runs with its own workload's Secret.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BackupType } from "../../job/core/catalog";
import type { StackConfig } from "../config";
import { longestGapHours } from "../cron";
import { cronJobSpec, type PodRuntime, type Workload } from "../workload";

export interface BackupSchedulesArgs
  extends Pick<StackConfig, "schedules" | "timeZone" | "verifySchedule" | "statusSchedule" | "statusGraceHours"> {
  deadlines: Pick<StackConfig["deadlines"], "backupSeconds" | "verifySeconds" | "statusSeconds">;
  runtime: PodRuntime;
  namespace: pulumi.Input<string>;
}

/** Kubernetes object name of a type's CronJob, e.g. db-backup-daily, db-backup-pre-migration. */
export const cronJobName = (type: BackupType) => `db-backup-${type.replace(/_/g, "-")}`;
export const VERIFY_CRONJOB = "db-backup-verify";
export const STATUS_CRONJOB = "db-backup-status";

export interface ScheduledWorkload {
  name: string;
  schedule: string;
  workload: Workload;
}

/** The scheduled CronJobs (pure): the admission policy admits exactly their runs. */
export function scheduledWorkloads(args: Omit<BackupSchedulesArgs, "runtime" | "namespace">): ScheduledWorkload[] {
  const { deadlines } = args;
  const list: ScheduledWorkload[] = [];
  for (const [type, schedule] of Object.entries(args.schedules) as [BackupType, string][]) {
    list.push({
      name: cronJobName(type),
      schedule,
      workload: {
        workload: "backup",
        component: `backup-${type.replace(/_/g, "-")}`,
        args: ["create", "--type", type],
        // One retry: a dropped connection should not cost a day's backup; Forbid keeps runs apart.
        backoffLimit: 1,
        activeDeadlineSeconds: deadlines.backupSeconds,
      },
    });
  }
  if (args.verifySchedule) {
    list.push({
      name: VERIFY_CRONJOB,
      schedule: args.verifySchedule,
      workload: { workload: "verify", component: "restore-drill", args: ["verify"], backoffLimit: 0, activeDeadlineSeconds: deadlines.verifySeconds },
    });
  }
  const maxAge = maxAgeArgument(args);
  if (args.statusSchedule && maxAge) {
    list.push({
      name: STATUS_CRONJOB,
      schedule: args.statusSchedule,
      workload: {
        workload: "status",
        component: "staleness-check",
        args: ["status", "--max-age", maxAge],
        // A failed check must stay failed: that failed Job is the alert.
        backoffLimit: 0,
        activeDeadlineSeconds: deadlines.statusSeconds,
      },
    });
  }
  return list;
}

export class BackupSchedules extends pulumi.ComponentResource {
  readonly cronJobNames: string[] = [];

  constructor(name: string, args: BackupSchedulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("db-backup:schedules:BackupSchedules", name, {}, opts);
    for (const { name: objectName, schedule, workload } of scheduledWorkloads(args)) {
      new k8s.batch.v1.CronJob(
        `${name}-${objectName}`,
        {
          metadata: { name: objectName, namespace: args.namespace, labels: args.runtime.labels },
          spec: cronJobSpec(args.runtime, workload, { schedule, timeZone: args.timeZone }),
        },
        { parent: this },
      );
      this.cronJobNames.push(objectName);
    }
    this.registerOutputs({});
  }
}

/** `daily=26h,monthly=746h`: per scheduled type, the longest gap between two of its runs plus the
 * grace hours, so one missed run is enough to fail the check. Undefined when nothing is scheduled. */
export function maxAgeArgument(
  { schedules, timeZone, statusGraceHours }: Pick<BackupSchedulesArgs, "schedules" | "timeZone" | "statusGraceHours">,
): string | undefined {
  const parts = (Object.entries(schedules) as [BackupType, string][]).map(
    ([type, schedule]) => `${type}=${longestGapHours(schedule, timeZone) + statusGraceHours}h`,
  );
  return parts.length > 0 ? parts.join(",") : undefined;
}
