// create: pg_dump → gzip → SHA-256 → upload, then the manifest, then `latest`, then the event.
// Nothing becomes `latest` and no manifest claims success unless the upload completed and its
// checksum is recorded; a failure leaves a `failed` manifest (no dump) and a failed event.
import {
  BACKUP_TYPES,
  EXPIRY_TAG,
  MIN_RETENTION_DAYS,
  SHA256_TAG,
  backupTypes,
  objectLayout,
  type BackupType,
  type DumpFormat,
} from "../core/catalog";
import type { JobContext } from "../core/context";
import { pgDumpVersion, startDump } from "./dump";
import { DbBackupError, oneLine, usageError } from "../core/errors";
import { formatBytes, formatDuration } from "../core/format";
import { TAG_PATTERN, newBackupId } from "../core/ids";
import { MANIFEST_SCHEMA_VERSION, isFullBackup, serializeManifest, type BackupManifest, listBackups } from "../inventory";
import { pgConnection } from "../postgres/connection";
import { openSource, type ScopeRequest, type SourceSession } from "./source";
import { cleanStaleRuns } from "./stale-runs";

export interface CreateOptions extends ScopeRequest {
  sourceUrl: string;
  type: BackupType;
  tag?: string;
  format: DumpFormat;
  compressionLevel: number;
  backupName: string;
  /** Seconds each successful backup is locked for on a bucket with Object Lock. */
  lockSeconds?: number;
  /** False for a restore's safety backup of its target: `latest` stays the source's newest backup. */
  updateLatest?: boolean;
  json?: boolean;
}

