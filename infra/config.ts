// A stack's configuration: read from Pulumi once, validated here and nowhere else. Everything past
// this file takes the typed StackConfig, or the part of it a component uses. A wrong value fails
// the program (at preview too) with one line per problem, each naming its key, e.g.
// `db-backup:schedules.daily: "0 2 * *" has 4 fields…`.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  BACKUP_TYPES,
  DEFAULT_BUCKET,
  DEFAULT_PREFIX,
  backupTypes,
  isBackupType,
  isProductionEnvName,
  retentionRules,
  type BackupType,
} from "../job/core/catalog";
import { validateBackupId } from "../job/core/ids";
import {
  BACKUP_NAME_PATTERN,
  BUCKET_PATTERN,
  ENV,
  PREFIX_PATTERN,
  TARGET_NAME_PATTERN,
  envVarForTarget,
} from "../job/core/settings";
import pkg from "../package.json";
import { cronProblem, isTimeZone } from "./cron";

/** Secrets: never plain config, never in Pulumi.<stack>.yaml as plaintext. Each is set with
 * `pulumi config set --secret db-backup:<key> …` and reaches pods only through the Kubernetes Secret. */
export const SECRET_KEYS = {
  sourceDbUrl: { required: true, example: "postgres://postgres:…@db.<ref>.supabase.co:5432/postgres" },
  verifyDbUrl: { required: true, example: "postgres://postgres:…@scratch-db:5432/postgres" },
  minioAdminUser: { required: true, example: "<MinIO admin access key>" },
  minioAdminPassword: { required: true, example: "<MinIO admin secret key>" },
  productionDbUrl: { required: false, example: "postgres://…production…" },
  natsToken: { required: false, example: "<NATS token>" },
  registryPassword: { required: false, example: "<registry password or token>" },
  supabaseAccessToken: { required: false, example: "<Supabase Management API token>" },
  /** An object: restore target name → URL, set per entry with `--path 'targetDbUrls.staging'`. */
  targetDbUrls: { required: false, example: "postgres://…" },
} as const;
export type SecretKey = keyof typeof SECRET_KEYS;

/** Settings read as raw strings (a value like `2024` stays text); all others are parsed as YAML/JSON
 * values, which is how Pulumi hands structured config to a program. */
const TEXT_KEYS = new Set(["namespace", "environment", "timeZone", "backupName", "natsUrl", "supabaseProjectId"]);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

// Bucket, prefix and backupName are checked with the job's own patterns (job/core/settings.ts).
// Target and environment names are stricter than the job's TARGET_NAME_PATTERN (any case), as they
// become Secret keys and parts of object names here.
/** A restore target name, lowercase only: envVarForTarget upper-cases it into its Secret key
 * (staging → STAGING_DB_URL), so "Staging" next to "staging" would be one key. */
const isTargetName = (name: string) => TARGET_NAME_PATTERN.test(name) && !/[A-Z]/.test(name);
/** The environment is a restore target too (`--target <environment>`), and it also names objects
 * next to the DNS-label namespace (MinIO users `<namespace>-<environment>-job`), so: no "_" either. */
const isEnvironmentName = (name: string) => TARGET_NAME_PATTERN.test(name) && /^[a-z0-9-]+$/.test(name);

