// The checks a restore runs before it touches anything, in the order a person reads them: the
// production gate (environment, approval, confirm, verified backup), the overwrite check against
// the target, the safety backup, the request id. The first that fails is the refusal's one line.
import { standsAlone, type BackupEntry } from "../inventory";
import type { JobContext } from "../core/context";
import { formatBytes } from "../core/format";
import type { GateCheck } from "../core/checks";
import { given } from "../core/settings";
import type { TargetEnvironment } from "./gate";
import { isVerified } from "../retention";
import { repeatedRequest } from "./requests";
import { describeTables, type TargetInspection } from "./inspect";
import { platformPlan, recordedPlatform } from "./platform";
import type { RestoreOptions } from "./types";

export interface Decision {
  approvedBy?: string;
  confirm?: string;
  reason?: string;
  requestId?: string;
}

export interface GateInput {
  entry: BackupEntry;
  options: RestoreOptions;
  decision: Decision;
  environment: TargetEnvironment;
  safetyTag: string;
}

/** The checks that need neither the target nor the dump, in order. */
export async function gateChecks(ctx: JobContext, input: GateInput): Promise<GateCheck[]> {
  const { entry, options, decision, environment } = input;
  const verified = isVerified(entry);
  const production = environment.production;
  const checks: GateCheck[] = [
    {
      check: "environment",
      ok: true,
      detail: production ? `production: ${environment.reason}` : `not production (${environment.reason}): no approval needed`,
    },
  ];
  if (production) {
    checks.push({
      check: "approval",
      ok: decision.approvedBy !== undefined,
      detail: decision.approvedBy ? `approved by ${decision.approvedBy}` : `production restore needs --approved-by <name> and --confirm <backup_id> (the target is production: ${environment.reason})`,
    });
    checks.push({
      check: "confirm",
      ok: decision.confirm === entry.id,
      detail:
        decision.confirm === entry.id
          ? `--confirm repeats ${entry.id}`
          : decision.confirm === undefined
            ? `production restore needs --approved-by <name> and --confirm <backup_id>: repeat the backup id, --confirm ${entry.id}`
            : `--confirm "${decision.confirm}" is not the backup id ${entry.id}: production restore needs --confirm <backup_id> repeating the exact id`,
    });
    checks.push({
      check: "verified backup",
      ok: verified,
      detail: verified
        ? `verified ${entry.manifest!.verification!.verifiedAt} (${entry.manifest!.verification!.tables} tables, ${entry.manifest!.verification!.rows} rows)`
        : `backup ${entry.id} has not passed verification: run \`db-backup verify ${entry.id}\` first (a production restore needs a backup proven by a test restore)`,
    });
  }
  if (options.skipSafetyBackup) {
    checks.push({
      check: "safety backup",
      ok: decision.reason !== undefined,
      detail: decision.reason ? `skipped: ${decision.reason}` : `--skip-safety-backup needs --reason "<why>": the safety backup is the way back`,
    });
  } else if (production) {
    checks.push({ check: "safety backup", ok: true, detail: `a pre_migration backup of the target, tag ${input.safetyTag}, is taken first` });
  }
  if (decision.requestId !== undefined) {
    const repeated = await repeatedRequest(ctx, decision.requestId);
    checks.push({ check: "request", ok: repeated === undefined, detail: repeated ?? `request ${decision.requestId} has not run before` });
  }
  return checks;
}

export interface OverwriteInput {
  entry: BackupEntry;
  options: RestoreOptions;
  inspection: TargetInspection;
  display: string;
}

