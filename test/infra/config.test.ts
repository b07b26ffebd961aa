// Config is validated at the edge: a wrong value fails the program with a message naming its key
// (and saying how to fix it). Each case starts from the real Pulumi.<stack>.yaml.
import { describe, expect, it } from "vitest";
import { MIN_RETENTION_DAYS, backupTypes } from "../../job/core/catalog";
import { ConfigError } from "../../infra/config";
import { cronProblem, longestGapHours } from "../../infra/cron";
import { maxAgeArgument } from "../../infra/components/schedules";
import { readStackConfig } from "../../infra/testing/capture";
import { PROD_SECRETS, TEST_CA, TEST_SECRETS, stackRun, type StackRunOptions } from "../helpers/infra-stacks";

async function problems(stack: string, options: StackRunOptions): Promise<string> {
  const error = await stackRun(stack, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "the program should have refused this config").toBeInstanceOf(ConfigError);
  return (error as ConfigError).message;
}

describe("stack config validation names the key", () => {
  it("accepts both real stacks as they are", async () => {
    await expect(stackRun("dev")).resolves.toBeDefined();
    await expect(stackRun("prod")).resolves.toBeDefined();
  });

  it("bad cron: too few fields, out-of-range values, seconds field", async () => {
    const message = await problems("dev", { set: { "db-backup:schedules": { daily: "0 2 * *" }, "db-backup:verifySchedule": "61 5 * * 0" } });
    expect(message).toContain('db-backup:schedules.daily: "0 2 * *" has 4 fields');
    expect(message).toMatch(/db-backup:verifySchedule: .*61 5 \* \* 0.*not a valid cron/);
    expect(await problems("dev", { set: { "db-backup:statusSchedule": "0 0 5 * * *" } })).toContain("db-backup:statusSchedule:");
  });

  it("unknown backup type in schedules and retention; pre_migration cannot be scheduled", async () => {
    const message = await problems("dev", {
      set: { "db-backup:schedules": { weekly: "0 1 * * 0", pre_migration: "0 1 * * *" }, "db-backup:retentionDays": { hourly: 10 } },
    });
    expect(message).toContain('db-backup:schedules.weekly: unknown backup type "weekly"');
    expect(message).toContain("db-backup:schedules.pre_migration: pre_migration backups need a tag");
    expect(message).toContain('db-backup:retentionDays.hourly: unknown backup type "hourly"');
  });

  it(`retention under ${MIN_RETENTION_DAYS} days, fractional, or shorter than the catalog's`, async () => {
    const message = await problems("prod", { set: { "db-backup:retentionDays": { daily: 3, manual: 10, monthly: 400.5 } } });
    expect(message).toContain(`db-backup:retentionDays.daily: retention for daily is 3 days: it must be a whole number of at least ${MIN_RETENTION_DAYS} days`);
    expect(message).toMatch(new RegExp(`db-backup:retentionDays.manual: .*10 days.*lengthen.*${backupTypes.manual.retentionDays}`));
    expect(message).toContain("db-backup:retentionDays.monthly: retention for monthly is 400.5 days");
  });

  it("missing secrets, with the command that sets them", async () => {
    const { sourceDbUrl: _omit, minioAdminPassword: _omit2, restoreDbUrl: _omit3, ...rest } = PROD_SECRETS;
    const message = await problems("prod", { secrets: rest });
    expect(message).toContain("db-backup:sourceDbUrl: required secret is not set: pulumi config set --secret db-backup:sourceDbUrl");
    expect(message).toContain("db-backup:minioAdminPassword: required secret is not set");
    expect(message).toContain("db-backup:restoreDbUrl: required secret is not set: pulumi config set --secret db-backup:restoreDbUrl");
  });

  it("a secret stored as plain config is refused", async () => {
    const { sourceDbUrl, ...rest } = TEST_SECRETS;
    const message = await problems("dev", { secrets: rest, set: { "db-backup:sourceDbUrl": sourceDbUrl } });
    expect(message).toContain("db-backup:sourceDbUrl: is stored as plain text; store it as a secret");
    expect(message).not.toContain(sourceDbUrl); // and the message never echoes the value
  });

  it("typos and missing required settings", async () => {
    const message = await problems("dev", {
      set: { "db-backup:schedule": { daily: "0 2 * * *" }, "db-backup:timeZone": "Mars/Olympus" },
      unset: ["db-backup:image"],
    });
    expect(message).toContain("db-backup:schedule: not a known setting");
    expect(message).toContain("db-backup:timeZone: is not an IANA time zone");
    expect(message).toContain("db-backup:image: is required");
  });

  it("nested settings: wrong types and formats name the nested key", async () => {
    const message = await problems("dev", {
      set: {
        "db-backup:bucket": { name: "Not_A_Bucket", objectLocking: "yes" },
        "db-backup:image": { registry: "registry.example.com/platform", pgMajor: 14 },
        "db-backup:minio": { server: "minio:9000", endpoint: "ftp://minio" },
      },
    });
    expect(message).toContain("db-backup:bucket.name: is not a bucket name");
    expect(message).toContain("db-backup:bucket.objectLocking:");
    expect(message).toContain("db-backup:image.pgMajor:");
    expect(message).toContain("db-backup:minio.endpoint: must be an http:// or https:// URL");
  });

  it("removed settings say what replaced them: lockSeconds", async () => {
    const message = await problems("dev", { set: { "db-backup:lockSeconds": 60 } });
    expect(message).toContain("db-backup:lockSeconds: no longer a setting: each backup is locked for its type's retention (db-backup:retentionDays)");
  });

  it("Object Lock cannot be switched off in any stack", async () => {
    for (const stack of ["dev", "prod"]) {
      const message = await problems(stack, { set: { "db-backup:bucket": { name: "db-backups-x", objectLocking: false } } });
      expect(message).toContain("db-backup:bucket.objectLocking: must be true");
      expect(message).toContain("give db-backup:bucket.name a new bucket");
    }
  });

  it("productionDbId is <system identifier>/<database>; with it set, productionDbUrl must go", async () => {
    for (const bad of ["prod-db", "/postgres", "12ab/postgres", "7301234567890123456/"]) {
      expect(await problems("dev", { set: { "db-backup:productionDbId": bad } }), bad).toContain("db-backup:productionDbId: must be <system identifier>/<database>");
    }
    await expect(stackRun("dev", { set: { "db-backup:productionDbId": "7301234567890123456/postgres" } })).resolves.toBeDefined();
    const secret = "postgres://reader:prod-secret-55e1@prod.db:5432/postgres";
    const message = await problems("dev", { secrets: { ...TEST_SECRETS, productionDbUrl: secret } });
    expect(message).toContain("db-backup:productionDbUrl: db-backup:productionDbId is set, and it is what the restore gate compares: remove this secret");
    expect(message).not.toContain(secret);
  });

  it("database URL secrets must be postgres:// URLs; the message names the key, never the value", async () => {
    const message = await problems("dev", {
      secrets: { ...TEST_SECRETS, sourceDbUrl: "mysql://root:hunter2-77@db/x", verifyDbUrl: "not a url hunter3-88", targetDbUrls: { staging: "http://x:hunter4-99@y/z" } },
    });
    expect(message).toContain("db-backup:sourceDbUrl: must start with postgres:// or postgresql://");
    expect(message).toContain("db-backup:verifyDbUrl: is not a URL");
    expect(message).toContain("db-backup:targetDbUrls.staging: must start with postgres://");
    for (const leak of ["hunter2", "hunter3", "hunter4"]) expect(message).not.toContain(leak);
  });

  it("production transport: https to S3 (and TLS to MinIO's admin API), tls:// to NATS, sslmode=verify-full in every database URL", async () => {
    const message = await problems("prod", {
      set: {
        "db-backup:minio": { server: "minio.example.com:9000", ssl: false, endpoint: "http://minio.minio.svc.cluster.local:9000" },
        "db-backup:natsUrl": "nats://nats.nats.svc.cluster.local:4222",
      },
      secrets: {
        ...PROD_SECRETS,
        sourceDbUrl: "postgres://u:pw-aa11@203.0.113.7:5432/postgres?sslmode=require",
        verifyDbUrl: TEST_SECRETS.verifyDbUrl,
        targetDbUrls: { staging: "postgres://u:pw-bb22@203.0.113.8:5432/postgres?sslmode=verify-ca" },
      },
    });
    expect(message).toContain("db-backup:minio.endpoint: a production stack reaches S3 over https:// only");
    expect(message).toContain("db-backup:minio.ssl: a production stack reaches MinIO's admin API over TLS only");
    expect(message).toContain("db-backup:natsUrl: a production stack publishes events over TLS only: use tls://host:port");
    expect(message).toContain("db-backup:sourceDbUrl: a production stack needs sslmode=verify-full in this URL (it has sslmode=require)");
    expect(message).toContain("db-backup:verifyDbUrl: a production stack needs sslmode=verify-full in this URL (it has no sslmode)");
    expect(message).toContain("db-backup:targetDbUrls.staging: a production stack needs sslmode=verify-full in this URL (it has sslmode=verify-ca)");
    expect(message).not.toContain("db-backup:restoreDbUrl:");
    for (const leak of ["pw-aa11", "pw-bb22", "scratch-pass", "203.0.113"]) expect(message).not.toContain(leak);
    // dev stacks may use anything libpq takes
    await expect(stackRun("dev", { secrets: { ...TEST_SECRETS, sourceDbUrl: "postgres://u:p@198.51.100.7/postgres?sslmode=require" } })).resolves.toBeDefined();
  });

  it("tls.caBundle: PEM certificates only, parsed", async () => {
    await expect(stackRun("prod", { set: { "db-backup:tls": { caBundle: TEST_CA } } })).resolves.toBeDefined();
    expect(await problems("prod", { set: { "db-backup:tls": { caBundle: "hello" } } })).toContain("db-backup:tls.caBundle: holds no PEM certificate");
    expect(await problems("prod", { set: { "db-backup:tls": { caBundle: `${TEST_CA}\n-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----` } } })).toContain(
      "db-backup:tls.caBundle: holds a private key",
    );
    const broken = TEST_CA.replace(/\n[A-Za-z0-9+/]{10}/, "\nAAAAAAAAAA");
    expect(await problems("prod", { set: { "db-backup:tls": { caBundle: broken } } })).toContain("db-backup:tls.caBundle: certificate 1 of 1 cannot be read");
    expect(await problems("prod", { set: { "db-backup:tls": { caBundle: `junk\n${TEST_CA}` } } })).toContain("db-backup:tls.caBundle: holds text outside its PEM certificates");
  });

  it("network: required; each peer's problems name their key; the peers must cover what the stack talks to", async () => {
    expect(await problems("dev", { unset: ["db-backup:network"] })).toContain("db-backup:network: is required");
    const network = JSON.parse(readStackConfig("dev")["db-backup:network"]!) as Record<string, unknown>;
    const message = await problems("dev", {
      set: {
        "db-backup:network": {
          ...network,
          s3: [{ namespace: "storage", ports: [9000] }],
          nats: [],
          verifyDb: [],
          sourceDb: [{ cidr: "10.0.0.0/33", ports: [5432] }, { cidr: "10.0.0.0/8", namespace: "db", ports: [5432] }],
          restoreDb: [{ cidr: "198.51.100.0/24", ports: [0] }],
          egress: [],
        },
      },
    });
    expect(message).toContain("db-backup:network.egress: not a known setting");
    expect(message).toContain('db-backup:network.sourceDb.0.cidr: "10.0.0.0/33": an IPv4 prefix length is at most 32');
    expect(message).toContain("db-backup:network.sourceDb.1: give either cidr");
    expect(message).toContain("db-backup:network.restoreDb.0.ports.0:");
    const more = await problems("dev", {
      set: { "db-backup:network": { ...network, s3: [{ namespace: "storage", ports: [9000] }], nats: [], verifyDb: [], restoreDb: [{ cidr: "192.0.2.0/24", ports: [5432] }] } },
      secrets: { ...TEST_SECRETS, restoreDbUrl: "postgres://u:secret-77@198.51.100.9:5432/postgres", supabaseAccessToken: "sbp-x" },
    });
    expect(more).toContain("db-backup:network.nats: db-backup:natsUrl is set, so backups, drills and restores need to reach NATS");
    expect(more).toContain("db-backup:network.verifyDb: the weekly drill (verifySchedule) restores into verifyDbUrl's server");
    expect(more).toContain("db-backup:network.supabaseApi: supabaseAccessToken is set, so the status check calls the Supabase Management API");
    expect(more).toContain("db-backup:network.s3: db-backup:minio.endpoint is a service in namespace minio, which no peer names (peers: storage)");
    expect(more).toContain("db-backup:network.restoreDb: the host of db-backup:restoreDbUrl (an IP address) is inside no peer's cidr");
    expect(more).not.toContain("198.51.100.9");
  });

  it("access: subjects are user and group names", async () => {
    const message = await problems("prod", { set: { "db-backup:access": { restorers: { users: ["alice smith"], groups: ['x"y'] }, admins: {} } } });
    expect(message).toContain("db-backup:access.restorers.users.0: is not a user or group name");
    expect(message).toContain("db-backup:access.restorers.groups.0: is not a user or group name");
    expect(message).toContain("db-backup:access.admins: not a known setting");
  });

  it("prod refuses a config-driven restore without restore.approvedBy, at preview", async () => {
    const message = await problems("prod", {
      preview: true,
      set: { "db-backup:restore": { backupId: "backup_20250607_120000", requestId: "inc-42" } },
    });
    expect(message).toContain("db-backup:restore.approvedBy: a restore in prod or into prod counts as production and needs an approver");
  });

  it("a dev restore into a production target also needs approval; unknown targets and bad ids are refused", async () => {
    const message = await problems("dev", {
      set: { "db-backup:restore": { backupId: "../etc/passwd", requestId: "Bad_Id", target: "prod" } },
    });
    expect(message).toContain("db-backup:restore.requestId: must be lowercase letters");
    const more = await problems("dev", {
      set: { "db-backup:restore": { backupId: "backup/../x", requestId: "r1", target: "production" } },
    });
    expect(more).toContain("db-backup:restore.backupId:");
    expect(more).toContain("db-backup:restore.approvedBy:");
    expect(more).toContain('db-backup:restore.target: "production" is neither this stack\'s environment (dev) nor a key of db-backup:targetDbUrls');
  });

  it("skipSafetyBackup needs a reason; a registry user needs a password; target names may not shadow the job's variables", async () => {
    const message = await problems("dev", {
      set: {
        "db-backup:restore": { backupId: "backup_20250607_120000", requestId: "r2", skipSafetyBackup: true },
        "db-backup:image": { registry: "ghcr.io/acme", registryUsername: "ci-bot" },
      },
      secrets: { ...TEST_SECRETS, targetDbUrls: { verify: "postgres://x@y/z" } },
    });
    expect(message).toContain("db-backup:restore.reason: skipSafetyBackup needs a reason");
    expect(message).toContain("db-backup:registryPassword: image.registryUsername is set");
    expect(message).toContain('db-backup:targetDbUrls: target "verify" would be read through VERIFY_DB_URL');
  });
});

