// restore: find the backup, run every safety check, then apply it in one transaction that only the
// job commits, after the object's SHA-256 and every table's row count matched. Every check runs
// before anything is written, and a refused restore changes neither the target nor the bucket. A
// production target (the servers say it is production's database, or it is named so, or its
// environment is unknown) also needs an approver, the backup id repeated with --confirm, a verified
// backup, and a safety backup of the target taken just before.
import { firstFailure, renderChecks, type GateCheck } from "../core/checks";
import type { JobContext } from "../core/context";
import { DbBackupError, failure, isKind, oneLine, refusal } from "../core/errors";
import { formatBytes, formatDuration } from "../core/format";
import { isAutoBackupId, timestampPart, validateBackupId } from "../core/ids";
import { given } from "../core/settings";
import { createBackup } from "../backup";
import { publishEvent } from "../events";
import { findBackup, requireRestorable, unusedTag } from "../inventory";
import { pgConnection, type PgConnection } from "../postgres/connection";
import { isConnectionFailure } from "../postgres/failures";
import { formatIdentity } from "../postgres/identity";
import { isVerified } from "../retention";
import { ApplyError } from "./apply";
import { cleanNeeded, gateChecks, overwriteCheck, plannedSteps, type Decision, type GateInput } from "./checks";
import { cleanPostamble, cleanPreamble } from "./clean";
import { prepareDump, type PreparedDump } from "./contents";
import { identifyForGate, targetEnvironment } from "./gate";
import { inspectTarget, restoreFootprint, type TargetInspection } from "./inspect";
import { neededExtensions, platformChecks, platformPlan, recordedPlatform } from "./platform";
import { LOCK_TIMEOUT_SQLSTATE, watchLockWaits } from "./locks";
import { claimRequest, writeRequest, type RestoreRequestRecord } from "./requests";
import { resolveTarget } from "./target";
import type { RestorePlan, RestoreOptions, RestoreReport } from "./types";

