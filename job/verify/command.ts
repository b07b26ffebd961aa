// verify: prove a backup by restoring it. The dump is applied, in one pass and with the same engine
// as a restore, into a scratch database on VERIFY_DB_URL's server (scratch.ts: made for this run,
// always dropped, and dropped by the next drill if this one dies) — never the source's server
// unless --allow-source-server. The object's SHA-256 and every table's row count (as the server
// loaded it) must match the manifest before the scratch restore commits. A verified full backup is
// recorded in its manifest and becomes a restore point; the newest ones are then protected.
import { MIN_RETENTION_DAYS, objectLayout } from "../core/catalog";
import type { JobContext } from "../core/context";
import { failure, integrityError, isKind, oneLine, refusal, usageError } from "../core/errors";
import { formatDuration } from "../core/format";
import { validateBackupId } from "../core/ids";
import { DAY_SECONDS, MINUTE_MS, SECOND_MS } from "../core/time";
import { publishEvent } from "../events";
import { findBackup, isFullBackup, listBackups, standsAlone, writeManifest, type BackupEntry, type BackupManifest, type Verification } from "../inventory";
import { sameServer } from "../postgres/connection";
import { isConnectionFailure } from "../postgres/failures";
import { identityOf } from "../postgres/identity";
import { ApplyError, prepareDump } from "../restore";
import { refreshRestorePoints, releaseProtection } from "../retention";
import { roleKeeper } from "./roles";
import { serverOf, withScratchDatabase } from "./scratch";

export interface VerifyOptions {
  /** Default: the newest full backup not verified yet. */
  id?: string;
  /** The server scratch databases are made on (VERIFY_DB_URL). */
  verifyDbUrl: string;
  /** The source database (SUPABASE_DB_URL), when known: its server is refused too. */
  sourceUrl?: string;
  allowSourceServer?: boolean;
  /** Seconds the rewritten manifest stays locked after the backup was taken (BACKUP_LOCK_SECONDS). */
  lockSeconds?: number;
  /** Seconds a statement of the scratch restore waits for a lock. */
  lockTimeoutSeconds?: number;
  json?: boolean;
}

export interface VerifyReport {
  id: string;
  verification: Verification;
  createdRoles: string[];
  restorePoints: string[];
}

export async function verifyAction(ctx: JobContext, options: VerifyOptions): Promise<VerifyReport | null> {
  if (options.id !== undefined) validateBackupId(options.id);
  ctx.redactor.addUrl(options.verifyDbUrl);
  await ctx.repo.ensureReady();
  const entry = options.id !== undefined ? await findBackup(ctx.repo, ctx.prefix, options.id) : newestUnverified(await listBackups(ctx.repo, ctx.prefix));
  if (!entry) {
    ctx.log.out("Nothing to verify: every full backup is verified already.");
    return null;
  }
  const manifest = requireVerifiable(entry);
  await refuseSourceServer(options, manifest);

  const started = ctx.clock().getTime();
  const server = serverOf(options.verifyDbUrl);
  let verification: Verification;
  const roles = roleKeeper();
  try {
    const rowCounts = await withScratchDatabase(
      options.verifyDbUrl,
      ctx.clock(),
      async (scratchUrl, scratch) => {
        ctx.log.info(`verifying ${entry.id}: restoring into scratch database ${scratch} on ${server}`);
        const prepared = await prepareDump(ctx, entry);
        try {
          const outcome = await prepared.apply(scratchUrl, {
            jobs: 1,
            lockTimeoutSeconds: options.lockTimeoutSeconds ?? 60,
            beforeStatement: roles.ensure,
          });
          return outcome.rowCounts;
        } finally {
          await prepared.dispose();
        }
      },
      (leftovers) => ctx.log.info(`dropped scratch database(s) left by drills that died: ${leftovers.join(", ")}`),
    ).catch((error: unknown) => {
      throw drillFailure(error, server);
    });
    verification = {
      verifiedAt: ctx.clock().toISOString(),
      durationMs: ctx.clock().getTime() - started,
      tables: Object.keys(rowCounts).length,
      rows: Object.values(rowCounts).reduce((a, b) => a + b, 0),
      server,
    };
  } catch (error) {
    await recordVerifyFailure(ctx, entry, manifest, error, options);
    throw error;
  }

  await rewriteManifest(ctx, { ...manifest, verification }, options.lockSeconds);
  const points = await refreshRestorePoints(ctx);
  await publishEvent(
    ctx,
    "verified",
    { backup: entry.id, id: entry.id, type: manifest.type, path: ctx.repo.displayPath(entry.key!), ...verification, ...(ctx.environment ? { environment: ctx.environment } : {}) },
    `${entry.id}-verified-${verification.verifiedAt}`,
  );

  const createdRoles = roles.created();
  const report: VerifyReport = { id: entry.id, verification, createdRoles, restorePoints: points.protected };
  if (options.json) ctx.log.out(JSON.stringify(report, null, 2));
  else {
    const rolesLine = createdRoles.length > 0 ? `\n  created missing role(s) ${createdRoles.join(", ")} (NOLOGIN) on ${server}` : "";
    const released = points.released.length > 0 ? `; no longer protected: ${points.released.join(", ")}` : "";
    const pointsLine = isFullBackup(manifest)
      ? `\n  restore points protected from expiry and deletion: ${points.protected.join(", ")}${released}`
      : "\n  a partial backup is never a restore point; it may now be restored with --clean";
    ctx.log.out(
      `Verified ${entry.id}: restored into a scratch database on ${server} in ${formatDuration(verification.durationMs)}; ` +
        `${verification.tables} tables, ${verification.rows} rows match the ${manifest.rowCounts ? "manifest" : "archive's data"}.${rolesLine}${pointsLine}`,
    );
  }
  return report;
}