export function overwriteCheck(input: OverwriteInput, verified: boolean): GateCheck {
  const { entry, options, inspection, display } = input;
  const { occupied, footprint } = inspection;
  const where = footprint.mode === "schemas" ? `the dump's schemas (${footprint.schemas.join(", ") || "none"})` : "the dump's tables";
  if (options.jobs !== undefined && options.jobs > 1 && entry.manifest?.format === "custom" && (occupied.length > 0 || options.clean)) {
    return { check: "overwrite", ok: false, detail: `a parallel restore (--jobs ${options.jobs}) cannot replace data in one transaction: use --jobs 1 with --clean, or restore into an empty database` };
  }
  if (options.clean && !verified && occupied.length === 0) {
    return {
      check: "overwrite",
      ok: false,
      detail: `--clean is accepted only for a verified backup and ${entry.id} has not passed verification: ${verifyFirst(entry, display)} (${display} holds none of its tables, so it restores without --clean too)`,
    };
  }
  if (options.clean && inspection.dependents.length > 0) {
    return {
      check: "overwrite",
      ok: false,
      detail: `--clean would also drop what is not in backup ${entry.id}, because it depends on ${where}: ${describeTables(inspection.dependents, 5)}; move or drop those yourself first, or restore into a database without them`,
    };
  }
  if (occupied.length === 0) {
    return { check: "overwrite", ok: true, detail: footprint.mode === "data" ? `the dump's tables in ${display} are empty` : `${display} holds no table in ${where}` };
  }
  const tables = describeTables(occupied);
  if (!options.clean) {
    const platformRows = inspection.platform?.filledTables ?? [];
    const appTables = occupied.filter((t) => !platformRows.includes(t));
    const what =
      footprint.mode === "data"
        ? `already has rows in ${tables}`
        : platformRows.length === 0
          ? `already holds tables in ${where}: ${tables}`
          : appTables.length === 0
            ? `already has rows in the platform tables the backup fills: ${describeTables(platformRows)}`
            : `already holds tables in ${where}: ${describeTables(appTables)}, and rows in the platform tables the backup fills: ${describeTables(platformRows)}`;
    return {
      check: "overwrite",
      ok: false,
      detail:
        footprint.mode === "data"
          ? `${display} ${what}: restore into empty tables, or add --clean to replace them (needs a verified backup)`
          : `${display} ${what}; add --clean to replace them (needs a verified backup)`,
    };
  }
  if (!verified) {
    return {
      check: "overwrite",
      ok: false,
      detail: `--clean would overwrite ${tables} in ${display} with backup ${entry.id}, which has not passed verification: ${verifyFirst(entry, display, tables)}`,
    };
  }
  return { check: "overwrite", ok: true, detail: `--clean replaces ${tables} (verified backup), inside the restore's transaction` };
}

/** How to get past "verify first": a data-only backup cannot be verified on its own (its tables must
 * exist to load it), so the way is to empty the tables and restore without --clean. */
function verifyFirst(entry: BackupEntry, display: string, tables?: string): string {
  if (entry.manifest && !standsAlone(entry.manifest)) {
    const what = entry.manifest.scope.dataOnly ? "a data-only backup" : "a --table backup";
    const how = entry.manifest.scope.dataOnly ? "empty" : "drop";
    return `${what} cannot be verified on its own (it needs the rest of its database to load), so ${how} ${tables ?? "its tables"} in ${display} yourself and restore without --clean; the restore still checks its SHA-256 and every table's row count before it commits`;
  }
  return `run \`db-backup verify ${entry.id}\` first`;
}

export function plannedSteps(entry: BackupEntry, options: RestoreOptions, environment: TargetEnvironment, inspection: TargetInspection, safetyTag: string): string[] {
  const steps: string[] = [];
  if (given(options.requestId)) steps.push(`record request ${given(options.requestId)}`);
  if (environment.production && !options.skipSafetyBackup) steps.push(`back up the target first (pre_migration, tag ${safetyTag}); stop if that fails`);
  steps.push("publish backup.database.restore_started.v1 (maintenance notice)");
  const clean = options.clean && cleanNeeded(inspection);
  if (clean) {
    steps.push(
      inspection.footprint.mode === "schemas"
        ? `drop schema(s) ${inspection.existingSchemas.join(", ")} inside the restore's transaction`
        : inspection.footprint.mode === "tables"
          ? `drop table(s) ${inspection.occupied.join(", ")} inside the restore's transaction`
          : `empty table(s) ${inspection.occupied.join(", ")} inside the restore's transaction`,
    );
  }
  const platform = recordedPlatform(entry.manifest);
  if (platform && inspection.platform) {
    const plan = platformPlan(platform, inspection.platform, { clean: clean === true, createExtensions: [] });
    if (clean && inspection.platform.filledTables.length > 0) steps.push(`empty the platform tables the backup fills (${describeTables(inspection.platform.presentTables)}), keeping their structure`);
    steps.push(
      plan.madeSchemas.length > 0
        ? `make the platform's structure (${plan.madeSchemas.join(", ")}) from the backup: the target has none`
        : `keep the target's own platform structure (${inspection.platform.presentSchemas.join(", ")}); load its rows with the target's triggers off`,
    );
    if (plan.madeAttached.length > 0) steps.push(`make on platform tables: ${plan.madeAttached.map((o) => `${o.kind} ${o.name} on ${o.schema}.${o.table}`).join(", ")}`);
  }
  const counts = Object.keys(entry.manifest?.rowCounts ?? {}).length;
  steps.push(
    entry.manifest?.format === "custom"
      ? `pg_restore the archive (SHA-256 checked)${(options.jobs ?? 1) > 1 ? ` with ${options.jobs} jobs` : " in one transaction"}`
      : `restore ${formatBytes(entry.size)} in one transaction, checking the SHA-256${counts > 0 ? ` and the row counts of ${counts} tables` : ""} before it commits`,
  );
  steps.push("publish backup.database.restored.v1");
  return steps;
}

export function cleanNeeded(inspection: TargetInspection): boolean {
  return inspection.occupied.length > 0 || (inspection.footprint.mode === "schemas" && inspection.existingSchemas.length > 0);
}
