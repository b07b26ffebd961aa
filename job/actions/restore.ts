// restore: find the backup, prove its bytes, restore in one transaction, check the row counts
// before it commits. The id is checked before any I/O and an unknown id is refused before the
// target is touched.
import { promises as fs } from "node:fs";
import { findBackup, requireRestorable, type BackupEntry } from "../backups";
import type { Env } from "../config";
import type { JobContext } from "../context";
import { formatBytes, formatDuration } from "../format";
import { validateBackupId } from "../ids";
import { pgConnection } from "../pg-url";
import { downloadVerified, restoreCustom, restorePlain } from "../restore";
import { resolveTarget } from "../target";

export interface RestoreOptions {
  id: string;
  target?: string;
  env: Env;
  jobs?: number;
  allowUnverified?: boolean;
  json?: boolean;
}

export interface RestoreReport {
  id: string;
  target: string;
  sha256: string;
  bytes: number;
  checkedTables: number;
  durationMs: number;
}

export async function restoreAction(ctx: JobContext, options: RestoreOptions): Promise<RestoreReport> {
  validateBackupId(options.id);
  const target = resolveTarget(options.target, options.env);
  ctx.redactor.addUrl(target.url);
  const connection = pgConnection(target.url);
  const entry = await findBackup(ctx.repo, ctx.prefix, options.id);
  requireRestorable(entry, options.allowUnverified ?? false);

  const started = Date.now();
  ctx.log.info(`restoring ${entry.id} (${formatBytes(entry.size)}) into ${connection.display}`);
  const outcome = await restoreEntry(ctx, entry, connection, options.jobs ?? 1);
  const report: RestoreReport = { id: entry.id, target: connection.display, ...outcome, durationMs: Date.now() - started };

  const event = await ctx.events.publish(
    "restored",
    {
      backup: entry.id,
      id: entry.id,
      type: entry.type,
      target: connection.display,
      sha256: outcome.sha256,
      durationMs: report.durationMs,
      ...(ctx.environment ? { environment: ctx.environment } : {}),
    },
    `${entry.id}-restored-${started}`,
  );
  if (!event.delivered && ctx.events.configured) ctx.log.warn(`event ${event.subject} was not delivered: ${event.error}`);
  if (options.json) ctx.log.out(JSON.stringify(report, null, 2));
  else {
    const counts = report.checkedTables > 0 ? `, row counts of ${report.checkedTables} tables match the manifest` : "";
    ctx.log.out(`Restored ${entry.id} into ${connection.display} in ${formatDuration(report.durationMs)} (${formatBytes(report.bytes)}, sha256 verified${counts}).`);
  }
  return report;
}

/** The restore itself, shared by restore and verify. */
export async function restoreEntry(
  ctx: JobContext,
  entry: BackupEntry,
  target: ReturnType<typeof pgConnection>,
  jobs: number,
  preamble?: string,
): Promise<{ sha256: string; bytes: number; checkedTables: number }> {
  const manifest = entry.manifest;
  const source = await ctx.repo.getStream(entry.key!);
  if (!manifest || manifest.format === "plain") {
    return restorePlain({
      source,
      expectedSha256: manifest?.sha256 ?? null,
      expectedRowCounts: manifest?.rowCounts ?? null,
      target,
      redactor: ctx.redactor,
      preamble,
    });
  }
  const download = await downloadVerified(source, manifest.sha256, `${entry.id}.dump`);
  try {
    await restoreCustom({ archive: download.file, target, redactor: ctx.redactor, jobs, noOwner: manifest.scope.noOwner });
    return { sha256: download.sha256, bytes: download.bytes, checkedTables: 0 };
  } finally {
    await fs.rm(download.dir, { recursive: true, force: true });
  }
}