const cron = z.string().superRefine((value, ctx) => {
  const problem = cronProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const scheduleOrOff = z.union([z.literal(false), cron]);
const quantity = z.string().regex(QUANTITY, { error: "is not a Kubernetes quantity (e.g. 500m, 256Mi, 2Gi)" });
const seconds = (fallback: number) => z.number().int().min(60).max(7 * 86_400).default(fallback);

const settingsSchema = z
  .object({
    namespace: z.string().max(63).regex(DNS_LABEL, { error: "is not a DNS label (lowercase letters, digits, -)" }).default("db-backup"),
    /** BACKUP_ENV; defaults to the stack's name. */
    environment: z.string().refine(isEnvironmentName, { error: "must be lowercase letters, digits and -" }).optional(),
    timeZone: z.string().refine(isTimeZone, { error: "is not an IANA time zone (e.g. Etc/UTC, Europe/Berlin)" }).default("Etc/UTC"),
    /** Backup type → cron, or false to switch off a type the catalog schedules by default. */
    schedules: z.record(z.string(), scheduleOrOff).default({}),
    verifySchedule: scheduleOrOff.default("0 5 * * 0"),
    statusSchedule: scheduleOrOff.default("15 * * * *"),
    /** Slack on top of a schedule's longest gap before `status --max-age` calls backups stale. */
    statusGraceHours: z.number().int().min(1).max(72).default(2),
    /** Backup type → days; may only lengthen the catalog's retention. */
    retentionDays: z.record(z.string(), z.number()).default({}),
    bucket: z
      .object({
        name: z.string().regex(BUCKET_PATTERN, { error: "is not a bucket name" }).default(DEFAULT_BUCKET),
        prefix: z.string().regex(PREFIX_PATTERN, { error: "must be letters, digits, _ and - separated by /" }).default(DEFAULT_PREFIX),
        /** Fixed when the bucket is created: changing it later would mean a new bucket. */
        objectLocking: z.boolean().default(false),
        /** Adopt an existing bucket of this name instead of creating one (see README.md, Deployment with Pulumi). */
        adopt: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    backupName: z.string().regex(BACKUP_NAME_PATTERN, { error: "must be a letter, then letters, digits or -" }).optional(),
    schemas: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_$-]*$/, { error: "is not a schema name" })).default([]),
    image: z
      .object({
        /** Where the image is pushed, e.g. `ghcr.io/acme` or `registry.example.com/platform`. */
        registry: z.string().regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/, { error: "is not a registry path (host[:port][/path])" }),
        name: z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*$/).default("db-backup"),
        tag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/).default(pkg.version),
        /** PostgreSQL client major version: the server's (Supabase runs 15 and 17). */
        pgMajor: z.union([z.literal(15), z.literal(16), z.literal(17)]).default(15),
        platform: z.string().default("linux/amd64"),
        push: z.boolean().default(true),
        registryUsername: z.string().min(1).optional(),
      })
      .strict(),
    minio: z
      .object({
        /** host:port where `pulumi up` reaches MinIO's API (the provider). */
        server: z.string().regex(/^[A-Za-z0-9.-]+:\d+$/, { error: "must be host:port" }),
        ssl: z.boolean().default(true),
        /** The URL pods use (MINIO_ENDPOINT), often the in-cluster Service. */
        endpoint: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }),
      })
      .strict(),
    natsUrl: z.string().regex(/^(nats|tls|wss?):\/\/[^\s]+$/, { error: "must be a nats:// URL" }).optional(),
    supabaseProjectId: z.string().regex(/^[a-z0-9]{8,40}$/, { error: "is not a Supabase project ref" }).optional(),
    /** BACKUP_LOCK_SECONDS: GOVERNANCE retention the job sets; unset, the job uses the table's minimum. */
    lockSeconds: z.number().int().min(1).optional(),
    resources: z
      .object({
        cpuRequest: quantity.default("100m"),
        memoryRequest: quantity.default("256Mi"),
        cpuLimit: quantity.default("2"),
        memoryLimit: quantity.default("1Gi"),
        /** The emptyDir the job writes temporary files to (root filesystem is read-only). */
        scratchSize: quantity.default("10Gi"),
      })
      .strict()
      .prefault({}),
    deadlines: z
      .object({
        backupSeconds: seconds(4 * 3600),
        verifySeconds: seconds(4 * 3600),
        restoreSeconds: seconds(6 * 3600),
        statusSeconds: seconds(600),
      })
      .strict()
      .prefault({}),
    /** A config-driven one-off restore: `pulumi up` creates a Job `db-restore-<requestId>`. */
    restore: z
      .object({
        backupId: z.string().min(1),
        requestId: z.string().max(40).regex(DNS_LABEL, { error: "must be lowercase letters, digits and - (it names the Job)" }),
        /** An environment name (resolved through <NAME>_DB_URL in the Secret); default: this stack's. */
        target: z.string().refine(isTargetName, { error: "must be an environment name (lowercase letters, digits, _ and -)" }).optional(),
        approvedBy: z.string().min(1).optional(),
        reason: z.string().min(1).optional(),
        clean: z.boolean().default(true),
        skipSafetyBackup: z.boolean().default(false),
      })
      .strict()
      .optional(),
  })
  .strict();

type Settings = z.infer<typeof settingsSchema>;

export interface RestoreRequest {
  backupId: string;
  requestId: string;
  target: string;
  approvedBy?: string;
  reason?: string;
  clean: boolean;
  skipSafetyBackup: boolean;
}

export interface StackSecrets {
  sourceDbUrl: pulumi.Output<string>;
  verifyDbUrl: pulumi.Output<string>;
  minioAdminUser: pulumi.Output<string>;
  minioAdminPassword: pulumi.Output<string>;
  productionDbUrl?: pulumi.Output<string>;
  natsToken?: pulumi.Output<string>;
  registryPassword?: pulumi.Output<string>;
  supabaseAccessToken?: pulumi.Output<string>;
  targetDbUrls?: pulumi.Output<Record<string, string>>;
}

export interface StackConfig extends Omit<Settings, "schedules" | "retentionDays" | "restore" | "environment"> {
  stack: string;
  /** BACKUP_ENV: the stack's name unless `environment` says otherwise. */
  environment: string;
  isProduction: boolean;
  /** Enabled schedules only: the catalog's defaults merged with the stack's. */
  schedules: Partial<Record<BackupType, string>>;
  retention: Record<BackupType, number>;
  restore?: RestoreRequest;
  /** Names of the extra restore targets in `targetDbUrls` (the values stay secret). */
  targetNames: string[];
  secrets: StackSecrets;
}