export async function restoreAction(ctx: JobContext, options: RestoreOptions): Promise<RestoreReport | RestorePlan> {
  validateBackupId(options.id);
  if (isAutoBackupId(options.id)) throw refusal(autoRestorePointer(options.id, options.settings.supabaseProjectId));
  const decision: Decision = {
    approvedBy: given(options.approvedBy),
    confirm: given(options.confirm),
    reason: given(options.reason),
    requestId: given(options.requestId),
  };
  if (decision.requestId !== undefined) validateBackupId(decision.requestId, "request id");
  const target = resolveTarget(options.target, options.settings.targetUrls);
  ctx.redactor.addUrl(target.url);
  const connection = pgConnection(target.url);
  const entry = await findBackup(ctx.repo, ctx.prefix, options.id);
  requireRestorable(entry, options.allowUnverified ?? false, options.dumpVersion);

  // Which environment the target is in, from what the servers say (read only). The gate's checks
  // need nothing else: a refused production restore reads no dump and touches nothing.
  const { productionId, productionUrl, sourceUrl } = options.settings;
  const identities = await identifyForGate({ targetUrl: target.url, productionId, productionUrl, sourceUrl });
  const environment = targetEnvironment({ target, targetEnvFlag: given(options.targetEnv), runEnvironment: ctx.environment, identities });
  // Two production restores of one store in the same second must not share a safety tag.
  const safetyBase = `pre_restore_${timestampPart(ctx.clock())}`;
  const safetyTag = environment.production && !options.skipSafetyBackup ? await unusedTag(ctx.repo, ctx.prefix, safetyBase) : safetyBase;
  const gate = await gateChecks(ctx, { entry, options, decision, environment, safetyTag });
  if (!options.dryRun && firstFailure(gate)) throw refusal(firstFailure(gate)!.detail);

  const prepared = await prepareDump(ctx, entry);
  try {
    let inspection: TargetInspection | undefined;
    let inspectionError: unknown;
    try {
      const platform = recordedPlatform(entry.manifest);
      inspection = await inspectTarget(target.url, connection.display, restoreFootprint(prepared.contents, entry.manifest?.scope ?? null, platform), {
        platform,
        neededExtensions: platform ? neededExtensions(entry.manifest) : [],
      });
    } catch (error) {
      if (!options.dryRun) throw error;
      inspectionError = error;
    }
    const targetChecks = inspection
      ? [overwriteCheck({ entry, options, inspection, display: connection.display }, isVerified(entry)), ...supabaseChecks(options, inspection)]
      : [{ check: "overwrite", ok: false, detail: `cannot look at the target: ${oneLine(inspectionError)}` }];
    // In the order a person reads them: who and what, then the target, then the way back.
    const at = gate.findIndex((c) => c.check === "safety backup" || c.check === "request");
    const checks = at < 0 ? [...gate, ...targetChecks] : [...gate.slice(0, at), ...targetChecks, ...gate.slice(at)];
    // The same refusal as without --dry-run: a gate check's before the target's.
    const failed = firstFailure(gate) ?? firstFailure(targetChecks);
    if (options.dryRun) {
      const steps = inspection ? plannedSteps(entry, options, environment, inspection, safetyTag) : [];
      const plan: RestorePlan = { id: entry.id, target: connection.display, dryRun: true, environment: environment.name, production: environment.production, checks, steps };
      if (options.json) ctx.log.out(JSON.stringify(plan, null, 2));
      else {
        const identity = "identity" in identities.target ? `\n  target identity: ${formatIdentity(identities.target.identity)} (system identifier/database)` : "";
        ctx.log.out(
          `Restore ${entry.id} into ${connection.display} (dry run)${identity}\n${renderChecks(checks)}\n` +
            (failed ? "  it would be refused.\n" : `  it would:\n${steps.map((s) => `    - ${s}`).join("\n")}\n`) +
            "Dry run: nothing was changed.",
        );
      }
      if (inspectionError) throw inspectionError;
      if (failed) throw refusal(failed.detail);
      return plan;
    }
    if (failed) throw refusal(failed.detail);
    return await runRestore(ctx, { entry, options, decision, environment, inspection: inspection!, prepared, connection, targetUrl: target.url, safetyTag });
  } finally {
    await prepared.dispose();
  }
}

interface RunInput extends GateInput {
  inspection: TargetInspection;
  prepared: PreparedDump;
  connection: PgConnection;
  targetUrl: string;
}

