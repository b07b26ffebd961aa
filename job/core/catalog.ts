// The one module both halves agree on: backup types and their retention, the object layout in the
// bucket, the event subjects and the tags lifecycle rules match. The job and the Pulumi program
// (infra/) import it; no number or name here is typed anywhere else.

export const BACKUP_TYPES = ["daily", "manual", "pre_migration", "monthly"] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

export interface BackupTypeSpec {
  /** Folder under the backup prefix; one per type so lifecycle rules can target it. */
  readonly folder: string;
  /** Days a backup of this type is kept before lifecycle expires it (unless protected). */
  readonly retentionDays: number;
  /** How the seed's status table names it. */
  readonly label: string;
  /** Default schedule (cron, UTC) for types the CronJobs take; undefined: on demand only. */
  readonly defaultSchedule?: string;
}

export const backupTypes: Readonly<Record<BackupType, BackupTypeSpec>> = {
  daily: { folder: "daily", retentionDays: 7, label: "Daily", defaultSchedule: "0 2 * * *" },
  manual: { folder: "manual", retentionDays: 30, label: "Manual" },
  pre_migration: { folder: "pre_migration", retentionDays: 90, label: "Pre-Migration" },
  monthly: { folder: "monthly", retentionDays: 365, label: "Monthly", defaultSchedule: "0 3 1 * *" },
};

/** The seed's "BLOCKED: Delete backups less than 7 days old"; also the floor for any retention. */
export const MIN_RETENTION_DAYS = 7;
/** The seed's "Keep at least 3 verified restore points". */
export const MIN_VERIFIED_RESTORE_POINTS = 3;

export function isBackupType(value: string): value is BackupType {
  return (BACKUP_TYPES as readonly string[]).includes(value);
}

/** Retention per type after an environment's overrides; an override may only lengthen. */
export function retentionRules(
  overrides: Partial<Record<BackupType, number>> = {},
): Record<BackupType, number> {
  const rules = {} as Record<BackupType, number>;
  for (const type of BACKUP_TYPES) {
    const days = overrides[type] ?? backupTypes[type].retentionDays;
    if (!Number.isInteger(days) || days < MIN_RETENTION_DAYS) {
      throw new Error(
        `retention for ${type} is ${days} days: it must be a whole number of at least ${MIN_RETENTION_DAYS} days`,
      );
    }
    if (days < backupTypes[type].retentionDays) {
      throw new Error(
        `retention for ${type} is ${days} days: environments may only lengthen it (at least ${backupTypes[type].retentionDays})`,
      );
    }
    rules[type] = days;
  }
  return rules;
}

// ---- Object layout ---------------------------------------------------------------------------

export const DEFAULT_BUCKET = "backups";
export const DEFAULT_PREFIX = "supabase";
export const DEFAULT_BACKUP_NAME = "backup";
/** gzip level of plain dumps (and pg_dump -Z of custom ones) unless BACKUP_COMPRESSION_LEVEL says. */
export const DEFAULT_COMPRESSION_LEVEL = 6;

export type DumpFormat = "plain" | "custom";
export const DUMP_EXTENSIONS: Readonly<Record<DumpFormat, string>> = {
  plain: ".sql.gz",
  custom: ".dump",
};
export const MANIFEST_EXTENSION = ".manifest.json";
/** A pointer to the newest full backup, for people with `mc` (the seed's "symlink to most recent");
 * the job itself never trusts it: `restore latest` resolves the newest backup from its manifests. */
export const LATEST_NAME = "latest.json";
/** The seed's copy of the newest dump, which older versions of db-backup wrote: listed, never written. */
export const LEGACY_LATEST_NAME = "latest.sql.gz";

/**
 * Where everything lives under the prefix. Every object below is written once by the job that owns
 * it (a second version of a key is an alarm: someone else wrote it), and the folders split what
 * each workload's key may write (infra/policies.ts):
 * - `<type>/<id>.sql.gz|.dump` and `<type>/<id>.manifest.json`: a backup, locked for its type's
 *   retention as soon as it is written (the backup key);
 * - `runs/<id>.json`: the id a running backup took (the backup key);
 * - `verifications/<id>/<time>.json`: a drill's verdict on a backup (the drill's key only);
 * - `requests/<id>.json`: a config-driven restore that ran (the restore key);
 * - `latest.json`: the pointer above (the backup key).
 */
