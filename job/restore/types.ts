// What a restore is asked to do and what it reports: the command's options (resolved settings, not
// raw environment), its report, and its dry-run plan.
import type { GateCheck } from "../core/checks";

export interface SafetyBackupSettings {
  backupName: string;
  compressionLevel: number;
  /** How long the safety backup (a pre_migration backup) is locked. */
  lockSeconds: number;
}

/** What a restore reads from the environment, resolved once by the command line. */
export interface RestoreSettings {
  /** The `<NAME>_DB_URL` variables `--target <name>` resolves through. */
  targetUrls: Record<string, string>;
  /** PRODUCTION_DB_ID, `<system identifier>/<database>`: production's identity without its credentials. */
  productionId?: string;
  /** PRODUCTION_DB_URL: connected to (read only) to learn production's identity. */
  productionUrl?: string;
  /** SUPABASE_DB_URL: a target that is this run's own source belongs to the run's environment. */
  sourceUrl?: string;
  /** SUPABASE_PROJECT_ID: named when an Auto backup id is refused. */
  supabaseProjectId?: string;
  /** How the safety backup of a production target is taken. */
  safetyBackup: SafetyBackupSettings;
  /** RESTORE_LOCK_TIMEOUT_SECONDS: how long a statement waits for a lock on the target. */
  lockTimeoutSeconds: number;
}

export interface RestoreOptions {
  id: string;
  target?: string;
  settings: RestoreSettings;
  jobs?: number;
  allowUnverified?: boolean;
  /** The dump version to read when the backup's keys hold versions its backup did not write. */
  dumpVersion?: string;
  json?: boolean;
  /** The target's environment when --target is a URL (a name given as --target is used otherwise). */
  targetEnv?: string;
  /** Empty strings count as not given (Kubernetes templates pass `$(VAR)` that may be empty). */
  approvedBy?: string;
  confirm?: string;
  reason?: string;
  requestId?: string;
  /** Replace the schemas (tables) the dump brings back; only with a verified backup. */
  clean?: boolean;
  /** Make the extensions a Supabase backup's objects need where the target lacks them. */
  createExtensions?: boolean;
  skipSafetyBackup?: boolean;
  /** Print every check and what would happen; touch nothing. */
  dryRun?: boolean;
}

export interface RestoreReport {
  id: string;
  target: string;
  sha256: string;
  bytes: number;
  checkedTables: number;
  /** Rows per table the server loaded. */
  rowCounts: Record<string, number>;
  durationMs: number;
  environment?: string | null;
  production?: boolean;
  approvedBy?: string | null;
  reason?: string | null;
  safetyBackup?: string | null;
  requestId?: string | null;
  cleaned?: string[];
}

export interface RestorePlan {
  id: string;
  target: string;
  dryRun: true;
  environment: string | null;
  production: boolean;
  checks: GateCheck[];
  steps: string[];
}
