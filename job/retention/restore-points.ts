// "Keep at least 3 verified restore points", enforced by the storage: at every drill, the newest
// verified full backups have their dump and manifest versions locked until RESTORE_POINT_HOLD_DAYS
// from now. Retention is only ever extended (S3 GOVERNANCE retention cannot be shortened by the
// job's keys), so while drills run these versions cannot be deleted by anyone holding a job's key,
// and lifecycle, which skips a locked version, leaves them even when backups stop for weeks. When
// newer backups are verified, the older ones are simply no longer extended: their lock runs out and
// lifecycle takes them. There is nothing to release, so nothing a stolen key could release.
import { listBackups, type BackupEntry, isFullBackup } from "../inventory";
import { MIN_VERIFIED_RESTORE_POINTS, RESTORE_POINT_HOLD_DAYS, objectLayout } from "../core/catalog";
import type { JobContext } from "../core/context";
import { DAY_SECONDS, SECOND_MS } from "../core/time";

/** A completed backup proven by a verification restore (full or partial). */
export function isVerified(entry: BackupEntry): boolean {
  return entry.status === "completed" && entry.manifest !== null && entry.manifest.verification !== undefined;
}

/** A backup that counts as a restore point: completed, full, and proven by a verification restore. */
export function isVerifiedRestorePoint(entry: BackupEntry): boolean {
  return isVerified(entry) && isFullBackup(entry.manifest!);
}

/** The verified restore points, newest first. */
export function verifiedRestorePoints(entries: BackupEntry[]): BackupEntry[] {
  return entries.filter(isVerifiedRestorePoint).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
}

/** The ones the storage holds: the newest MIN_VERIFIED_RESTORE_POINTS. */
export function protectedRestorePoints(entries: BackupEntry[]): BackupEntry[] {
  return verifiedRestorePoints(entries).slice(0, MIN_VERIFIED_RESTORE_POINTS);
}

export interface RestorePointHold {
  /** The backups held, newest first. */
  held: string[];
  /** Until when (null where the store has no Object Lock: nothing is held). */
  until: Date | null;
}

/** Extends the lock of the newest verified restore points' exact versions (the dump version and
 * manifest version the inventory reads) to `holdSeconds` (RESTORE_POINT_HOLD_DAYS) from now. */
export async function refreshRestorePoints(ctx: JobContext, holdSeconds: number = RESTORE_POINT_HOLD_DAYS * DAY_SECONDS, entries?: BackupEntry[]): Promise<RestorePointHold> {
  const keep = protectedRestorePoints(entries ?? (await listBackups(ctx.repo, ctx.prefix, ctx.clock())));
  if (!(await ctx.repo.supportsLocking())) return { held: keep.map((e) => e.id), until: null };
  const until = new Date(ctx.clock().getTime() + holdSeconds * SECOND_MS);
  for (const entry of keep) {
    if (entry.key) await ctx.repo.lockUntil(entry.key, until, entry.dumpVersionId);
    await ctx.repo.lockUntil(objectLayout.manifestKey(ctx.prefix, entry.manifest!.type, entry.id), until, entry.manifestVersionId);
  }
  return { held: keep.map((e) => e.id), until };
}
