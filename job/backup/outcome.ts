// The last stage of create, and what a failure leaves: the completed event, then the manifest
// (written once, with the event's outcome) locked like its dump, then the `latest.json` pointer; or
// the failed event and a "failed" manifest. A failure before the backup had an id can only be said
// by an event.
import { objectLayout, type BackupType } from "../core/catalog";
import type { JobContext } from "../core/context";
import { isKind, oneLine } from "../core/errors";
import { SECOND_MS } from "../core/time";
import { publishEvent } from "../events";
import { isFullBackup, writeManifest, type BackupManifest } from "../inventory";
import type { Reservation } from "./reserve";

/** Publishes `completed`, writes the manifest with its outcome and locks it, then points
 * `latest.json` at it (a full backup, unless told not to). */
export async function finalizeBackup(
  ctx: JobContext,
  manifest: BackupManifest,
  manifestKey: string,
  settings: { lockSeconds: number; updateLatest: boolean },
): Promise<BackupManifest> {
  const outcome = await publishEvent(
    ctx,
    "completed",
    {
      backup: manifest.id,
      path: ctx.repo.displayPath(manifest.key),
      id: manifest.id,
      type: manifest.type,
      ...(manifest.tag ? { tag: manifest.tag } : {}),
      ...(ctx.environment ? { environment: ctx.environment } : {}),
      database: manifest.source.database,
      size: manifest.sizes.stored,
      sha256: manifest.sha256,
      durationMs: manifest.durationMs,
    },
    manifest.id,
  );
  const notified: BackupManifest = { ...manifest, notification: outcome };
  await writeAndLockManifest(ctx, manifestKey, notified, settings.lockSeconds);
  if (settings.updateLatest && isFullBackup(notified)) await pointLatestAt(ctx, notified, manifestKey);
  return notified;
}

/** The manifest's one write, and its version locked like the dump: the store then enforces "no
 * delete younger than its retention" (the seed's 7 days at the least) whoever asks. */
async function writeAndLockManifest(ctx: JobContext, manifestKey: string, manifest: BackupManifest, lockSeconds: number): Promise<void> {
  const versionId = await writeManifest(ctx.repo, manifestKey, manifest);
  // The date is taken just before the call, so a lock of a few seconds (tests) is never already past.
  await ctx.repo.lockUntil(manifestKey, new Date(ctx.clock().getTime() + lockSeconds * SECOND_MS), versionId);
}

/** `latest.json`, for people browsing the bucket (the seed's "symlink to most recent"). The job never
 * reads it (`latest` is resolved from the manifests), so a forged pointer misleads no restore; and
 * failing to write it does not undo the complete, recorded backup. */
async function pointLatestAt(ctx: JobContext, manifest: BackupManifest, manifestKey: string): Promise<void> {
  const key = objectLayout.latestKey(ctx.prefix);
  const pointer = {
    id: manifest.id,
    type: manifest.type,
    dump: manifest.key,
    dumpVersionId: manifest.dumpVersionId ?? null,
    manifest: manifestKey,
    sha256: manifest.sha256,
    startedAt: manifest.startedAt,
    restore: `db-backup restore ${manifest.id}`,
  };
  await ctx.repo.putBytes(key, JSON.stringify(pointer, null, 2) + "\n", "application/json").catch((error: unknown) => {
    ctx.log.warn(`the backup is complete, but ${ctx.repo.displayPath(key)} could not be updated (${oneLine(error)}): it still names an older backup`);
  });
}

/** A failure before the backup had an id (store or database unreachable, wrong credentials, bad
 * scope): no manifest can say it, so the failed event does. Refusals (another run holds the lock,
 * tag in use) are not failures: the other run, or the caller, owns the outcome. */
export async function publishEarlyFailure(ctx: JobContext, type: BackupType, database: string, error: unknown): Promise<void> {
  if (isKind(error, "refused")) return;
  const reason = ctx.redactor.redact(oneLine(error));
  const at = ctx.clock();
  await publishEvent(
    ctx,
    "failed",
    { backup: null, id: null, type, database, reason, failedAt: at.toISOString(), ...(ctx.environment ? { environment: ctx.environment } : {}) },
    `failed-${type}-${at.getTime()}-${process.pid}`,
  );
}

/** The failed event, and the backup's "failed" manifest (its dump, if any was stored, is never read). */
export async function recordFailure(ctx: JobContext, reservation: Reservation, error: unknown, lockSeconds: number): Promise<void> {
  const { base, manifestKey } = reservation;
  const reason = ctx.redactor.redact(oneLine(error));
  const finishedAt = ctx.clock();
  const outcome = await publishEvent(
    ctx,
    "failed",
    { backup: base.id, id: base.id, type: base.type, database: base.source.database, reason, ...(ctx.environment ? { environment: ctx.environment } : {}) },
    `${base.id}-failed`,
  );
  const failed: BackupManifest = {
    ...base,
    status: "failed",
    error: reason,
    sizes: { stored: 0, dumped: null },
    sha256: null,
    rowCounts: null,
    finishedAt: finishedAt.toISOString(),
    durationMs: Math.max(0, finishedAt.getTime() - new Date(base.startedAt).getTime()),
    notification: outcome,
  };
  try {
    await writeAndLockManifest(ctx, manifestKey, failed, lockSeconds);
  } catch {
    /* the store itself may be what failed; the error the caller throws says so */
  }
}
