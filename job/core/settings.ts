// Settings come from the environment (names as in the seed) and flags override them. Read and
// validated once, here; a missing or malformed setting is a one-line error naming it.
import { z } from "zod";
import { DEFAULT_BACKUP_NAME, DEFAULT_BUCKET, DEFAULT_COMPRESSION_LEVEL, DEFAULT_PREFIX, RESTORE_POINT_HOLD_DAYS, BACKUP_PROFILES, backupTypes, type BackupProfile, isBackupType, retentionRules, type BackupType } from "./catalog";
import { usageError } from "./errors";
import { DAY_SECONDS } from "./time";

/** Every environment variable the job reads, in one place (the infra sets the same names). */
export const ENV = {
  sourceDbUrl: "SUPABASE_DB_URL",
  endpoint: "MINIO_ENDPOINT",
  accessKey: "MINIO_ACCESS_KEY",
  secretKey: "MINIO_SECRET_KEY",
  bucket: "MINIO_BUCKET",
  caFile: "MINIO_CA_FILE",
  prefix: "BACKUP_PREFIX",
  schemas: "BACKUP_SCHEMAS",
  /** supabase | postgres: how create treats its source (default: detected). */
  profile: "BACKUP_PROFILE",
  name: "BACKUP_NAME",
  dir: "BACKUP_DIR",
  environment: "BACKUP_ENV",
  natsUrl: "NATS_URL",
  natsToken: "NATS_TOKEN",
  verifyDbUrl: "VERIFY_DB_URL",
  productionDbUrl: "PRODUCTION_DB_URL",
  /** Production's identity, `<system identifier>/<database>`: recognised without its credentials. */
  productionDbId: "PRODUCTION_DB_ID",
  /** Seconds a restore waits for a lock on the target before it gives up (default 60). */
  lockTimeout: "RESTORE_LOCK_TIMEOUT_SECONDS",
  lockSeconds: "BACKUP_LOCK_SECONDS",
  /** Seconds each drill holds the newest restore points locked for (default 35 days; tests use seconds). */
  restorePointHold: "RESTORE_POINT_HOLD_SECONDS",
  compressionLevel: "BACKUP_COMPRESSION_LEVEL",
  /** Smallest S3 multipart part in MiB (5-5120, default 16): parts then grow with the upload. */
  partSizeMb: "BACKUP_PART_SIZE_MB",
  supabaseProjectId: "SUPABASE_PROJECT_ID",
  supabaseAccessToken: "SUPABASE_ACCESS_TOKEN",
  supabaseApiUrl: "SUPABASE_API_URL",
  /** Seconds to wait for the Supabase Management API before status reports it as a warning. */
  supabaseApiTimeout: "SUPABASE_API_TIMEOUT_SECONDS",
  /** A stack's longer retention ("daily=14,monthly=400"), so list/status show the bucket's real expiry. */
  retentionDays: "BACKUP_RETENTION_DAYS",
} as const;

export type Env = Record<string, string | undefined>;

export interface S3Settings {
  kind: "s3";
  endpoint: URL;
  accessKey: string;
  secretKey: string;
  bucket: string;
  caFile?: string;
}
export interface DirSettings {
  kind: "dir";
  dir: string;
}
export type RepositorySettings = S3Settings | DirSettings;

export interface StorageOptions {
  endpoint?: string;
  bucket?: string;
  prefix?: string;
  backupDir?: string;
}

/** Validation rules the Pulumi program checks a stack's config against too (infra/config.ts). */
export const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const PREFIX_PATTERN = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;
/** BACKUP_NAME: the first part of every id, so it never contains "_" (ids split on it). */
export const BACKUP_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,40}$/;
/** An environment name as a restore target (`--target staging` → STAGING_DB_URL). */
export const TARGET_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,40}$/;

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** Where backups go: S3 when an endpoint is set, else BACKUP_DIR; neither is refused, so a
 * CronJob missing its endpoint never "succeeds" into a pod's scratch disk. */