async function runRestore(ctx: JobContext, input: RunInput): Promise<RestoreReport> {
  const { entry, options, decision, environment, inspection, prepared, connection } = input;
  const started = ctx.clock();
  // What the request record and every event of this restore say, written once.
  const about = {
    backup: entry.id,
    id: entry.id,
    type: entry.type,
    target: connection.display,
    targetEnvironment: environment.name,
    production: environment.production,
    approvedBy: decision.approvedBy ?? null,
    reason: decision.reason ?? null,
    ...(decision.requestId ? { requestId: decision.requestId } : {}),
    ...(ctx.environment ? { environment: ctx.environment } : {}),
  };
  const record = (changes: Partial<RestoreRequestRecord>): RestoreRequestRecord => ({
    requestId: decision.requestId!,
    backupId: entry.id,
    target: connection.display,
    targetEnvironment: environment.name,
    approvedBy: about.approvedBy,
    reason: about.reason,
    status: "running",
    startedAt: started.toISOString(),
    finishedAt: null,
    safetyBackup: null,
    error: null,
    ...changes,
  });
  if (decision.requestId) await claimRequest(ctx, record({}));

  let safetyBackup: string | null = null;
  let announced = false;
  const locks = watchLockWaits(input.targetUrl, ctx.log);
  try {
    if (environment.production && !options.skipSafetyBackup) safetyBackup = await takeSafetyBackup(ctx, input);
    if (decision.requestId) await writeRequest(ctx, record({ safetyBackup }));
    await publishEvent(ctx, "restoreStarted", { ...about, safetyBackup }, `${entry.id}-restore-started-${started.getTime()}`);
    announced = true;
    const clean = options.clean === true && cleanNeeded(inspection);
    const cleaned = clean ? (inspection.footprint.mode === "schemas" ? [...inspection.existingSchemas, ...(inspection.platform?.filledTables ?? [])] : inspection.occupied) : [];
    if (clean) ctx.log.info(`--clean: replacing ${cleaned.join(", ")} in ${connection.display}, inside the restore's transaction`);
    ctx.log.info(`restoring ${entry.id} (${formatBytes(entry.size)}) into ${connection.display}`);
    const platform = recordedPlatform(entry.manifest);
    const plan = platform && inspection.platform ? platformPlan(platform, inspection.platform, { clean, createExtensions: extensionsToMake(options, inspection) }) : null;
    if (plan && plan.madeSchemas.length > 0) ctx.log.info(`the target has no Supabase platform: making ${plan.madeSchemas.join(", ")} from the backup`);
    const preamble = [...(plan?.extensions ?? []), ...(clean ? cleanPreamble(inspection, prepared.contents) : []), ...(plan?.clean ?? [])];
    const outcome = await prepared
      .apply(input.targetUrl, {
        jobs: options.jobs ?? 1,
        preamble: preamble.length > 0 ? preamble : undefined,
        postamble: [...(plan?.postamble ?? []), ...(clean ? cleanPostamble(inspection) : [])],
        // Rows loaded into tables that already exist must not fire their triggers; a Supabase
        // backup's never do (the platform's tables have triggers of their own).
        withoutTriggers: inspection.footprint.mode === "data" || plan !== null,
        ...(plan ? { sendsEntry: plan.sends } : {}),
        lockTimeoutSeconds: options.settings.lockTimeoutSeconds,
        onSession: (pid) => locks.watch(pid),
      })
      .catch(async (error: unknown) => {
        throw restoreFailure(error, connection.display, options.settings.lockTimeoutSeconds, isLockTimeout(error) ? await locks.blockers() : []);
      });
    const report: RestoreReport = {
      id: entry.id,
      target: connection.display,
      ...outcome,
      durationMs: ctx.clock().getTime() - started.getTime(),
      environment: environment.name,
      production: environment.production,
      approvedBy: decision.approvedBy ?? null,
      reason: decision.reason ?? null,
      safetyBackup,
      requestId: decision.requestId ?? null,
      cleaned,
    };
    await publishEvent(ctx, "restored", { ...about, safetyBackup, sha256: outcome.sha256, durationMs: report.durationMs }, `${entry.id}-restored-${started.getTime()}`);
    if (decision.requestId) await writeRequest(ctx, record({ safetyBackup, status: "completed", finishedAt: ctx.clock().toISOString() }));
    if (options.json) ctx.log.out(JSON.stringify(report, null, 2));
    else {
      const counts = report.checkedTables > 0 ? `, row counts of ${report.checkedTables} tables match the manifest` : "";
      const safety = safetyBackup ? `\n  safety backup of the target before the restore: ${safetyBackup} (restore it to go back)` : "";
      ctx.log.out(`Restored ${entry.id} into ${connection.display} in ${formatDuration(report.durationMs)} (${formatBytes(report.bytes)}, sha256 verified${counts}).${safety}`);
    }
    return report;
  } catch (error) {
    const why = ctx.redactor.redact(oneLine(error));
    if (announced) await publishEvent(ctx, "restoreFailed", { ...about, safetyBackup, error: why }, `${entry.id}-restore-failed-${started.getTime()}`);
    if (decision.requestId) await writeRequest(ctx, record({ safetyBackup, status: "failed", finishedAt: ctx.clock().toISOString(), error: why })).catch(() => undefined);
    throw error;
  } finally {
    await locks.stop();
  }
}

/** A Supabase backup's own checks: the target's platform and extensions, and no parallel restore
 * (the platform's parts are chosen per statement, in one transaction). */