export async function createBackup(ctx: JobContext, options: CreateOptions): Promise<BackupManifest> {
  const { repo, prefix, log, redactor } = ctx;
  if (!BACKUP_TYPES.includes(options.type)) throw usageError(`unknown backup type "${options.type}": use one of ${BACKUP_TYPES.join(", ")}`);
  if (options.type === "pre_migration" && !options.tag) {
    throw usageError("a pre_migration backup needs --tag <name> (e.g. --tag before_v2_schema)");
  }
  if (options.tag !== undefined && !TAG_PATTERN.test(options.tag)) {
    throw usageError(`tag "${options.tag}" is invalid: use letters, digits, _ and - (at most 64)`);
  }
  redactor.addUrl(options.sourceUrl);
  const connection = pgConnection(options.sourceUrl);
  let source: SourceSession;
  let pgDump: string;
  try {
    await repo.ensureReady();
    if (options.tag) await refuseTagInUse(ctx, options.tag);
    source = await openSource(options.sourceUrl, connection, options.type, options);
  } catch (error) {
    await publishEarlyFailure(ctx, options.type, connection.display, error);
    throw error;
  }
  const startedAt = ctx.clock();
  try {
    pgDump = await pgDumpVersion(redactor);
  } catch (error) {
    await source.close();
    await publishEarlyFailure(ctx, options.type, connection.display, error);
    throw error;
  }
  const baseFor = (id: string) => ({
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    id,
    type: options.type,
    ...(options.tag ? { tag: options.tag } : {}),
    ...(ctx.environment ? { environment: ctx.environment } : {}),
    key: objectLayout.dumpKey(prefix, options.type, id, options.format),
    format: options.format,
    compression: options.format === "plain" ? ("gzip" as const) : ("pg_custom" as const),
    scope: source.scope,
    source: { database: connection.display, serverVersion: source.serverVersion, pgDumpVersion: pgDump },
    options: { compressionLevel: options.compressionLevel },
    startedAt: startedAt.toISOString(),
    toolVersion: ctx.toolVersion,
  });
  // The id is taken by writing a "running" manifest while holding a lock on the source, so two
  // runs (of any type) starting in the same second never share an id.
  let base: ReturnType<typeof baseFor>;
  try {
    base = await source.exclusive(async () => {
      const id = await newBackupId(options.backupName, startedAt, async (candidate) => {
        for (const type of BACKUP_TYPES) {
          if (await repo.stat(objectLayout.manifestKey(prefix, type, candidate))) return true;
        }
        return false;
      });
      const reserved = baseFor(id);
      await writeManifest(ctx, objectLayout.manifestKey(prefix, options.type, id), {
        ...reserved,
        status: "running",
        sizes: { stored: 0, dumped: null },
        sha256: null,
        rowCounts: null,
        finishedAt: reserved.startedAt,
        durationMs: 0,
      });
      return reserved;
    });
  } catch (error) {
    await source.close();
    await publishEarlyFailure(ctx, options.type, connection.display, error);
    throw error;
  }
  const { id, key } = base;
  const manifestKey = objectLayout.manifestKey(prefix, options.type, id);
  log.info(`creating ${options.type} backup ${id} of ${connection.display} → ${repo.displayPath(key)}`);
  // What a dead run of this type left (an upload it could not abort, a manifest stuck at running).
  try {
    const cleaned = await cleanStaleRuns(ctx, options.type, connection.display, id);
    if (cleaned.abortedUploads.length > 0) log.info(`aborted ${cleaned.abortedUploads.length} incomplete upload(s) left by earlier runs: ${cleaned.abortedUploads.join(", ")}`);
    if (cleaned.failedManifests.length > 0) log.info(`marked ${cleaned.failedManifests.join(", ")} as failed: their runs died before finishing`);
  } catch (error) {
    log.warn(`could not clean up after earlier runs: ${oneLine(error)}`);
  }

  let manifest: BackupManifest;
  try {
    const dump = startDump({ connection, scope: source.scope, format: options.format, compressionLevel: options.compressionLevel, redactor });
    const progress = log.progress;
    if (progress) {
      let bytes = 0;
      const t0 = Date.now();
      dump.output.on("data", (c: Buffer) => {
        bytes += c.length;
        progress(`${id}: ${formatBytes(bytes)} uploaded, ${formatBytes(bytes / Math.max(0.001, (Date.now() - t0) / 1000))}/s`);
      });
    }
    const { size } = await repo.putStream(key, dump.output, options.format === "plain" ? "application/gzip" : "application/octet-stream");
    const result = dump.result();
    if (size !== result.storedBytes) throw new Error(`uploaded ${size} bytes but the dump produced ${result.storedBytes}`);
    const finishedAt = ctx.clock();
    manifest = {
      ...base,
      status: "completed",
      sizes: { stored: result.storedBytes, dumped: result.dumpedBytes },
      sha256: result.sha256,
      rowCounts: result.rowCounts,
      finishedAt: finishedAt.toISOString(),
      durationMs: Math.max(0, finishedAt.getTime() - startedAt.getTime()),
    };
    await writeManifest(ctx, manifestKey, manifest);
    await repo.setTags(key, { [SHA256_TAG]: result.sha256, [EXPIRY_TAG.key]: EXPIRY_TAG.value });
    if (options.format === "plain" && isFullBackup(manifest) && options.updateLatest !== false) {
      await repo.copy(key, objectLayout.latestKey(prefix));
    }
  } catch (error) {
    await source.close();
    await recordFailure(ctx, { ...base, key, manifestKey }, error);
    throw error;
  }
  await source.close();

  const outcome = await ctx.events.publish(
    "completed",
    {
      backup: id,
      path: repo.displayPath(key),
      id,
      type: manifest.type,
      ...(manifest.tag ? { tag: manifest.tag } : {}),
      ...(ctx.environment ? { environment: ctx.environment } : {}),
      database: connection.display,
      size: manifest.sizes.stored,
      sha256: manifest.sha256,
      durationMs: manifest.durationMs,
    },
    id,
  );
  if (!outcome.delivered && ctx.events.configured) log.warn(`event ${outcome.subject} was not delivered: ${outcome.error}`);
  manifest = { ...manifest, notification: outcome };
  await writeManifest(ctx, manifestKey, manifest);

  // Storage enforces "no delete younger than 7 days" too, where the bucket has Object Lock.
  // Each date is taken just before its call, so a lock of a few seconds (tests) is never already past.
  const lockSeconds = options.lockSeconds ?? MIN_RETENTION_DAYS * 86400;
  for (const locked of [key, manifestKey]) await repo.lockUntil(locked, new Date(ctx.clock().getTime() + lockSeconds * 1000));

  if (options.json) log.out(JSON.stringify(manifest, null, 2));
  else {
    const tables = manifest.rowCounts ? `, ${Object.keys(manifest.rowCounts).length} tables` : "";
    log.out(
      `Backup completed: ${repo.displayPath(key)}\n` +
        `  id ${id} · ${backupTypes[manifest.type].label} · ${formatBytes(manifest.sizes.stored)}${tables} · ${formatDuration(manifest.durationMs)}\n` +
        `  sha256 ${manifest.sha256}`,
    );
  }
  return manifest;
}

