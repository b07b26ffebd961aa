// The overwrite decision (restore's check against its target) as a table: what the dump replaces
// (whole schemas, single tables, table contents) × whether the target already holds any of it ×
// --clean × a verified backup × a parallel (--jobs > 1) custom-format restore. Every row is one
// call of the pure overwriteCheck; the detail is the refusal's (or the dry run's) one line.
import { describe, expect, it } from "vitest";
import type { BackupEntry } from "../../../job/inventory/backups";
import { overwriteCheck } from "../../../job/restore/checks";
import type { OverwriteMode, TargetInspection } from "../../../job/restore/inspect";
import type { RestoreOptions } from "../../../job/restore/types";
import { entriesOf, sampleManifest } from "../../helpers/manifests";

const ID = "backup_20250607_120000";
const DISPLAY = "staging";
const SCHEMAS = ["archon", "pmoves_core"];
const TABLES = ["pmoves_core.content_items", "archon.settings"];
/** The occupied tables as the detail names them (describeTables: up to 3, then "and N more"). */
const NAMED = "pmoves_core.content_items, archon.settings";

interface Case {
  mode: OverwriteMode;
  /** In-scope tables the target already has (data mode: non-empty ones). */
  occupied: string[];
  clean: boolean;
  verified: boolean;
  jobs?: number;
  format?: "plain" | "custom";
  schemas?: string[];
  /** Objects outside the backup that depend on what --clean drops. */
  dependents?: string[];
  dataOnly?: boolean;
}

function entry(format: "plain" | "custom", dataOnly = false): BackupEntry {
  const key = `supabase/manual/${ID}${format === "custom" ? ".dump" : ".sql.gz"}`;
  const scope = { ...sampleManifest().scope, dataOnly };
  return entriesOf([sampleManifest({ id: ID, format, key, scope, ...(format === "custom" ? { compression: "pg_custom" } : {}) })])[0]!;
}

function inspection(c: Case): TargetInspection {
  const schemas = c.mode === "schemas" ? (c.schemas ?? SCHEMAS) : [];
  return {
    footprint: { mode: c.mode, schemas, tables: TABLES },
    existingSchemas: c.occupied.length > 0 ? schemas : [],
    occupied: c.occupied,
    serverVersionNum: 160004,
    dependents: c.dependents ?? [],
    publications: [],
  };
}

function options(c: Case): RestoreOptions {
  return {
    id: ID,
    target: DISPLAY,
    settings: { targetUrls: {}, safetyBackup: { backupName: "supabase", compressionLevel: 6, lockSeconds: 60 }, lockTimeoutSeconds: 60 },
    clean: c.clean,
    ...(c.jobs !== undefined ? { jobs: c.jobs } : {}),
  };
}

const ONLY_VERIFIED_CLEAN = `--clean is accepted only for a verified backup and ${ID} has not passed verification: run \`db-backup verify ${ID}\` first (${DISPLAY} holds none of its tables, so it restores without --clean too)`;
const UNVERIFIED_OVERWRITE = `--clean would overwrite ${NAMED} in ${DISPLAY} with backup ${ID}, which has not passed verification`;
const CLEAN_REPLACES = `--clean replaces ${NAMED} (verified backup), inside the restore's transaction`;
const PARALLEL = "a parallel restore (--jobs 4) cannot replace data in one transaction: use --jobs 1 with --clean, or restore into an empty database";

const none: string[] = [];

