import { listBackups } from "../backups";
import type { JobContext } from "../context";
import { DbBackupError } from "../errors";
import { buildStatusReport, renderStatusMarkdown, type StatusReport } from "../report";

export interface StatusOptions {
  json?: boolean;
}

/** The seed's Backup Status report; exits "unhealthy" when there is no successful backup. */
export async function statusAction(ctx: JobContext, options: StatusOptions): Promise<StatusReport> {
  await ctx.repo.ensureReady();
  const entries = await listBackups(ctx.repo, ctx.prefix);
  const report = buildStatusReport(entries, ctx.clock());
  ctx.log.out(options.json ? JSON.stringify(report, null, 2) : renderStatusMarkdown(report));
  if (!report.healthy) throw new DbBackupError("unhealthy", "no successful backup exists: run `db-backup create`");
  return report;
}
