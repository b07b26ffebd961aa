// A stack's configuration: read from Pulumi once, validated here and nowhere else. Everything past
// this file takes the typed StackConfig, or the part of it a component uses. A wrong value fails
// the program (at preview too) with one line per problem, each naming its key, e.g.
// `db-backup:schedules.daily: "0 2 * *" has 4 fields…`.
import * as pulumi from "@pulumi/pulumi";
import net from "node:net";
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
import type { AccessSettings } from "./access";
import { cronProblem, isTimeZone } from "./cron";
import { networkSchema, peersCover, serviceNamespace, type NetworkPeer } from "./network";
import { caBundleProblem, dbUrlHost, dbUrlProblem } from "./transport";

/** Secrets: never plain config, never in Pulumi.<stack>.yaml as plaintext. Each is set with
 * `pulumi config set --secret db-backup:<key> …` and reaches pods only through the Secret of the
 * workload that needs it (components/runtime.ts). `dbUrl`: a PostgreSQL URL, checked for shape and,
 * in a production stack, for `sslmode=verify-full` (never echoed). */
export const SECRET_KEYS = {
  /** Backups only: a read-only role is enough (`pg_read_all_data`, see README.md). */
  sourceDbUrl: { required: true, dbUrl: true, example: "postgres://db_backup:…@db.<ref>.supabase.co:5432/postgres?sslmode=verify-full" },
  /** The drill's scratch server only. */
  verifyDbUrl: { required: true, dbUrl: true, example: "postgres://drill:…@scratch-db:5432/postgres?sslmode=verify-full" },
  /** Restores only: this environment's own database, with a role that may replace its data. */
  restoreDbUrl: { required: true, dbUrl: true, example: "postgres://postgres:…@db.<ref>.supabase.co:5432/postgres?sslmode=verify-full" },
  minioAdminUser: { required: true, dbUrl: false, example: "<MinIO admin access key>" },
  minioAdminPassword: { required: true, dbUrl: false, example: "<MinIO admin secret key>" },
  /** Fallback for `productionDbId` (the gate then connects to production to read its identity);
   * restores only. */
  productionDbUrl: { required: false, dbUrl: true, example: "postgres://…production…?sslmode=verify-full" },
  natsToken: { required: false, dbUrl: false, example: "<NATS token>" },
  registryPassword: { required: false, dbUrl: false, example: "<registry password or token>" },
  supabaseAccessToken: { required: false, dbUrl: false, example: "<Supabase Management API token>" },
  /** An object: restore target name → URL, set per entry with `--path 'targetDbUrls.staging'`. */
  targetDbUrls: { required: false, dbUrl: true, example: "postgres://…?sslmode=verify-full" },
} as const;
export type SecretKey = keyof typeof SECRET_KEYS;

/** Settings that no longer exist, and what replaced them. */
const REMOVED_KEYS: Record<string, string> = {
  lockSeconds:
    "no longer a setting: each backup is locked for its type's retention (db-backup:retentionDays), as the bucket's lifecycle keeps it; remove it: pulumi config rm db-backup:lockSeconds",
};

/** Settings read as raw strings (a value like `2024` stays text); all others are parsed as YAML/JSON
 * values, which is how Pulumi hands structured config to a program. */
const TEXT_KEYS = new Set(["namespace", "environment", "timeZone", "backupName", "natsUrl", "supabaseProjectId", "productionDbId"]);

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
/** A Kubernetes user or group name, as the API server's authenticator reports it (e.g. alice,
 * alice@example.com, oidc:platform-admins, system:serviceaccount:ci:deployer). */