// [name, case, ok, a distinctive part of the detail]
const table: [string, Case, boolean, string][] = [
  // whole schemas (a full or schema backup)
  ["schemas, empty target, no --clean, unverified", { mode: "schemas", occupied: none, clean: false, verified: false }, true, `${DISPLAY} holds no table in the dump's schemas (archon, pmoves_core)`],
  ["schemas, empty target, no --clean, verified", { mode: "schemas", occupied: none, clean: false, verified: true }, true, `${DISPLAY} holds no table in the dump's schemas (archon, pmoves_core)`],
  ["schemas, empty target, --clean, unverified", { mode: "schemas", occupied: none, clean: true, verified: false }, false, ONLY_VERIFIED_CLEAN],
  ["schemas, empty target, --clean, verified", { mode: "schemas", occupied: none, clean: true, verified: true }, true, `${DISPLAY} holds no table in the dump's schemas (archon, pmoves_core)`],
  ["schemas, occupied target, no --clean, unverified", { mode: "schemas", occupied: TABLES, clean: false, verified: false }, false, `${DISPLAY} already holds tables in the dump's schemas (archon, pmoves_core): ${NAMED}; add --clean to replace them`],
  ["schemas, occupied target, no --clean, verified", { mode: "schemas", occupied: TABLES, clean: false, verified: true }, false, `${DISPLAY} already holds tables in the dump's schemas (archon, pmoves_core): ${NAMED}; add --clean to replace them`],
  ["schemas, occupied target, --clean, unverified", { mode: "schemas", occupied: TABLES, clean: true, verified: false }, false, UNVERIFIED_OVERWRITE],
  ["schemas, occupied target, --clean, verified", { mode: "schemas", occupied: TABLES, clean: true, verified: true }, true, CLEAN_REPLACES],
  // single tables (--table)
  ["tables, empty target, no --clean, unverified", { mode: "tables", occupied: none, clean: false, verified: false }, true, `${DISPLAY} holds no table in the dump's tables`],
  ["tables, empty target, no --clean, verified", { mode: "tables", occupied: none, clean: false, verified: true }, true, `${DISPLAY} holds no table in the dump's tables`],
  ["tables, empty target, --clean, unverified", { mode: "tables", occupied: none, clean: true, verified: false }, false, ONLY_VERIFIED_CLEAN],
  ["tables, empty target, --clean, verified", { mode: "tables", occupied: none, clean: true, verified: true }, true, `${DISPLAY} holds no table in the dump's tables`],
  ["tables, occupied target, no --clean, unverified", { mode: "tables", occupied: TABLES, clean: false, verified: false }, false, `${DISPLAY} already holds tables in the dump's tables: ${NAMED}; add --clean to replace them`],
  ["tables, occupied target, no --clean, verified", { mode: "tables", occupied: TABLES, clean: false, verified: true }, false, `${DISPLAY} already holds tables in the dump's tables: ${NAMED}; add --clean to replace them`],
  ["tables, occupied target, --clean, unverified", { mode: "tables", occupied: TABLES, clean: true, verified: false }, false, UNVERIFIED_OVERWRITE],
  ["tables, occupied target, --clean, verified", { mode: "tables", occupied: TABLES, clean: true, verified: true }, true, CLEAN_REPLACES],
  // table contents (--data-only)
  ["data, empty tables, no --clean, unverified", { mode: "data", occupied: none, clean: false, verified: false }, true, `the dump's tables in ${DISPLAY} are empty`],
  ["data, empty tables, no --clean, verified", { mode: "data", occupied: none, clean: false, verified: true }, true, `the dump's tables in ${DISPLAY} are empty`],
  ["data, empty tables, --clean, unverified", { mode: "data", occupied: none, clean: true, verified: false }, false, ONLY_VERIFIED_CLEAN],
  ["data, empty tables, --clean, verified", { mode: "data", occupied: none, clean: true, verified: true }, true, `the dump's tables in ${DISPLAY} are empty`],
  ["data, rows present, no --clean, unverified", { mode: "data", occupied: TABLES, clean: false, verified: false }, false, `${DISPLAY} already has rows in ${NAMED}: restore into empty tables, or add --clean to replace them`],
  ["data, rows present, no --clean, verified", { mode: "data", occupied: TABLES, clean: false, verified: true }, false, `${DISPLAY} already has rows in ${NAMED}: restore into empty tables, or add --clean to replace them`],
  ["data, rows present, --clean, unverified", { mode: "data", occupied: TABLES, clean: true, verified: false }, false, UNVERIFIED_OVERWRITE],
  ["data, rows present, --clean, verified", { mode: "data", occupied: TABLES, clean: true, verified: true }, true, CLEAN_REPLACES],
  // --jobs > 1 with a custom-format backup: pg_restore in parallel cannot replace data in one transaction
  ["--jobs 4 custom, schemas, occupied target, no --clean", { mode: "schemas", occupied: TABLES, clean: false, verified: true, jobs: 4, format: "custom" }, false, PARALLEL],
  ["--jobs 4 custom, tables, occupied target, --clean, verified", { mode: "tables", occupied: TABLES, clean: true, verified: true, jobs: 4, format: "custom" }, false, PARALLEL],
  ["--jobs 4 custom, data, empty tables, --clean, verified", { mode: "data", occupied: none, clean: true, verified: true, jobs: 4, format: "custom" }, false, PARALLEL],
  ["--jobs 4 custom, empty target, --clean, unverified (parallel is named first)", { mode: "schemas", occupied: none, clean: true, verified: false, jobs: 4, format: "custom" }, false, PARALLEL],
  ["--jobs 4 custom, empty target, no --clean: parallel into an empty database", { mode: "schemas", occupied: none, clean: false, verified: false, jobs: 4, format: "custom" }, true, `${DISPLAY} holds no table in the dump's schemas`],
  ["--jobs 1 custom, occupied target, --clean, verified", { mode: "schemas", occupied: TABLES, clean: true, verified: true, jobs: 1, format: "custom" }, true, CLEAN_REPLACES],
  ["--jobs 4 plain (no parallel restore), occupied target, --clean, verified", { mode: "schemas", occupied: TABLES, clean: true, verified: true, jobs: 4, format: "plain" }, true, CLEAN_REPLACES],
  ["--jobs 4 plain, occupied target, no --clean", { mode: "tables", occupied: TABLES, clean: false, verified: true, jobs: 4, format: "plain" }, false, `already holds tables in the dump's tables: ${NAMED}`],
  // --clean never drops what is not in the backup: dependents outside it are named, and refused
  [
    "schemas, occupied target, --clean, verified, something outside depends on them",
    { mode: "schemas", occupied: TABLES, clean: true, verified: true, dependents: ["trigger on_auth_user_created on table auth.users (needs function public.handle_new_user())"] },
    false,
    "--clean would also drop what is not in backup backup_20250607_120000, because it depends on the dump's schemas (archon, pmoves_core): trigger on_auth_user_created on table auth.users",
  ],
  [
    "tables, occupied target, --clean, verified, a view elsewhere uses one",
    { mode: "tables", occupied: TABLES, clean: true, verified: true, dependents: ["view reports.v (needs table archon.settings)"] },
    false,
    "depends on the dump's tables: view reports.v",
  ],
  ["no --clean: dependents do not matter", { mode: "schemas", occupied: none, clean: false, verified: true, dependents: ["view reports.v"] }, true, `${DISPLAY} holds no table`],
  // a data-only backup cannot be verified on its own: the way past "verify first" is named instead
  [
    "data-only backup, rows present, --clean, unverified",
    { mode: "data", occupied: TABLES, clean: true, verified: false, dataOnly: true },
    false,
    `a data-only backup cannot be verified on its own (it needs the rest of its database to load), so empty ${NAMED} in ${DISPLAY} yourself and restore without --clean`,
  ],
  // how the detail names schemas and tables
  ["schemas, a dump with no schema", { mode: "schemas", occupied: none, clean: false, verified: false, schemas: [] }, true, `${DISPLAY} holds no table in the dump's schemas (none)`],
  [
    "schemas, more than three occupied tables",
    { mode: "schemas", occupied: [...TABLES, "archon.a", "archon.b", "archon.c"], clean: false, verified: true },
    false,
    `already holds tables in the dump's schemas (archon, pmoves_core): ${NAMED}, archon.a and 2 more; add --clean`,
  ],
];

describe("overwriteCheck", () => {
  it.each(table)("%s", (_name, c, ok, detail) => {
    const check = overwriteCheck({ entry: entry(c.format ?? "plain", c.dataOnly), options: options(c), inspection: inspection(c), display: DISPLAY }, c.verified);
    expect(check.check).toBe("overwrite");
    expect(check.ok, check.detail).toBe(ok);
    expect(check.detail).toContain(detail);
  });

  it("the table covers every mode × occupied × --clean × verified", () => {
    const plainRows = table.filter(([, c]) => c.jobs === undefined && c.schemas === undefined && !c.dependents && !c.dataOnly && c.occupied.length <= TABLES.length);
    const seen = new Set(plainRows.map(([, c]) => `${c.mode} ${c.occupied.length > 0} ${c.clean} ${c.verified}`));
    expect(seen.size).toBe(3 * 2 * 2 * 2);
  });
});
