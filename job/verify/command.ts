// verify: prove a backup by restoring it. The dump is applied, in one pass and with the same engine
// as a restore, into a scratch database on VERIFY_DB_URL's server (scratch.ts: made for this run,
// always dropped, and dropped by the next drill if this one dies) — never the source's server
// unless --allow-source-server. The object's SHA-256 and every table's row count (as the server
// loaded it) must match the manifest before the scratch restore commits. The verdict is recorded in
// verifications/<id>/ (the drill's key alone writes there), for the exact manifest and dump versions
// it proved; a verified full backup is a restore point. Every drill, whatever it finds, extends the
// lock of the newest restore points (retention/restore-points.ts).
import type { JobContext } from "../core/context";
import { failure, integrityError, isKind, oneLine, refusal, usageError } from "../core/errors";
import { formatDuration } from "../core/format";
import { validateBackupId } from "../core/ids";
import { publishEvent } from "../events";
import {
  findBackup,
  isFullBackup,
  listBackups,
  requireKnownVersion,
  standsAlone,
  writeVerification,
  type BackupEntry,
  type BackupManifest,
  type Verification,
} from "../inventory";
import type pg from "pg";
import { connectPg, sameServer, withDatabase } from "../postgres/connection";
import { quoteIdent } from "../postgres/sql";
import { checkExtensions } from "../postgres/supabase";
import { isConnectionFailure } from "../postgres/failures";
import { identityOf } from "../postgres/identity";
import { ApplyError, prepareDump, scratchApply } from "../restore";
import { refreshRestorePoints, type RestorePointHold } from "../retention";
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
  /** The dump version to read when the backup's keys hold versions its backup did not write. */
  dumpVersion?: string;
  /** Seconds past this drill the newest restore points stay locked (RESTORE_POINT_HOLD_SECONDS). */
  restorePointHoldSeconds?: number;
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
  // First, whatever this drill finds: the restore points' locks, extended from now.
  const entries = await listBackups(ctx.repo, ctx.prefix, ctx.clock());
  await holdRestorePoints(ctx, options.restorePointHoldSeconds, entries);
  const entry = options.id !== undefined ? await findBackup(ctx.repo, ctx.prefix, options.id, ctx.clock()) : newestUnverified(entries);
  if (!entry) {
    ctx.log.out("Nothing to verify: every full backup is verified already.");
    return null;
  }
  const manifest = requireVerifiable(entry);
  requireKnownVersion(entry, options.dumpVersion);
  await refuseSourceServer(options, manifest);
  await requireExtensionsAvailable(options.verifyDbUrl, manifest);

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
            // A Supabase backup brings the platform's structure into the plain scratch database.
            ...scratchApply(manifest),
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
    await recordVerifyFailure(ctx, entry, manifest, error, { server, startedMs: started, holdSeconds: options.restorePointHoldSeconds });
    throw error;
  }

  await writeVerification(ctx.repo, ctx.prefix, {
    ...recordOf(entry, manifest),
    outcome: "passed",
    at: verification.verifiedAt,
    durationMs: verification.durationMs,
    tables: verification.tables,
    rows: verification.rows,
    server,
  });
  const points = await holdRestorePoints(ctx, options.restorePointHoldSeconds);
  await publishEvent(
    ctx,
    "verified",
    { backup: entry.id, id: entry.id, type: manifest.type, path: ctx.repo.displayPath(entry.key!), ...verification, ...(ctx.environment ? { environment: ctx.environment } : {}) },
    `${entry.id}-verified-${verification.verifiedAt}`,
  );

  const createdRoles = roles.created();
  const report: VerifyReport = { id: entry.id, verification, createdRoles, restorePoints: points.held };
  if (options.json) ctx.log.out(JSON.stringify(report, null, 2));
  else {
    const rolesLine = createdRoles.length > 0 ? `\n  created missing role(s) ${createdRoles.join(", ")} (NOLOGIN) on ${server}` : "";
    const held = points.until ? `locked until ${points.until.toISOString().slice(0, 10)}` : "not locked: the bucket has no Object Lock";
    const pointsLine = isFullBackup(manifest)
      ? `\n  restore points (${held}): ${points.held.join(", ")}`
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

/** A Supabase backup's drill makes the extensions its objects need in the scratch database, which
 * is made from template1: the verification server must have their packages, and an untrusted one
 * (which only a superuser can make) must be in template1 already: the drill makes only trusted
 * extensions, so what a backup names never makes it install code. Said up front, not as if the
 * backup were at fault. */
async function requireExtensionsAvailable(verifyDbUrl: string, manifest: BackupManifest): Promise<void> {
  const needed = manifest.contents?.platform ? (manifest.contents.extensions ?? []).filter((e) => e.needed) : [];
  if (needed.length === 0) return;
  let client: pg.Client;
  try {
    client = await connectPg(withDatabase(verifyDbUrl, "template1"));
  } catch (error) {
    throw failure(`cannot connect to the verification server ${serverOf(verifyDbUrl)}'s template1 (VERIFY_DB_URL): ${oneLine(error)}`, error);
  }
  try {
    const { missing } = await checkExtensions(client, needed);
    const unavailable = missing.filter((m) => !m.available).map((m) => m.extension.name);
    if (unavailable.length > 0) {
      throw failure(`the verification server ${serverOf(verifyDbUrl)} lacks extension ${unavailable.join(", ")}, which the backup's objects need: install its package there (the drill makes the extension in its scratch database)`);
    }
    const untrusted = missing.filter((m) => !m.trusted).map((m) => m.extension);
    if (untrusted.length > 0) {
      const e = untrusted[0]!;
      throw failure(
        `the backup's objects need extension ${e.name}, which is not a trusted extension and which the drill does not make: create it in template1 on the verification server ${serverOf(verifyDbUrl)} (CREATE EXTENSION ${quoteIdent(e.name)} WITH SCHEMA ${quoteIdent(e.schema)}, after CREATE SCHEMA ${quoteIdent(e.schema)}), so every scratch database has it`,
      );
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A drill that failed, as the one line the operator reads: a backup that does not restore is an
 * integrity failure (4); a server that could not be reached, or a stopped drill, is not (1). */
function drillFailure(error: unknown, server: string): unknown {
  if (!(error instanceof ApplyError)) return error;
  if (error.reason === "interrupted") return failure(`${error.message}; the scratch database was dropped`, error);
  if (isConnectionFailure(error.options.cause ?? error)) return failure(`the scratch restore could not reach ${server}: ${error.message}`, error);
  return integrityError(`the backup does not restore cleanly: ${error.message}`, error);
}

/** What every drill record of this backup names: the exact bytes it was about. */
function recordOf(entry: BackupEntry, manifest: BackupManifest) {
  return {
    schemaVersion: 1 as const,
    backupId: entry.id,
    type: manifest.type,
    manifestVersionId: entry.manifestVersionId,
    dumpVersionId: entry.dumpVersionId,
    sha256: manifest.sha256!,
  };
}

/** Extends the newest restore points' locks; a drill that cannot is said, not hidden. */
async function holdRestorePoints(ctx: JobContext, holdSeconds: number | undefined, entries?: BackupEntry[]): Promise<RestorePointHold> {
  try {
    const hold = await refreshRestorePoints(ctx, holdSeconds, entries);
    if (!hold.until && hold.held.length > 0) ctx.log.warn("the bucket has no Object Lock: restore points are not held against lifecycle or deletion");
    return hold;
  } catch (error) {
    throw failure(`could not extend the restore points' locks: ${oneLine(error)}`, error);
  }
}

/** Publishes verify_failed. A backup proven bad (integrity) gets a failed record, which is then its
 * newest verdict: it stops being a restore point, and the locks move to the ones left. */
async function recordVerifyFailure(
  ctx: JobContext,
  entry: BackupEntry,
  manifest: BackupManifest,
  error: unknown,
  drill: { server: string; startedMs: number; holdSeconds: number | undefined },
): Promise<void> {
  const { server, startedMs } = drill;
  const reason = ctx.redactor.redact(oneLine(error));
  await publishEvent(
    ctx,
    "verifyFailed",
    { backup: entry.id, id: entry.id, type: manifest.type, path: ctx.repo.displayPath(entry.key!), reason, ...(ctx.environment ? { environment: ctx.environment } : {}) },
    `${entry.id}-verify-failed-${ctx.clock().getTime()}`,
  );
  if (!isKind(error, "integrity")) return;
  try {
    await writeVerification(ctx.repo, ctx.prefix, {
      ...recordOf(entry, manifest),
      outcome: "failed",
      at: ctx.clock().toISOString(),
      durationMs: Math.max(0, ctx.clock().getTime() - startedMs),
      tables: 0,
      rows: 0,
      server,
      reason,
    });
    if (manifest.verification) ctx.log.warn(`${entry.id} is no longer a verified restore point: this drill's failure is its newest verdict`);
    await refreshRestorePoints(ctx, drill.holdSeconds);
  } catch (cleanup) {
    ctx.log.warn(`could not record ${entry.id}'s failed drill: ${oneLine(cleanup)}`);
  }
}