function supabaseChecks(options: RestoreOptions, inspection: TargetInspection): GateCheck[] {
  if (!inspection.platform) return [];
  const checks = platformChecks(inspection.platform, inspection.extensions ?? { present: [], missing: [] }, { createExtensions: options.createExtensions === true });
  if ((options.jobs ?? 1) > 1) {
    checks.unshift({ check: "parallel", ok: false, detail: `a Supabase backup restores in one transaction (its platform parts are chosen for the target): use --jobs 1` });
  }
  return checks;
}

/** The needed extensions the job makes, with --create-extensions: the ones the target's server has. */
function extensionsToMake(options: RestoreOptions, inspection: TargetInspection) {
  if (!options.createExtensions) return [];
  return (inspection.extensions?.missing ?? []).filter((m) => m.available && m.trusted && m.installedIn === null).map((m) => m.extension);
}

const isLockTimeout = (error: unknown) => error instanceof ApplyError && error.options.sqlstate === LOCK_TIMEOUT_SQLSTATE;

/** A failed apply as the one line the operator reads, with the exit code of its kind. The dump's
 * own faults (checksum, a cut or forged script, row counts) are integrity errors already. */
function restoreFailure(error: unknown, display: string, lockTimeoutSeconds: number, blockers: string[]): unknown {
  if (error instanceof DbBackupError || !(error instanceof ApplyError)) return error;
  if (error.reason === "denied") return refusal(`${error.message}; nothing was committed`, error);
  if (error.reason === "interrupted") return failure(error.message, error);
  if (isLockTimeout(error)) {
    const held = blockers.length > 0 ? `held by ${blockers.join("; ")}` : "held by another session";
    return failure(
      `the restore waited ${lockTimeoutSeconds} s for a lock on ${display} and gave up (RESTORE_LOCK_TIMEOUT_SECONDS): ${held}; end that transaction (or SELECT pg_terminate_backend(<pid>)) and restore again; nothing was committed`,
      error,
    );
  }
  if (isConnectionFailure(error.options.cause ?? error)) return failure(`the connection to ${display} failed during the restore (${error.message}); nothing was committed`, error);
  return failure(`the restore into ${display} failed: ${error.message}; nothing was committed`, error);
}

/** A pre_migration backup of the target, so the restore can be undone. If it fails, nothing is
 * restored: --skip-safety-backup --reason is the way past a target too broken to back up. */
async function takeSafetyBackup(ctx: JobContext, input: RunInput): Promise<string> {
  const settings = input.options.settings.safetyBackup;
  ctx.log.info(`taking a safety backup of ${input.connection.display} (pre_migration, tag ${input.safetyTag}) before the restore`);
  const quiet: JobContext = {
    ...ctx,
    environment: input.environment.name ?? ctx.environment,
    log: { ...ctx.log, out: (text) => ctx.log.info(text.trimEnd()) },
  };
  try {
    const manifest = await createBackup(quiet, {
      sourceUrl: input.targetUrl,
      type: "pre_migration",
      tag: input.safetyTag,
      schemas: [],
      tables: [],
      schemaOnly: false,
      dataOnly: false,
      noAcl: false,
      format: "plain",
      compressionLevel: settings.compressionLevel,
      backupName: settings.backupName,
      lockSeconds: settings.lockSeconds,
      updateLatest: false,
    });
    return manifest.id;
  } catch (error) {
    throw new DbBackupError(
      isKind(error) ? error.kind : "failed",
      `the safety backup of ${input.connection.display} failed, so nothing was restored (${oneLine(error)}); if the target is too broken to back up, add --skip-safety-backup --reason "<why>"`,
      { cause: error },
    );
  }
}

/** One line for a refused restore of an Auto id: where Supabase restores it. */
function autoRestorePointer(id: string, projectId: string | undefined): string {
  const project = projectId ? `project ${projectId}` : "your project";
  return `${id} is a Supabase-managed (Auto) backup, which this job cannot restore: restore it with Supabase's own restore (dashboard → ${project} → Database → Backups, or the Management API's POST /v1/projects/{ref}/database/backups/restore-pitr)`;
}
