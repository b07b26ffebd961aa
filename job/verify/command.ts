// verify: prove a backup by restoring it. The SHA-256 is checked, the dump is restored into a
// scratch database (created for this run and always dropped, also on failure) on VERIFY_DB_URL's
// server — never the source's unless --allow-source-server — and every table's row count is
// compared with the manifest's. A verified backup records the verification in its manifest and
// becomes a restore point; the newest ones are then protected by the storage.
import { randomBytes } from "node:crypto";
import zlib from "node:zlib";
import pg from "pg";
import { findBackup, isFullBackup, listBackups, writeManifest, type BackupEntry, type BackupManifest, type Verification } from "../inventory";
import { MIN_RETENTION_DAYS, objectLayout } from "../core/catalog";
import type { JobContext } from "../core/context";
import { publishEvent } from "../events";
import { CopyRowCounter } from "../postgres/copy-counter";
import { prepareDump, type PreparedDump } from "../restore";
import { DbBackupError, failure, integrityError, oneLine, refusal, usageError } from "../core/errors";
import { formatDuration } from "../core/format";
import { Sha256Tap } from "../streams";
import { timestampPart, validateBackupId } from "../core/ids";
import { connectPg, displayDatabase, pgConnection, sameServer, withDatabase } from "../postgres/connection";
import { isConnectionFailure } from "../postgres/failures";
import { quoteIdent, safeQualifiedName } from "../postgres/sql";
import { refreshRestorePoints, releaseProtection } from "../retention";
import { ensureRoles, rolesInDump } from "./roles";
import { DAY_SECONDS, MINUTE_MS, SECOND_MS } from "../core/time";

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
  refuseSourceServer(options, manifest);

  const started = ctx.clock().getTime();
  const server = serverOf(options.verifyDbUrl);
  const scratch = `dbbackup_verify_${timestampPart(ctx.clock())}_${randomBytes(3).toString("hex")}`;
  ctx.log.info(`verifying ${entry.id}: restoring into scratch database ${scratch} on ${server}`);
  let verification: Verification;
  let createdRoles: string[] = [];
  try {
    const result = await withScratchDatabase(options.verifyDbUrl, scratch, async (scratchUrl) => {
      const prepared = await prepareDump(ctx, entry);
      try {
        return await restoreAndCount(ctx, prepared, manifest, scratchUrl, options.verifyDbUrl);
      } finally {
        await prepared.dispose();
      }
    });
    createdRoles = result.createdRoles;
    verification = {
      verifiedAt: ctx.clock().toISOString(),
      durationMs: ctx.clock().getTime() - started,
      tables: Object.keys(result.rowCounts).length,
      rows: Object.values(result.rowCounts).reduce((a, b) => a + b, 0),
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

  const report: VerifyReport = { id: entry.id, verification, createdRoles, restorePoints: points.protected };
  if (options.json) ctx.log.out(JSON.stringify(report, null, 2));
  else {
    const roles = createdRoles.length > 0 ? `\n  created missing role(s) ${createdRoles.join(", ")} (NOLOGIN) on ${server}` : "";
    const released = points.released.length > 0 ? `; no longer protected: ${points.released.join(", ")}` : "";
    ctx.log.out(
      `Verified ${entry.id}: restored into a scratch database on ${server} in ${formatDuration(verification.durationMs)}; ` +
        `${verification.tables} tables, ${verification.rows} rows match the ${manifest.rowCounts ? "manifest" : "archive's data"}.${roles}\n` +
        `  restore points protected from expiry and deletion: ${points.protected.join(", ")}${released}`,
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
  if (!isFullBackup(entry.manifest)) {
    throw usageError(`backup ${entry.id} is partial (--table, --schema-only or --data-only): only full backups are verified as restore points`);
  }
  return entry.manifest;
}

function serverOf(url: string): string {
  return displayDatabase(url).replace(/\/[^/]*$/, "");
}

/** A verification must not load the source's server: it restores a whole database there. */
function refuseSourceServer(options: VerifyOptions, manifest: BackupManifest): void {
  if (options.allowSourceServer) return;
  const sources = [`postgres://${manifest.source.database}`, options.sourceUrl].filter((u): u is string => !!u);
  if (sources.some((s) => sameServer(s, options.verifyDbUrl))) {
    throw refusal(
      `VERIFY_DB_URL is on the source's server (${serverOf(options.verifyDbUrl)}): point it at another server, or add --allow-source-server to restore the scratch copy there anyway`,
    );
  }
}

async function withScratchDatabase<T>(serverUrl: string, name: string, fn: (url: string) => Promise<T>): Promise<T> {
  const admin = async <R>(run: (client: pg.Client) => Promise<R>): Promise<R> => {
    let client: pg.Client;
    try {
      client = await connectPg(serverUrl);
    } catch (error) {
      throw failure(`cannot connect to the verification server ${serverOf(serverUrl)} (VERIFY_DB_URL): ${oneLine(error)}`, error);
    }
    try {
      return await run(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  await admin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  try {
    return await fn(withDatabase(serverUrl, name));
  } finally {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)).catch(async () => {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`));
    });
  }
}

/** Checks the bytes and reads the roles (one pass), restores, then counts every table's rows. */
async function restoreAndCount(
  ctx: JobContext,
  prepared: PreparedDump,
  manifest: BackupManifest,
  scratchUrl: string,
  serverUrl: string,
): Promise<{ rowCounts: Record<string, number>; createdRoles: string[] }> {
  const { roles, rowCounts: dumped } = await scanDump(ctx, prepared, manifest);
  const expected = manifest.rowCounts ?? dumped;
  for (const [table, rows] of Object.entries(dumped)) {
    if (expected[table] !== rows) {
      throw integrityError(`the dump holds ${rows} rows for ${table}, the manifest says ${expected[table] ?? "nothing"}: the backup is not what its manifest describes`);
    }
  }
  const createdRoles = await ensureRoles(serverUrl, roles);
  const target = pgConnection(scratchUrl);
  try {
    await prepared.restore(target, { jobs: 1 });
  } catch (error) {
    if (error instanceof DbBackupError) throw error;
    const why = oneLine(error);
    if (isConnectionFailure(error)) throw failure(`the scratch restore could not reach ${serverOf(serverUrl)}: ${why}`, error);
    throw integrityError(`the backup does not restore cleanly: ${why}`);
  }
  const restored = await countTables(scratchUrl, Object.keys(expected));
  for (const [table, rows] of Object.entries(expected)) {
    if (restored[table] !== rows) throw integrityError(`row count mismatch for ${table}: ${restored[table]} restored, ${rows} in the manifest`);
  }
  return { rowCounts: restored, createdRoles };
}

/** Plain: the stored object through SHA-256 and gunzip. Custom: already checked on download. */
async function scanDump(ctx: JobContext, prepared: PreparedDump, manifest: BackupManifest): Promise<{ roles: string[]; rowCounts: Record<string, number> }> {
  if (manifest.format === "plain") {
    const source = await ctx.repo.getStream(prepared.entry.key!);
    const tap = new Sha256Tap();
    const gunzip = zlib.createGunzip();
    source.on("error", (e) => tap.destroy(e));
    tap.on("error", (e) => gunzip.destroy(e));
    source.pipe(tap).pipe(gunzip);
    let scanned: { roles: string[]; rowCounts: Record<string, number> };
    try {
      scanned = await scanSql(gunzip);
    } catch (error) {
      throw integrityError(`the stored dump is corrupt (${oneLine(error)}): checksum or compression broken`, error);
    }
    const sha = tap.digest;
    if (sha !== manifest.sha256) throw integrityError(`checksum mismatch: the object's SHA-256 is ${sha}, the manifest says ${manifest.sha256}`);
    return scanned;
  }
  return scanSql(await prepared.sql());
}

/** Roles and row counts in one pass: both read the stream's 'data' events. */
async function scanSql(sql: NodeJS.ReadableStream): Promise<{ roles: string[]; rowCounts: Record<string, number> }> {
  const counter = new CopyRowCounter();
  sql.on("data", (chunk: Buffer) => counter.push(chunk));
  const failed = new Promise<never>((_, reject) => sql.once("error", reject));
  failed.catch(() => undefined); // observed by the race; a late error must not go unhandled
  const roles = await Promise.race([rolesInDump(sql), failed]);
  if (!counter.complete) throw new Error("the dump ends inside a table's data");
  return { roles, rowCounts: counter.rowCounts };
}

async function countTables(url: string, tables: string[]): Promise<Record<string, number>> {
  const client = await connectPg(url);
  try {
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const rows = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${safeQualifiedName(table)}`);
      counts[table] = Number(rows.rows[0]!.n);
    }
    return counts;
  } finally {
    await client.end().catch(() => undefined);
  }
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
  if (!(error instanceof DbBackupError && error.kind === "integrity")) return;
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
