import { promises as fs } from "node:fs";
import path from "node:path";
import { listBackups } from "../inventory";
import { type BackupType } from "../core/catalog";
import type { JobContext } from "../core/context";
import { DbBackupError } from "../core/errors";
import { formatAge, parseMaxAge } from "./max-age";
import { buildStatusReport, renderStatusMarkdown, type StatusReport } from "./model";
import { renderStatusHtml } from "./html";
import { supabaseSection, type SupabaseSettings } from "./supabase-api";

export interface StatusOptions {
  json?: boolean;
  /** `daily=26h,monthly=32d`: exit unhealthy when the newest successful backup of a type is older. */
  maxAge?: string;
  /** Also write the status page (report-html/) to this file. */
  html?: string;
  /** Retention per type (the table, as the environment lengthened it). */
  retention?: Record<BackupType, number>;
  /** Supabase's Management API, when configured: Auto backups and the PITR range. */
  supabase?: SupabaseSettings | null;
}

/** The seed's Backup Status report; exits "unhealthy" when there is no successful backup, when a
 * backup's keys hold versions its backup did not write, or (with --max-age) when backups of a type
 * stopped. */
export async function statusAction(ctx: JobContext, options: StatusOptions): Promise<StatusReport> {
  const maxAge = options.maxAge !== undefined ? parseMaxAge(options.maxAge) : undefined;
  await ctx.repo.ensureReady();
  const [entries, supabase] = await Promise.all([listBackups(ctx.repo, ctx.prefix), supabaseSection(options.supabase ?? null)]);
  const now = ctx.clock();
  const report = buildStatusReport(entries, now, { retention: options.retention, maxAge, managed: supabase.managed, pitr: supabase.pitr, warnings: supabase.warnings });
  ctx.log.out(options.json ? JSON.stringify(report, null, 2) : renderStatusMarkdown(report));
  if (options.html !== undefined) await writeStatusPage(ctx, options.html, renderStatusHtml(entries, now, report, { maxAgeMs: maxAgeMs(maxAge), title: ctx.environment }));
  if (!report.healthy) {
    const alarmed = entries.find((e) => e.alarms.length > 0);
    if (alarmed) {
      throw new DbBackupError("unhealthy", `backup ${alarmed.id} has object versions its backup did not write (${alarmed.alarms[0]}): someone holding the store's key wrote them; see the warnings, and the runbook "A backup's objects were overwritten"`);
    }
    const stale = report.stale?.[0];
    if (report.summary.latestBackup !== null && entries.some((e) => e.status === "completed") && stale) {
      const age = stale.newestAt ? `is ${formatAge(now.getTime() - new Date(stale.newestAt).getTime())} old` : "does not exist";
      throw new DbBackupError("unhealthy", `the newest successful ${stale.type} backup ${age} (--max-age ${stale.type}=${stale.maxAge}): check the ${stale.type} CronJob's runs`);
    }
    throw new DbBackupError("unhealthy", "no successful backup exists: run `db-backup create`");
  }
  return report;
}

function maxAgeMs(rules: ReturnType<typeof parseMaxAge> | undefined): Partial<Record<BackupType, number>> | undefined {
  return rules ? Object.fromEntries(rules.map((r) => [r.type, r.maxMs])) : undefined;
}

/** Written next to its final name and renamed, so a reader never sees half a page; the path goes
 * to stderr (stdout keeps the report). */
async function writeStatusPage(ctx: JobContext, file: string, html: string): Promise<void> {
  const target = path.resolve(file);
  const partial = `${target}.partial-${process.pid}`;
  try {
    await fs.writeFile(partial, ctx.redactor.redact(html));
    await fs.rename(partial, target);
  } catch (error) {
    await fs.rm(partial, { force: true });
    // A path that cannot be a file is the caller's to fix (2); anything else may pass on a retry (1).
    const code = (error as NodeJS.ErrnoException).code;
    const kind = code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR" ? "usage" : "failed";
    throw new DbBackupError(kind, `could not write the status page to ${target} (--html): ${(error as Error).message}`);
  }
  ctx.log.info(`status page written to ${target}`);
}
