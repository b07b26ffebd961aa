import { listBackups, type BackupEntry } from "../backups";
import { isBackupType, retentionRules } from "../catalog";
import type { JobContext } from "../context";
import { usageError } from "../errors";
import { renderListMarkdown, reportRow } from "../report";

export interface ListOptions {
  type?: string;
  json?: boolean;
}

export async function listAction(ctx: JobContext, options: ListOptions): Promise<BackupEntry[]> {
  if (options.type !== undefined && options.type !== "legacy" && !isBackupType(options.type)) {
    throw usageError(`unknown --type "${options.type}": use daily, manual, pre_migration, monthly or legacy`);
  }
  await ctx.repo.ensureReady();
  const entries = (await listBackups(ctx.repo, ctx.prefix)).filter((e) => !options.type || e.type === options.type);
  const retention = retentionRules();
  if (options.json) ctx.log.out(JSON.stringify(entries.map((e) => ({ ...reportRow(e, retention), key: e.key, problem: e.problem })), null, 2));
  else ctx.log.out(renderListMarkdown(entries, retention));
  return entries;
}
