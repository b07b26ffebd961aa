// create, stage by stage: check the request, open the source (lock, scope), reserve an id
// (reserve.ts), clean up after dead runs (stale-runs.ts), dump, upload and lock (upload.ts), then the
// event and the one manifest (outcome.ts). A failure leaves a `failed` manifest and a failed event.
import { BACKUP_TYPES, backupTypes } from "../core/catalog";
import type { JobContext } from "../core/context";
import { refusal, oneLine, usageError } from "../core/errors";
import { formatBytes, formatDuration } from "../core/format";
import { TAG_PATTERN } from "../core/ids";
import { listBackups, type BackupManifest } from "../inventory";
import { pgConnection, type PgConnection } from "../postgres/connection";
import { pgDumpVersion } from "./dump";
import type { CreateOptions } from "./options";
import { finalizeBackup, publishEarlyFailure, recordFailure } from "./outcome";
import { reserveBackupId, type Reservation } from "./reserve";
import { openSource, type SourceSession } from "./source";
import { cleanStaleRuns } from "./stale-runs";
import { dumpAndUpload } from "./upload";

export type { CreateOptions } from "./options";

export async function createBackup(ctx: JobContext, options: CreateOptions): Promise<BackupManifest> {
  checkRequest(options);
  ctx.redactor.addUrl(options.sourceUrl);
  const connection = pgConnection(options.sourceUrl);
  const { source, pgDump } = await openForBackup(ctx, options, connection);
  const startedAt = ctx.clock();
  let reservation: Reservation;
  try {
    reservation = await reserveBackupId(ctx, { options, source, connection, startedAt, pgDumpVersion: pgDump });
  } catch (error) {
    await source.close();
    await publishEarlyFailure(ctx, options.type, connection.display, error);
    throw error;
  }
  const { base, manifestKey } = reservation;
  ctx.log.info(`creating ${options.type} backup ${base.id} of ${connection.display} → ${ctx.repo.displayPath(base.key)}`);
  await cleanUpDeadRuns(ctx, options, connection, base.id);

  let manifest: BackupManifest;
  try {
    manifest = await dumpAndUpload(ctx, { options, source, connection, reservation, startedAt });
  } catch (error) {
    await source.close();
    await recordFailure(ctx, reservation, error, options.lockSeconds);
    throw error;
  }
  await source.close();
  manifest = await finalizeBackup(ctx, manifest, manifestKey, { lockSeconds: options.lockSeconds, updateLatest: options.updateLatest !== false });
  printResult(ctx, manifest, options.json);
  return manifest;
}

function checkRequest(options: CreateOptions): void {
  if (!BACKUP_TYPES.includes(options.type)) throw usageError(`unknown backup type "${options.type}": use one of ${BACKUP_TYPES.join(", ")}`);
  if (options.type === "pre_migration" && !options.tag) {
    throw usageError("a pre_migration backup needs --tag <name> (e.g. --tag before_v2_schema)");
  }
  if (options.tag !== undefined && !TAG_PATTERN.test(options.tag)) {
    throw usageError(`tag "${options.tag}" is invalid: use letters, digits, _ and - (at most 64)`);
  }
}

/** The store reachable, the tag free, the source locked for this type and its scope resolved,
 * pg_dump's version known; any failure here is said by a failed event (there is no id yet). */
async function openForBackup(ctx: JobContext, options: CreateOptions, connection: PgConnection): Promise<{ source: SourceSession; pgDump: string }> {
  let source: SourceSession;
  try {
    await ctx.repo.ensureReady();
    if (options.tag) await refuseTagInUse(ctx, options.tag);
    source = await openSource(options.sourceUrl, connection, options.type, options);
  } catch (error) {
    await publishEarlyFailure(ctx, options.type, connection.display, error);
    throw error;
  }
  try {
    return { source, pgDump: await pgDumpVersion(ctx.redactor) };
  } catch (error) {
    await source.close();
    await publishEarlyFailure(ctx, options.type, connection.display, error);
    throw error;
  }
}

async function refuseTagInUse(ctx: JobContext, tag: string): Promise<void> {
  const entries = await listBackups(ctx.repo, ctx.prefix);
  const holder = entries.find((e) => e.manifest?.tag === tag && e.status === "completed");
  if (holder) throw refusal(`tag "${tag}" is already used by backup ${holder.id}: choose another tag`);
}

/** What a dead run of this type left (an upload it could not abort, a run without a manifest). */
async function cleanUpDeadRuns(ctx: JobContext, options: CreateOptions, connection: PgConnection, ownId: string): Promise<void> {
  try {
    const cleaned = await cleanStaleRuns(ctx, { type: options.type, database: connection.display, ownId, lockSeconds: options.lockSeconds });
    if (cleaned.abortedUploads.length > 0) ctx.log.info(`aborted ${cleaned.abortedUploads.length} incomplete upload(s) left by earlier runs: ${cleaned.abortedUploads.join(", ")}`);
    if (cleaned.failedManifests.length > 0) ctx.log.info(`marked ${cleaned.failedManifests.join(", ")} as failed: their runs died before finishing`);
  } catch (error) {
    ctx.log.warn(`could not clean up after earlier runs: ${oneLine(error)}`);
  }
}

function printResult(ctx: JobContext, manifest: BackupManifest, json: boolean | undefined): void {
  if (json) {
    ctx.log.out(JSON.stringify(manifest, null, 2));
    return;
  }
  const tables = manifest.rowCounts ? `, ${Object.keys(manifest.rowCounts).length} tables` : "";
  ctx.log.out(
    `Backup completed: ${ctx.repo.displayPath(manifest.key)}\n` +
      `  id ${manifest.id} · ${backupTypes[manifest.type].label} · ${formatBytes(manifest.sizes.stored)}${tables} · ${formatDuration(manifest.durationMs)}\n` +
      `  sha256 ${manifest.sha256}`,
  );
}
