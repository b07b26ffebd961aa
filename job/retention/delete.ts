// delete: for operators with their own credentials (the CronJobs' have no delete right). Refuses a
// backup younger than the minimum retention, one of the protected restore points, one whose
// deletion would leave too few verified restore points, and one under legal hold; otherwise
// removes every version of its dump and manifest, its run marker and its drills' records, for good.
// A version still under Object Lock retention (a backup's own, or a restore point's extended one)
// cannot be removed by any key: the store refuses, and so does this command, saying until when.
import { findBackup, listBackups, type BackupEntry } from "../inventory";
import { MIN_RETENTION_DAYS, MIN_VERIFIED_RESTORE_POINTS, objectLayout } from "../core/catalog";
import type { JobContext } from "../core/context";
import { failure, oneLine, refusal } from "../core/errors";
import { formatMinute } from "../core/format";
import { firstFailure, renderChecks, type GateCheck } from "../core/checks";
import { isAutoBackupId, validateBackupId } from "../core/ids";
import { isVerifiedRestorePoint, protectedRestorePoints, verifiedRestorePoints } from "./restore-points";
import { DAY_MS } from "../core/time";

export interface DeleteOptions {
  id: string;
  /** Print the checks and what would be deleted; delete nothing. */
  dryRun?: boolean;
  json?: boolean;
}

export interface DeleteReport {
  id: string;
  dryRun: boolean;
  checks: GateCheck[];
  keys: string[];
}

export async function deleteAction(ctx: JobContext, options: DeleteOptions): Promise<DeleteReport> {
  validateBackupId(options.id);
  if (isAutoBackupId(options.id)) {
    throw refusal(`${options.id} is a Supabase-managed (Auto) backup: Supabase keeps and removes its own backups (dashboard → Database → Backups)`);
  }
  await ctx.repo.ensureReady();
  const entry = await findBackup(ctx.repo, ctx.prefix, options.id);
  const entries = await listBackups(ctx.repo, ctx.prefix);
  const keys = await objectKeys(ctx, entry);
  const checks = await deletionChecks(ctx, entry, entries, keys);
  const report: DeleteReport = { id: entry.id, dryRun: options.dryRun ?? false, checks, keys };

  if (options.dryRun) {
    const failed = firstFailure(checks);
    if (options.json) ctx.log.out(JSON.stringify(report, null, 2));
    else ctx.log.out(`Delete ${entry.id} (dry run):\n${renderChecks(checks)}\n  ${failed ? "would be refused" : `would remove every version of ${keys.map((k) => ctx.repo.displayPath(k)).join(" and ")}`}\nDry run: nothing was changed.`);
    if (failed) throw refusal(failed.detail);
    return report;
  }
  const failed = firstFailure(checks);
  if (failed) throw refusal(failed.detail);

  for (const key of keys) {
    try {
      await ctx.repo.deleteAllVersions(key);
    } catch (error) {
      const code = (error as { code?: string })?.code;
      if (code === "AccessDenied") {
        throw refusal(`the storage refused to delete ${ctx.repo.displayPath(key)}: a version is still under Object Lock retention or legal hold (${oneLine(error)}); wait until its retention ends or release the hold`, error);
      }
      throw failure(`deleting ${ctx.repo.displayPath(key)} failed: ${oneLine(error)}`, error);
    }
  }
  if (options.json) ctx.log.out(JSON.stringify(report, null, 2));
  else ctx.log.out(`Deleted ${entry.id}: every version of ${keys.map((k) => ctx.repo.displayPath(k)).join(" and ")} was removed.`);
  return report;
}

async function objectKeys(ctx: JobContext, entry: BackupEntry): Promise<string[]> {
  const keys: string[] = [];
  if (entry.key) keys.push(entry.key);
  if (entry.type === "legacy") return keys;
  keys.push(objectLayout.manifestKey(ctx.prefix, entry.type, entry.id));
  if (await ctx.repo.stat(objectLayout.runKey(ctx.prefix, entry.id))) keys.push(objectLayout.runKey(ctx.prefix, entry.id));
  for await (const record of ctx.repo.list(`${objectLayout.verificationsFolder(ctx.prefix)}${entry.id}/`)) keys.push(record.key);
  return keys;
}

