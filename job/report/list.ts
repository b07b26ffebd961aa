import { listBackups, type BackupEntry } from "../inventory";
import { isBackupType, retentionRules, type BackupType } from "../core/catalog";
import type { JobContext } from "../core/context";
import { usageError } from "../core/errors";
import { listRows, renderRowsMarkdown } from "./model";
import { supabaseSection, type SupabaseSettings } from "./supabase-api";

export interface ListOptions {
  type?: string;
  json?: boolean;
  /** Retention per type (the table, as the environment lengthened it). */
  retention?: Record<BackupType, number>;
  /** Supabase's Management API, when configured: its backups are listed as type Auto. */
  supabase?: SupabaseSettings | null;
}

export async function listAction(ctx: JobContext, options: ListOptions): Promise<BackupEntry[]> {
  if (options.type !== undefined && options.type !== "legacy" && options.type !== "auto" && !isBackupType(options.type)) {
    throw usageError(`unknown --type "${options.type}": use daily, manual, pre_migration, monthly, legacy or auto`);
  }
  await ctx.repo.ensureReady();
  const wantsManaged = options.type === undefined || options.type === "auto";
  const [all, supabase] = await Promise.all([listBackups(ctx.repo, ctx.prefix), supabaseSection(wantsManaged ? options.supabase ?? null : null)]);
  for (const warning of supabase.warnings) ctx.log.warn(warning);
  const entries = all.filter((e) => !options.type || e.type === options.type);
  const managed = supabase.managed ?? [];
  const retention = options.retention ?? retentionRules();
  // Restore-point marks come from all backups, not only the listed type.
  const rows = listRows(all, retention, managed).filter((r) => !options.type || r.type === options.type);
  if (options.json) {
    const byId = new Map(all.map((e) => [e.id, e]));
    ctx.log.out(JSON.stringify(rows.map((r) => ({ ...r, key: byId.get(r.id)?.key ?? null, problem: byId.get(r.id)?.problem })), null, 2));
  } else {
    ctx.log.out(renderRowsMarkdown(rows));
  }
  return entries;
}