export function repositorySettings(env: Env, flags: StorageOptions = {}): RepositorySettings {
  // Flags override the environment: an explicit --backup-dir beats MINIO_ENDPOINT from the env.
  const endpoint = flags.endpoint ?? (flags.backupDir ? undefined : nonEmpty(env, ENV.endpoint));
  const dir = flags.backupDir ?? nonEmpty(env, ENV.dir);
  if (endpoint) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw usageError(`${ENV.endpoint} is not a URL (got "${endpoint}"): use e.g. http://minio:9000`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw usageError(`${ENV.endpoint} must start with http:// or https:// (got ${url.protocol}//…)`);
    }
    if (url.username || url.password) {
      throw usageError(`${ENV.endpoint} must not carry credentials: set ${ENV.accessKey} and ${ENV.secretKey}`);
    }
    const accessKey = nonEmpty(env, ENV.accessKey);
    const secretKey = nonEmpty(env, ENV.secretKey);
    if (!accessKey) throw usageError(`${ENV.accessKey} is not set: the S3 endpoint needs an access key`);
    if (!secretKey) throw usageError(`${ENV.secretKey} is not set: the S3 endpoint needs a secret key`);
    const bucket = flags.bucket ?? nonEmpty(env, ENV.bucket) ?? DEFAULT_BUCKET;
    if (!BUCKET_PATTERN.test(bucket)) {
      throw usageError(`${ENV.bucket} "${bucket}" is not a valid bucket name (3-63 lowercase letters, digits, dots, dashes)`);
    }
    return { kind: "s3", endpoint: url, accessKey, secretKey, bucket, caFile: nonEmpty(env, ENV.caFile) };
  }
  if (dir) return { kind: "dir", dir };
  throw usageError(
    `no backup repository: set ${ENV.endpoint} (with ${ENV.accessKey}/${ENV.secretKey}) for S3, or ${ENV.dir} for a local directory`,
  );
}

export function backupPrefix(env: Env, flag?: string): string {
  const prefix = (flag ?? nonEmpty(env, ENV.prefix) ?? DEFAULT_PREFIX).replace(/^\/+|\/+$/g, "");
  if (!PREFIX_PATTERN.test(prefix)) {
    throw usageError(`${ENV.prefix} "${prefix}" is invalid: use letters, digits, _ and - separated by /`);
  }
  return prefix;
}

export function backupName(env: Env): string {
  const name = nonEmpty(env, ENV.name) ?? DEFAULT_BACKUP_NAME;
  if (!BACKUP_NAME_PATTERN.test(name)) {
    throw usageError(`${ENV.name} "${name}" is invalid: a letter, then letters, digits or - (at most 41)`);
  }
  return name;
}

/** A PostgreSQL connection URL, checked enough that pg_dump and psql will take it. */
export function postgresUrl(value: string | undefined, name: string): string {
  if (!value || value.trim() === "") throw usageError(`${name} is not set: give a postgres:// connection URL`);
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw usageError(`${name} is not a valid URL: expected postgres://user:password@host:5432/database`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw usageError(`${name} must start with postgres:// or postgresql:// (got ${url.protocol}//…)`);
  }
  if (!url.hostname) throw usageError(`${name} has no host: expected postgres://user:password@host:5432/database`);
  return value.trim();
}

/** The longest lock the job accepts (BACKUP_LOCK_SECONDS): ten years. */
export const MAX_LOCK_SECONDS = 3650 * DAY_SECONDS;

/** BACKUP_LOCK_SECONDS: how long each backup is locked on a bucket with Object Lock, in place of its
 * type's retention (tests use seconds). */
export function lockSecondsSetting(env: Env): number | undefined {
  return optionalInt(env, ENV.lockSeconds, 1, MAX_LOCK_SECONDS);
}

/** How long a backup of `type` is locked: its retention (BACKUP_RETENTION_DAYS included), so no key
 * can delete a version lifecycle would still keep; BACKUP_LOCK_SECONDS overrides it. */
