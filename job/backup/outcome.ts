// The last stage of create, and what a failure leaves: the completed event (recorded in the
// manifest) and the retention lock; or a "failed" manifest and event. A failure before the backup
// had an id can only be said by an event.
import { MIN_RETENTION_DAYS, type BackupType } from "../core/catalog";
import type { JobContext } from "../core/context";
import { isKind, oneLine } from "../core/errors";
import { DAY_SECONDS, SECOND_MS } from "../core/time";
import { publishEvent } from "../events";
import { writeManifest, type BackupManifest } from "../inventory";
import type { Reservation } from "./reserve";

/** Publishes `completed`, records its outcome in the manifest, and locks dump and manifest. */
export async function finalizeBackup(ctx: JobContext, manifest: BackupManifest, manifestKey: string, lockSeconds: number | undefined): Promise<BackupManifest> {
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
  await writeManifest(ctx.repo, manifestKey, notified);

  // Storage enforces "no delete younger than 7 days" too, where the bucket has Object Lock.
  // Each date is taken just before its call, so a lock of a few seconds (tests) is never already past.
  const seconds = lockSeconds ?? MIN_RETENTION_DAYS * DAY_SECONDS;
  for (const locked of [manifest.key, manifestKey]) await ctx.repo.lockUntil(locked, new Date(ctx.clock().getTime() + seconds * SECOND_MS));
  return notified;
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

/** The failed event, and a "failed" manifest in place of the "running" one (no dump is kept). */
export async function recordFailure(ctx: JobContext, reservation: Reservation, error: unknown): Promise<void> {
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
    await writeManifest(ctx.repo, manifestKey, failed);
  } catch {
    /* the store itself may be what failed; the error the caller throws says so */
  }
}