function newestUnverified(entries: BackupEntry[]): BackupEntry | undefined {
  return entries.find((e) => e.status === "completed" && e.manifest && isFullBackup(e.manifest) && !e.manifest.verification);
}

function requireVerifiable(entry: BackupEntry): BackupManifest {
  if (entry.status === "legacy" || !entry.manifest) {
    throw usageError(`backup ${entry.id} is a legacy dump without manifest: there is nothing to verify it against`);
  }
  if (entry.status === "invalid") throw integrityError(`backup ${entry.id} cannot be trusted: ${entry.problem}`);
  if (entry.status !== "completed") throw usageError(`backup ${entry.id} is ${entry.status}: only completed backups can be verified`);
  if (!standsAlone(entry.manifest)) {
    throw usageError(
      `backup ${entry.id} holds ${entry.manifest.scope.dataOnly ? "only data" : "single tables (--table)"}: it needs what the rest of its database holds to load, so it cannot be verified on its own; restore it into a database that has that (the restore checks its SHA-256 and every row count before it commits)`,
    );
  }
  return entry.manifest;
}

/** A verification must not load the source's server: it restores a whole database there. The
 * servers are compared by what they say (their system identifiers) when the manifest recorded the
 * source's, else by their addresses. */
async function refuseSourceServer(options: VerifyOptions, manifest: BackupManifest): Promise<void> {
  if (options.allowSourceServer) return;
  const refuse = () =>
    refusal(`VERIFY_DB_URL is on the source's server (${serverOf(options.verifyDbUrl)}): point it at another server, or add --allow-source-server to restore the scratch copy there anyway`);
  if (manifest.source.systemId) {
    const scratchServer = await identityOf(options.verifyDbUrl).catch((error: unknown) => {
      throw failure(`cannot connect to the verification server ${serverOf(options.verifyDbUrl)} (VERIFY_DB_URL): ${oneLine(error)}`, error);
    });
    if (scratchServer.systemId === manifest.source.systemId) throw refuse();
    return;
  }
  const sources = [options.sourceUrl].filter((u): u is string => !!u);
  if (sources.some((s) => sameServer(s, options.verifyDbUrl))) throw refuse();
}

/** A drill that failed, as the one line the operator reads: a backup that does not restore is an
 * integrity failure (4); a server that could not be reached, or a stopped drill, is not (1). */
function drillFailure(error: unknown, server: string): unknown {
  if (!(error instanceof ApplyError)) return error;
  if (error.reason === "interrupted") return failure(`${error.message}; the scratch database was dropped`, error);
  if (isConnectionFailure(error.options.cause ?? error)) return failure(`the scratch restore could not reach ${server}: ${error.message}`, error);
  return integrityError(`the backup does not restore cleanly: ${error.message}`, error);
}

/** Writes a new manifest version. The old version is given back to lifecycle first (restore-point
 * protection is per version; a held, untagged old version would never expire), and the new one is
 * locked for what is left of the backup's lock. */
async function rewriteManifest(ctx: JobContext, manifest: BackupManifest, lockSeconds: number | undefined): Promise<void> {
  const key = objectLayout.manifestKey(ctx.prefix, manifest.type, manifest.id);
  await releaseProtection(ctx, key);
  await writeManifest(ctx.repo, key, manifest);
  const until = new Date(new Date(manifest.finishedAt).getTime() + (lockSeconds ?? MIN_RETENTION_DAYS * DAY_SECONDS) * SECOND_MS);
  // A lock ending within the minute protects nothing, and the server refuses a date already past.
  if (until.getTime() - ctx.clock().getTime() > MINUTE_MS) await ctx.repo.lockUntil(key, until);
}

/** Publishes verify_failed. A backup proven bad (integrity) stops being a restore point. */
async function recordVerifyFailure(ctx: JobContext, entry: BackupEntry, manifest: BackupManifest, error: unknown, options: VerifyOptions): Promise<void> {
  const reason = ctx.redactor.redact(oneLine(error));
  await publishEvent(
    ctx,
    "verifyFailed",
    { backup: entry.id, id: entry.id, type: manifest.type, path: ctx.repo.displayPath(entry.key!), reason, ...(ctx.environment ? { environment: ctx.environment } : {}) },
    `${entry.id}-verify-failed-${ctx.clock().getTime()}`,
  );
  if (!isKind(error, "integrity")) return;
  try {
    if (entry.key) await releaseProtection(ctx, entry.key);
    if (manifest.verification) {
      const { verification: _dropped, ...unverified } = manifest;
      await rewriteManifest(ctx, unverified, options.lockSeconds);
      ctx.log.warn(`${entry.id} is no longer a verified restore point: its earlier verification was removed`);
    }
    await refreshRestorePoints(ctx);
  } catch (cleanup) {
    ctx.log.warn(`could not withdraw ${entry.id} as a restore point: ${oneLine(cleanup)}`);
  }
}