async function deletionChecks(ctx: JobContext, entry: BackupEntry, entries: BackupEntry[], keys: string[]): Promise<GateCheck[]> {
  const now = ctx.clock();
  const checks: GateCheck[] = [];
  const ageMs = now.getTime() - entry.createdAt.getTime();
  const oldEnough = ageMs >= MIN_RETENTION_DAYS * DAY_MS;
  checks.push({
    check: "age",
    ok: oldEnough,
    detail: oldEnough
      ? `${Math.floor(ageMs / DAY_MS)} days old (at least ${MIN_RETENTION_DAYS})`
      : `backup ${entry.id} is ${(ageMs / DAY_MS).toFixed(1)} days old: backups younger than ${MIN_RETENTION_DAYS} days cannot be deleted; it can be from ${formatMinute(new Date(entry.createdAt.getTime() + MIN_RETENTION_DAYS * DAY_MS))} UTC`,
  });

  const verified = verifiedRestorePoints(entries);
  const isPoint = isVerifiedRestorePoint(entry);
  const left = verified.filter((e) => e.id !== entry.id).length;
  const protectedIds = protectedRestorePoints(entries).map((e) => e.id);
  if (!isPoint) {
    checks.push({ check: "restore points", ok: true, detail: `not a verified restore point (${verified.length} verified remain)` });
  } else if (left < MIN_VERIFIED_RESTORE_POINTS) {
    checks.push({
      check: "restore points",
      ok: false,
      detail: `deleting ${entry.id} would leave ${left} verified restore point(s), fewer than ${MIN_VERIFIED_RESTORE_POINTS}: verify newer backups first (db-backup verify), then delete`,
    });
  } else if (protectedIds.includes(entry.id)) {
    checks.push({
      check: "restore points",
      ok: false,
      detail: `backup ${entry.id} is one of the ${MIN_VERIFIED_RESTORE_POINTS} newest verified restore points, which are protected from deletion: it can be deleted once ${MIN_VERIFIED_RESTORE_POINTS} newer backups are verified`,
    });
  } else {
    checks.push({ check: "restore points", ok: true, detail: `${left} verified restore points remain` });
  }

  const held: string[] = [];
  for (const key of keys.slice(0, 2)) {
    if ((await ctx.repo.stat(key)) && (await ctx.repo.getLegalHold(key))) held.push(key);
  }
  const where = held.map((k) => ctx.repo.displayPath(k)).join(", ");
  checks.push({
    check: "legal hold",
    ok: held.length === 0,
    detail: held.length === 0 ? "none" : `backup ${entry.id} is under legal hold (${where}): release the hold first (mc legalhold clear …) if it may really go`,
  });

  const lockedUntil = await latestRetention(ctx, entry);
  const unlocked = lockedUntil === null || lockedUntil.getTime() <= now.getTime();
  checks.push({
    check: "retention lock",
    ok: unlocked,
    detail: unlocked
      ? "none left"
      : `backup ${entry.id} is locked until ${formatMinute(lockedUntil!)} UTC${isPoint ? " (a restore point: every drill extends it)" : ""}: no key can delete it before then`,
  });
  return checks;
}

/** Until when the versions the inventory reads (dump and manifest) are locked, the later of the two. */
async function latestRetention(ctx: JobContext, entry: BackupEntry): Promise<Date | null> {
  const dates: Date[] = [];
  if (entry.key) {
    const until = await ctx.repo.retainedUntil(entry.key, entry.dumpVersionId);
    if (until) dates.push(until);
  }
  if (entry.type !== "legacy") {
    const until = await ctx.repo.retainedUntil(objectLayout.manifestKey(ctx.prefix, entry.type, entry.id), entry.manifestVersionId);
    if (until) dates.push(until);
  }
  return dates.length === 0 ? null : new Date(Math.max(...dates.map((d) => d.getTime())));
}
