// "Keep at least 3 verified restore points", enforced by the storage: the newest verified full
// backups lose the expiry tag the lifecycle rules match (so no rule ever expires them, even when
// backups stop for weeks) and get a legal hold (so no one deletes them). When a newer backup is
// verified the protection moves: the oldest protected one gets its expiry tag back and its hold
// released, and lifecycle takes it when its retention has passed.
import { listBackups, type BackupEntry, isFullBackup } from "../inventory";
import { EXPIRY_TAG, MIN_VERIFIED_RESTORE_POINTS, RESTORE_POINT_TAG, objectLayout } from "../core/catalog";
import type { JobContext } from "../core/context";

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

/** The ones the storage protects: the newest MIN_VERIFIED_RESTORE_POINTS. */
export function protectedRestorePoints(entries: BackupEntry[]): BackupEntry[] {
  return verifiedRestorePoints(entries).slice(0, MIN_VERIFIED_RESTORE_POINTS);
}

function objectKeys(ctx: JobContext, entry: BackupEntry): string[] {
  const keys = [objectLayout.manifestKey(ctx.prefix, entry.manifest!.type, entry.id)];
  if (entry.key) keys.unshift(entry.key);
  return keys;
}

async function protect(ctx: JobContext, key: string): Promise<void> {
  const tags = await ctx.repo.getTags(key);
  if (tags[RESTORE_POINT_TAG.key] !== RESTORE_POINT_TAG.value || EXPIRY_TAG.key in tags) {
    delete tags[EXPIRY_TAG.key];
    tags[RESTORE_POINT_TAG.key] = RESTORE_POINT_TAG.value;
    await ctx.repo.setTags(key, tags);
  }
  await ctx.repo.setLegalHold(key, true);
}

/** Gives the current version back to lifecycle, if the job protected it (an operator's own hold,
 * without the restore-point tag, is left alone). Returns whether it was protected. */
export async function releaseProtection(ctx: JobContext, key: string): Promise<boolean> {
  const tags = await ctx.repo.getTags(key);
  if (!(RESTORE_POINT_TAG.key in tags)) return false;
  delete tags[RESTORE_POINT_TAG.key];
  tags[EXPIRY_TAG.key] = EXPIRY_TAG.value;
  await ctx.repo.setTags(key, tags);
  await ctx.repo.setLegalHold(key, false);
  return true;
}

export interface RestorePointChange {
  protected: string[];
  released: string[];
}

/** Puts protection on the newest verified backups and takes it off older verified ones. New
 * protection is set before old protection is released, so at no moment are fewer protected. */
export async function refreshRestorePoints(ctx: JobContext, entries?: BackupEntry[]): Promise<RestorePointChange> {
  const all = entries ?? (await listBackups(ctx.repo, ctx.prefix));
  const verified = verifiedRestorePoints(all);
  const keep = verified.slice(0, MIN_VERIFIED_RESTORE_POINTS);
  for (const entry of keep) for (const key of objectKeys(ctx, entry)) await protect(ctx, key);
  const released: string[] = [];
  for (const entry of verified.slice(MIN_VERIFIED_RESTORE_POINTS)) {
    let was = false;
    for (const key of objectKeys(ctx, entry)) was = (await releaseProtection(ctx, key)) || was;
    if (was) released.push(entry.id);
  }
  return { protected: keep.map((e) => e.id), released };
}