export function backupLockSeconds(env: Env, type: BackupType): number {
  return lockSecondsSetting(env) ?? retentionFromEnv(env)[type] * DAY_SECONDS;
}

/** BACKUP_PROFILE (or --profile): supabase or postgres; undefined to detect it from the source. */
export function profileSetting(value: string | undefined, name: string = ENV.profile): BackupProfile | undefined {
  const given = value?.trim();
  if (!given) return undefined;
  if (!(BACKUP_PROFILES as readonly string[]).includes(given)) throw usageError(`${name} "${given}" is not a profile: use ${BACKUP_PROFILES.join(" or ")} (or leave it unset to detect it)`);
  return given as BackupProfile;
}

/** RESTORE_POINT_HOLD_SECONDS, or RESTORE_POINT_HOLD_DAYS: how long past each drill the newest
 * restore points stay locked. */
export function restorePointHoldSetting(env: Env): number {
  return optionalInt(env, ENV.restorePointHold, 1, MAX_LOCK_SECONDS) ?? RESTORE_POINT_HOLD_DAYS * DAY_SECONDS;
}

/** RESTORE_LOCK_TIMEOUT_SECONDS: how long a restore (or drill) waits for a lock, default a minute. */
export function lockTimeoutSetting(env: Env): number {
  return optionalInt(env, ENV.lockTimeout, 1, 86_400) ?? 60;
}

/** BACKUP_COMPRESSION_LEVEL, or the catalog's default. */
export function compressionLevelSetting(env: Env): number {
  return optionalInt(env, ENV.compressionLevel, 1, 9) ?? DEFAULT_COMPRESSION_LEVEL;
}

/** Every `<NAME>_DB_URL` variable: where `restore --target <name>` resolves. */
export function targetUrlSettings(env: Env): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (name.endsWith("_DB_URL") && value !== undefined) urls[name] = value;
  return urls;
}

export function schemaList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const intSetting = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int({ error: `${name} must be a whole number` })
    .min(min, { error: `${name} must be at least ${min}` })
    .max(max, { error: `${name} must be at most ${max}` });

export function optionalInt(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return undefined;
  const result = intSetting(name, min, max).safeParse(raw);
  if (!result.success) throw usageError(`${result.error.issues[0]?.message} (got "${raw}")`);
  return result.data;
}

/** Retention per type: the catalog's table, lengthened by BACKUP_RETENTION_DAYS; shorter than the
 * table's minimum is refused (lifecycle must never delete what `delete` would refuse). */
export function retentionFromEnv(env: Env): Record<BackupType, number> {
  const raw = nonEmpty(env, ENV.retentionDays);
  const overrides: Partial<Record<BackupType, number>> = {};
  for (const part of schemaList(raw)) {
    const match = /^([a-z_]+)=(\d+)$/.exec(part);
    if (!match || !isBackupType(match[1]!)) {
      throw usageError(`${ENV.retentionDays} "${raw}" is invalid: use type=days pairs, e.g. daily=14,monthly=400`);
    }
    const type = match[1] as BackupType;
    if (Number(match[2]) < backupTypes[type].retentionDays) {
      throw usageError(`${ENV.retentionDays}: ${type}=${match[2]} is shorter than the table's ${backupTypes[type].retentionDays} days: a stack may only lengthen retention`);
    }
    overrides[type] = Number(match[2]);
  }
  try {
    return retentionRules(overrides);
  } catch (error) {
    throw usageError(`${ENV.retentionDays}: ${(error as Error).message}`);
  }
}

export { nonEmpty };

/** Empty values (`--approved-by ""`, as a Kubernetes template's `$(VAR)` gives) mean "not given". */
export function given(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

/** The variable an environment name resolves through as a restore target: staging → STAGING_DB_URL
 * (the seed's name). The Pulumi program writes the same names into the Secret. */
export function envVarForTarget(name: string): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_DB_URL`;
}