const subjectName = z.string().regex(/^[^\s"'\\\x00-\x1f]{1,253}$/, { error: "is not a user or group name (no spaces, quotes or backslashes)" });
const subjects = z
  .object({ groups: z.array(subjectName).default([]), users: z.array(subjectName).default([]) })
  .strict()
  .prefault({});
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
        /** Fixed when the bucket is created: changing it later would mean a new bucket. Required:
         * backups and restore points are protected by their Object Lock retention. */
        objectLocking: z.boolean().default(true),
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
    /** PRODUCTION_DB_ID: production's `<system identifier>/<database>`, so the restore gate knows
     * production without its credentials (read it there: SELECT system_identifier FROM pg_control_system()). */
    productionDbId: z
      .string()
      .regex(/^\d{1,20}\/\S(.*\S)?$/, { error: "must be <system identifier>/<database>, e.g. 7301234567890123456/postgres (SELECT system_identifier FROM pg_control_system(); on production)" })
      .optional(),
    /** RESTORE_LOCK_TIMEOUT_SECONDS: how long a restore or drill waits for a lock on its target. */
    restoreLockTimeoutSeconds: z.number().int().min(1).max(86_400).optional(),
    tls: z
      .object({
        /** PEM CA certificates (public, plain config) for the S3 endpoint, the databases and NATS:
         * mounted read-only into every pod (MINIO_CA_FILE, PGSSLROOTCERT, NODE_EXTRA_CA_CERTS). */
        caBundle: z.string().optional(),
      })
      .strict()
      .prefault({}),
    /** Egress peers per workload (network.ts): rendered as NetworkPolicies after a default deny. */
    network: networkSchema,
    /** Who may view, restore, or break glass (access.ts): RoleBindings to groups and users. */
    access: z
      .object({ viewers: subjects, restorers: subjects, breakGlass: subjects })
      .strict()
      .prefault({}),
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
  restoreDbUrl: pulumi.Output<string>;
  minioAdminUser: pulumi.Output<string>;
  minioAdminPassword: pulumi.Output<string>;
  productionDbUrl?: pulumi.Output<string>;
  natsToken?: pulumi.Output<string>;
  registryPassword?: pulumi.Output<string>;
  supabaseAccessToken?: pulumi.Output<string>;
  targetDbUrls?: pulumi.Output<Record<string, string>>;
}

export interface StackConfig extends Omit<Settings, "schedules" | "retentionDays" | "restore" | "environment" | "access"> {
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
  access: AccessSettings;
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
  const isProduction = isProductionEnvName(environment);
  if (settings.productionDbId && secretValue("productionDbUrl")) {
    problems.push(
      `${key("productionDbUrl")}: ${key("productionDbId")} is set, and it is what the restore gate compares: remove this secret (pulumi config rm ${key("productionDbUrl")}) so no pod holds production's credentials for it`,
    );
  }
  checkLocking(settings, key, problems);
  checkTransport(settings, isProduction, secretValue, key, problems);
  checkNetwork(settings, secretValue, key, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const config = new pulumi.Config(project);
  const optionalSecret = (name: SecretKey) => (secretValue(name) ? config.requireSecret(name) : undefined);
  const { schedules: _s, retentionDays: _r, restore: _x, environment: _e, access, ...rest } = settings;
  return {
    ...rest,
    stack,
    environment,
    isProduction,
    schedules,
    retention,
    restore,
    targetNames,
    access: access as AccessSettings,
    secrets: {
      sourceDbUrl: config.requireSecret("sourceDbUrl"),
      verifyDbUrl: config.requireSecret("verifyDbUrl"),
      restoreDbUrl: config.requireSecret("restoreDbUrl"),
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
  const problems: string[] = [];
  for (const [name, why] of Object.entries(REMOVED_KEYS)) {
    if (name in plain) {
      problems.push(`${key(name)}: ${why}`);
      delete plain[name];
    }
  }
  const parsed = settingsSchema.safeParse(plain);
  if (parsed.success && problems.length === 0) return parsed.data;
  if (parsed.success) throw new ConfigError(problems);
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

/** Every database URL secret by the key a problem names (`targetDbUrls.staging`), values unread
 * by anything but the checks. */
function dbUrlSecrets(secretValue: (name: SecretKey) => string | undefined): { path: string[]; value: string }[] {
  const urls: { path: string[]; value: string }[] = [];
  for (const [name, spec] of Object.entries(SECRET_KEYS) as [SecretKey, (typeof SECRET_KEYS)[SecretKey]][]) {
    const value = secretValue(name);
    if (!spec.dbUrl || value === undefined || value.trim() === "") continue;
    if (name === "targetDbUrls") {
      const parsed = parseValue(value);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) continue; // reported by checkTargets
      for (const [target, url] of Object.entries(parsed)) urls.push({ path: [name, target], value: typeof url === "string" ? url : "" });
    } else {
      urls.push({ path: [name], value });
    }
  }
  return urls;
}

/** Object Lock is what protects backups and restore points: every stack has it. */
function checkLocking(settings: Settings, key: KeyName, problems: string[]): void {
  if (!settings.bucket.objectLocking) {
    problems.push(
      `${key("bucket", "objectLocking")}: must be true: every backup is locked for its type's retention and restore points are kept by extending that lock, ` +
        "which a bucket without Object Lock cannot do (no key could then stop an overwritten or expired backup from going). " +
        "Object Lock is fixed when a bucket is created: give db-backup:bucket.name a new bucket and copy the old backups over (README.md, The bucket)",
    );
  }
}

/** Database URLs are postgres:// URLs; a production stack speaks TLS everywhere, verified. */
function checkTransport(
  settings: Settings,
  production: boolean,
  secretValue: (name: SecretKey) => string | undefined,
  key: KeyName,
  problems: string[],
): void {
  for (const { path, value } of dbUrlSecrets(secretValue)) {
    const problem = dbUrlProblem(value, production);
    if (problem) problems.push(`${key(...path)}: ${problem}`);
  }
  if (settings.tls.caBundle !== undefined) {
    const problem = caBundleProblem(settings.tls.caBundle);
    if (problem) problems.push(`${key("tls", "caBundle")}: ${problem}`);
  }
  if (!production) return;
  if (new URL(settings.minio.endpoint).protocol !== "https:") {
    problems.push(`${key("minio", "endpoint")}: a production stack reaches S3 over https:// only (give the server's CA in db-backup:tls.caBundle unless a public CA signs it)`);
  }
  if (!settings.minio.ssl) problems.push(`${key("minio", "ssl")}: a production stack reaches MinIO's admin API over TLS only: set it to true`);
  if (settings.natsUrl !== undefined && !settings.natsUrl.split(",").every((u) => u.trim().startsWith("tls://"))) {
    problems.push(`${key("natsUrl")}: a production stack publishes events over TLS only: use tls://host:port`);
  }
}

/** The egress peers must cover what the stack's settings say the pods talk to, where that can be
 * told without DNS: in-cluster service names and IP literals. */
function checkNetwork(settings: Settings, secretValue: (name: SecretKey) => string | undefined, key: KeyName, problems: string[]): void {
  const network = settings.network;
  const missing = (what: string, list: NetworkPeer[], why: string) => {
    if (list.length === 0) problems.push(`${key("network", what)}: ${why}: add the peer (cidr or namespace, with ports)`);
  };
  if (settings.natsUrl) missing("nats", network.nats, "db-backup:natsUrl is set, so backups, drills and restores need to reach NATS");
  if (settings.verifySchedule !== false) missing("verifyDb", network.verifyDb, "the weekly drill (verifySchedule) restores into verifyDbUrl's server");
  if (secretValue("supabaseAccessToken") && settings.statusSchedule !== false) {
    missing("supabaseApi", network.supabaseApi, "supabaseAccessToken is set, so the status check calls the Supabase Management API");
  }
  const inCluster = (what: string, host: string, list: NetworkPeer[], setting: string) => {
    const namespace = serviceNamespace(host);
    const namespaces = list.filter((p) => p.namespace !== undefined).map((p) => p.namespace);
    if (namespace && namespaces.length > 0 && !namespaces.includes(namespace)) {
      problems.push(`${key("network", what)}: ${setting} is a service in namespace ${namespace}, which no peer names (peers: ${namespaces.join(", ")})`);
    }
    // An IP literal must be inside a cidr peer, unless a namespace peer may hold it (a ClusterIP).
    if (net.isIP(host) && namespaces.length === 0 && !peersCover(list, host)) problems.push(`${key("network", what)}: ${setting}'s address ${host} is inside no peer's cidr`);
  };
  inCluster("s3", new URL(settings.minio.endpoint).hostname.replace(/^\[|\]$/g, ""), network.s3, "db-backup:minio.endpoint");
  if (settings.natsUrl && network.nats.length > 0) {
    for (const url of settings.natsUrl.split(",")) {
      const host = /^[a-z]+:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/.exec(url.trim())?.[1]?.replace(/^\[|\]$/g, "");
      if (host) inCluster("nats", host, network.nats, "db-backup:natsUrl");
    }
  }
  // Database hosts are secrets: an IP literal is checked against the cidrs, and only the key is named.
  const dbPeers: Record<string, [string, NetworkPeer[]]> = {
    sourceDbUrl: ["sourceDb", network.sourceDb],
    verifyDbUrl: ["verifyDb", network.verifyDb],
    restoreDbUrl: ["restoreDb", network.restoreDb],
    productionDbUrl: ["restoreDb", network.restoreDb],
    targetDbUrls: ["restoreDb", network.restoreDb],
  };
  for (const { path, value } of dbUrlSecrets(secretValue)) {
    const [what, list] = dbPeers[path[0]!]!;
    const host = dbUrlHost(value);
    if (host && net.isIP(host) && list.length > 0 && list.every((p) => p.cidr !== undefined) && !peersCover(list, host)) {
      problems.push(`${key("network", what)}: the host of ${key(...path)} (an IP address) is inside no peer's cidr`);
    } else if (host && serviceNamespace(host)) {
      const namespaces = list.filter((p) => p.namespace !== undefined).map((p) => p.namespace);
      if (namespaces.length > 0 && !namespaces.includes(serviceNamespace(host))) {
        problems.push(`${key("network", what)}: the host of ${key(...path)} is a service in a namespace no peer names`);
      }
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