export class ConfigError extends pulumi.RunError {
  constructor(readonly problems: string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Reads and validates the current stack's configuration. Call once, from index.ts. */
export function loadConfig(): StackConfig {
  const project = pulumi.getProject();
  const stack = pulumi.getStack();
  const raw = pulumi.runtime.allConfig();
  const key = (...path: PropertyKey[]) => `${project}:${path.map(String).join(".")}`;
  const problems: string[] = [];
  const reportUnder = (...base: PropertyKey[]) => (path: PropertyKey[], message: string) => problems.push(`${key(...base, ...path)}: ${message}`);

  const settings = parseSettings(project, raw, key);
  const schedules = mergeSchedules(settings.schedules, reportUnder("schedules"));
  const retention = checkRetention(settings.retentionDays, reportUnder("retentionDays"));
  const environment = settings.environment ?? stack;
  const secretValue = (name: SecretKey): string | undefined => raw[key(name)];
  checkSecrets(secretValue, key, problems);
  if (settings.image.registryUsername && !secretValue("registryPassword")) {
    problems.push(`${key("registryPassword")}: image.registryUsername is set, so the registry password is required: pulumi config set --secret ${key("registryPassword")} '…'`);
  }
  const targetNames = checkTargets(environment, secretValue, key, problems);
  const restore = settings.restore && checkRestore(settings.restore, environment, targetNames, reportUnder("restore"));
  if (problems.length > 0) throw new ConfigError(problems);

  const config = new pulumi.Config(project);
  const optionalSecret = (name: SecretKey) => (secretValue(name) ? config.requireSecret(name) : undefined);
  const { schedules: _s, retentionDays: _r, restore: _x, environment: _e, ...rest } = settings;
  return {
    ...rest,
    stack,
    environment,
    isProduction: isProductionEnvName(environment),
    schedules,
    retention,
    restore,
    targetNames,
    secrets: {
      sourceDbUrl: config.requireSecret("sourceDbUrl"),
      verifyDbUrl: config.requireSecret("verifyDbUrl"),
      minioAdminUser: config.requireSecret("minioAdminUser"),
      minioAdminPassword: config.requireSecret("minioAdminPassword"),
      productionDbUrl: optionalSecret("productionDbUrl"),
      natsToken: optionalSecret("natsToken"),
      registryPassword: optionalSecret("registryPassword"),
      supabaseAccessToken: optionalSecret("supabaseAccessToken"),
      targetDbUrls: secretValue("targetDbUrls") ? config.requireSecretObject<Record<string, string>>("targetDbUrls") : undefined,
    },
  };
}

type KeyName = (...path: PropertyKey[]) => string;
type Report = (path: PropertyKey[], message: string) => void;

/** The plain (non-secret) settings through the schema; shape errors stop here, all at once. */
function parseSettings(project: string, raw: Record<string, string>, key: KeyName): Settings {
  const plain: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(raw)) {
    if (!fullKey.startsWith(`${project}:`)) continue; // other namespaces belong to providers (kubernetes:, …)
    const name = fullKey.slice(project.length + 1);
    if (name in SECRET_KEYS) continue;
    plain[name] = TEXT_KEYS.has(name) ? value : parseValue(value);
  }
  const parsed = settingsSchema.safeParse(plain);
  if (parsed.success) return parsed.data;
  const problems: string[] = [];
  for (const issue of parsed.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const k of issue.keys) problems.push(`${key(...issue.path, k)}: not a known setting (see README.md, Deployment with Pulumi)`);
    } else if (issue.code === "invalid_type" && / received undefined$/.test(issue.message)) {
      problems.push(`${key(...issue.path)}: is required (see README.md, Deployment with Pulumi)`);
    } else {
      problems.push(`${key(...issue.path)}: ${issue.message}`);
    }
  }
  throw new ConfigError(problems);
}

/** Required secrets present, and every secret really stored as one. Values are never echoed. */
function checkSecrets(secretValue: (name: SecretKey) => string | undefined, key: KeyName, problems: string[]): void {
  for (const [name, spec] of Object.entries(SECRET_KEYS) as [SecretKey, (typeof SECRET_KEYS)[SecretKey]][]) {
    const value = secretValue(name);
    const setIt = `pulumi config set --secret ${key(name)} '${spec.example}'`;
    if (value === undefined || value.trim() === "") {
      if (spec.required) problems.push(`${key(name)}: required secret is not set: ${setIt}`);
    } else if (!isSecretConfig(key(name))) {
      problems.push(`${key(name)}: is stored as plain text; store it as a secret: ${setIt}`);
    }
  }
}