/** A failure before the backup had an id (store or database unreachable, wrong credentials, bad
 * scope): no manifest can say it, so the failed event does. Refusals (another run holds the lock,
 * tag in use) are not failures: the other run, or the caller, owns the outcome. */
async function publishEarlyFailure(ctx: JobContext, type: BackupType, database: string, error: unknown): Promise<void> {
  if (error instanceof DbBackupError && error.kind === "refused") return;
  const reason = ctx.redactor.redact(oneLine(error));
  const at = ctx.clock();
  const outcome = await ctx.events.publish(
    "failed",
    { backup: null, id: null, type, database, reason, failedAt: at.toISOString(), ...(ctx.environment ? { environment: ctx.environment } : {}) },
    `failed-${type}-${at.getTime()}-${process.pid}`,
  );
  if (!outcome.delivered && ctx.events.configured) ctx.log.warn(`event ${outcome.subject} was not delivered: ${outcome.error}`);
}

async function refuseTagInUse(ctx: JobContext, tag: string): Promise<void> {
  const entries = await listBackups(ctx.repo, ctx.prefix);
  const holder = entries.find((e) => e.manifest?.tag === tag && e.status === "completed");
  if (holder) throw new DbBackupError("refused", `tag "${tag}" is already used by backup ${holder.id}: choose another tag`);
}

async function recordFailure(
  ctx: JobContext,
  base: Omit<BackupManifest, "status" | "sizes" | "sha256" | "rowCounts" | "finishedAt" | "durationMs"> & { manifestKey: string },
  error: unknown,
): Promise<void> {
  const { manifestKey, ...rest } = base;
  const reason = ctx.redactor.redact(oneLine(error));
  const finishedAt = ctx.clock();
  const outcome = await ctx.events.publish(
    "failed",
    { backup: rest.id, id: rest.id, type: rest.type, database: rest.source.database, reason, ...(ctx.environment ? { environment: ctx.environment } : {}) },
    `${rest.id}-failed`,
  );
  if (!outcome.delivered && ctx.events.configured) ctx.log.warn(`event ${outcome.subject} was not delivered: ${outcome.error}`);
  const failed: BackupManifest = {
    ...rest,
    status: "failed",
    error: reason,
    sizes: { stored: 0, dumped: null },
    sha256: null,
    rowCounts: null,
    finishedAt: finishedAt.toISOString(),
    durationMs: Math.max(0, finishedAt.getTime() - new Date(rest.startedAt).getTime()),
    notification: outcome,
  };
  try {
    await writeManifest(ctx, manifestKey, failed);
  } catch {
    /* the store itself may be what failed; the error below says so */
  }
}

/** Every manifest version is tagged for expiry, like its dump, so lifecycle removes both. */
async function writeManifest(ctx: JobContext, key: string, manifest: BackupManifest): Promise<void> {
  await ctx.repo.putBytes(key, serializeManifest(manifest));
  await ctx.repo.setTags(key, { [EXPIRY_TAG.key]: EXPIRY_TAG.value });
}