describe("cron helpers", () => {
  it("accept what a CronJob takes and explain what it does not", () => {
    expect(cronProblem("0 2 * * *")).toBeUndefined();
    expect(cronProblem("@daily")).toBeUndefined();
    expect(cronProblem("@fortnightly")).toMatch(/not a cron macro/);
    expect(cronProblem("TZ=Europe/Berlin 0 2 * * *")).toMatch(/set db-backup:timeZone instead/);
    expect(cronProblem("0 0 31 2 *")).toMatch(/not a valid cron/);
  });

  it("the staleness limit is the longest gap between runs plus the grace hours", () => {
    expect(longestGapHours("0 2 * * *", "Etc/UTC")).toBe(24);
    expect(longestGapHours("0 3 1 * *", "Etc/UTC")).toBe(31 * 24);
    expect(longestGapHours("0 2 * * 1-5", "Etc/UTC")).toBe(72);
    expect(maxAgeArgument({ schedules: { daily: "0 2 * * *", monthly: "0 3 1 * *" }, timeZone: "Etc/UTC", statusGraceHours: 2 })).toBe(
      "daily=26h,monthly=746h",
    );
    expect(maxAgeArgument({ schedules: {}, timeZone: "Etc/UTC", statusGraceHours: 2 })).toBeUndefined();
  });
});