/** Restore target names (keys of `targetDbUrls`). `--target <name>` reads <NAME>_DB_URL, so no name
 * (nor the environment's own) may shadow a variable the job reads for something else. */
function checkTargets(environment: string, secretValue: (name: SecretKey) => string | undefined, key: KeyName, problems: string[]): string[] {
  const names = targetNamesOf(secretValue("targetDbUrls"), (message) => problems.push(`${key("targetDbUrls")}: ${message}`));
  const ownVariable = envVarForTarget(environment);
  const reserved: string[] = [ENV.sourceDbUrl, ENV.verifyDbUrl];
  if (reserved.includes(ownVariable)) {
    problems.push(`${key("environment")}: "${environment}" would be read through ${ownVariable}, which the job uses for something else: set another ${key("environment")}`);
  }
  if (ownVariable === ENV.productionDbUrl && secretValue("productionDbUrl")) {
    problems.push(`${key("productionDbUrl")}: in environment "${environment}", ${ENV.productionDbUrl} is this stack's sourceDbUrl: leave it unset`);
  }
  for (const name of names) {
    const variable = envVarForTarget(name);
    if ([...reserved, ENV.productionDbUrl, ownVariable].includes(variable)) {
      problems.push(`${key("targetDbUrls")}: target "${name}" would be read through ${variable}, which is already set otherwise: rename it`);
    }
  }
  return names;
}

/** The one-off restore: a valid id, a known target, and in production an approver. */
function checkRestore(r: NonNullable<Settings["restore"]>, environment: string, targetNames: string[], report: Report): RestoreRequest {
  try {
    validateBackupId(r.backupId, "restore.backupId");
  } catch (error) {
    report(["backupId"], (error as Error).message);
  }
  const target = r.target ?? environment;
  if ((isProductionEnvName(environment) || isProductionEnvName(target)) && !r.approvedBy) {
    report(
      ["approvedBy"],
      `a restore in ${environment} or into ${target} counts as production and needs an approver: ` +
        `pulumi config set --path '${pulumi.getProject()}:restore.approvedBy' '<name>'`,
    );
  }
  if (r.skipSafetyBackup && !r.reason) report(["reason"], "skipSafetyBackup needs a reason (it is recorded with the restore)");
  if (target !== environment && !targetNames.includes(target)) {
    report(["target"], `"${target}" is neither this stack's environment (${environment}) nor a key of ${pulumi.getProject()}:targetDbUrls`);
  }
  return { ...r, target };
}

/** Pulumi hands structured values (maps, lists, numbers, booleans) to programs as JSON text. */
function parseValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The engine passes the names of secret config keys; a key set without --secret is not among them.
 * (`isConfigSecret` is exported by the runtime but not typed.) */
function isSecretConfig(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return runtime.isConfigSecret ? runtime.isConfigSecret(fullKey) : true;
}

function mergeSchedules(overrides: Record<string, string | false>, report: Report): Partial<Record<BackupType, string>> {
  for (const [type, schedule] of Object.entries(overrides)) {
    if (!isBackupType(type)) {
      report([type], `unknown backup type "${type}" (known: ${BACKUP_TYPES.join(", ")})`);
    } else if (type === "pre_migration" && schedule !== false) {
      report([type], "pre_migration backups need a tag per migration: use the db-backup-pre-migration template, not a schedule");
    }
  }
  const schedules: Partial<Record<BackupType, string>> = {};
  for (const type of BACKUP_TYPES) {
    const override = overrides[type];
    const schedule = override === undefined ? backupTypes[type].defaultSchedule : override || undefined;
    if (schedule) schedules[type] = schedule.trim();
  }
  return schedules;
}

function checkRetention(overrides: Record<string, number>, report: Report): Record<BackupType, number> {
  const valid: Partial<Record<BackupType, number>> = {};
  for (const [type, days] of Object.entries(overrides)) {
    if (!isBackupType(type)) {
      report([type], `unknown backup type "${type}" (known: ${BACKUP_TYPES.join(", ")})`);
      continue;
    }
    try {
      retentionRules({ [type]: days }); // the catalog's own rule: whole days, at least the minimum, lengthen only
      valid[type] = days;
    } catch (error) {
      report([type], (error as Error).message);
    }
  }
  return retentionRules(valid);
}

function targetNamesOf(value: string | undefined, report: (message: string) => void): string[] {
  if (!value) return [];
  const parsed = parseValue(value);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    report("must be a map of target name → postgres:// URL: pulumi config set --secret --path 'db-backup:targetDbUrls.staging' 'postgres://…'");
    return [];
  }
  const names = Object.keys(parsed);
  for (const name of names) {
    if (!isTargetName(name)) report(`target name "${name}" must be lowercase letters, digits, _ and -`);
  }
  return names;
}