export const objectLayout = {
  typeFolder: (prefix: string, type: BackupType) => joinKey(prefix, backupTypes[type].folder) + "/",
  dumpKey: (prefix: string, type: BackupType, id: string, format: DumpFormat) =>
    joinKey(prefix, backupTypes[type].folder, id + DUMP_EXTENSIONS[format]),
  manifestKey: (prefix: string, type: BackupType, id: string) =>
    joinKey(prefix, backupTypes[type].folder, id + MANIFEST_EXTENSION),
  latestKey: (prefix: string) => joinKey(prefix, LATEST_NAME),
  legacyLatestKey: (prefix: string) => joinKey(prefix, LEGACY_LATEST_NAME),
  runsFolder: (prefix: string) => joinKey(prefix, "runs") + "/",
  runKey: (prefix: string, id: string) => joinKey(prefix, "runs", id + ".json"),
  verificationsFolder: (prefix: string) => joinKey(prefix, "verifications") + "/",
  verificationKey: (prefix: string, id: string, at: string) => joinKey(prefix, "verifications", id, at.replace(/[^0-9A-Za-z.-]/g, "") + ".json"),
  /** One record per config-driven restore request, so a request never runs twice. */
  requestsFolder: (prefix: string) => joinKey(prefix, "requests") + "/",
  requestKey: (prefix: string, requestId: string) => joinKey(prefix, "requests", requestId + ".json"),
};

/** How long a drill keeps each of the newest verified restore points locked past the drill: their
 * retention is extended (never shortened, by any key) at every drill, so they stay while drills run
 * and for this long after the last one, however long backups have stopped. */
export const RESTORE_POINT_HOLD_DAYS = 35;

/** The longest retention any backup may be locked for: what a backup key can ask at the most. */
export function longestRetentionDays(retention: Record<BackupType, number>): number {
  return Math.max(...Object.values(retention), RESTORE_POINT_HOLD_DAYS);
}

function joinKey(...parts: string[]): string {
  return parts.filter((p) => p.length > 0).join("/");
}

// ---- Events ------------------------------------------------------------------------------------

export const eventSubjects = {
  completed: "backup.database.completed.v1",
  failed: "backup.database.failed.v1",
  restoreStarted: "backup.database.restore_started.v1",
  restored: "backup.database.restored.v1",
  /** Ends the maintenance notice that restore_started opened when the restore did not complete. */
  restoreFailed: "backup.database.restore_failed.v1",
  verified: "backup.database.verified.v1",
  verifyFailed: "backup.database.verify_failed.v1",
} as const;
export type EventName = keyof typeof eventSubjects;
/** A JetStream stream that captures all of the above. */
export const EVENT_SUBJECT_WILDCARD = "backup.database.>";

// ---- Supabase -----------------------------------------------------------------------------------

/** Schemas Supabase's platform manages; left out of the default scope as the Supabase CLI leaves
 * them out of its schema dumps. `pg_*` and information_schema are never dumped by pg_dump anyway. */
export const SUPABASE_MANAGED_SCHEMAS = [
  "_analytics", "_realtime", "_supavisor", "auth", "extensions", "pgbouncer", "realtime", "storage",
  "supabase_functions", "supabase_migrations", "cron", "dbdev", "graphql", "graphql_public", "net",
  "pgmq", "pgsodium", "pgsodium_masks", "pgtle", "repack", "tiger", "tiger_data", "topology", "vault",
  "timescaledb_*", "_timescaledb_*",
] as const;

/** How a backup treats its source: `supabase` keeps the project's user data that lives in the
 * platform's schemas (below); `postgres` dumps the app's schemas only. Detected from the source
 * (BACKUP_PROFILE or --profile overrides). */
export const BACKUP_PROFILES = ["supabase", "postgres"] as const;
export type BackupProfile = (typeof BACKUP_PROFILES)[number];

/** The platform schemas whose tables hold the project's data (users, identities, tokens, storage
 * metadata, hooks, jobs, queues): a Supabase backup keeps their rows, as the Supabase CLI's data
 * dump does. Their structure is the platform's: restored only into a database that lacks it. */
export const PLATFORM_DATA_SCHEMAS = ["auth", "storage", "supabase_functions", "cron", "net", "pgmq"] as const;

/** The platform's migration history: always the target project's own, never restored. */
export const PLATFORM_MIGRATION_TABLES = ["auth.schema_migrations", "storage.migrations", "supabase_functions.migrations"] as const;

// ---- Exit codes ----------------------------------------------------------------------------------

/** One table, used by every action, so scripts and Jobs can tell a refusal from a broken network. */
export const EXIT_CODES = {
  ok: 0,
  failed: 1, // transient I/O or unexpected failure: retrying may help
  usage: 2, // bad arguments, configuration or unknown backup id: fix the call
  refused: 3, // a safety rule refused the operation: see the message for what would allow it
  integrity: 4, // checksum, manifest or row-count mismatch: the backup or target is not trusted
  unhealthy: 5, // status found no successful backup, or one older than --max-age
} as const;
export type ExitCodeName = keyof typeof EXIT_CODES;

// ---- Environments (added for infra/: the Pulumi program and the restore gate must agree) ---------

/** Environment names that always count as production (the restore gate also treats unknown ones
 * as production; the Pulumi program uses this to require `restore.approvedBy` at preview). */
export const PRODUCTION_ENV_NAMES = ["prod", "production"] as const;

export function isProductionEnvName(name: string): boolean {
  return (PRODUCTION_ENV_NAMES as readonly string[]).includes(name.trim().toLowerCase());
}
