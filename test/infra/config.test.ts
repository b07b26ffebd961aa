// Config is validated at the edge: a wrong value fails the program with a message naming its key
// (and saying how to fix it). Each case starts from the real Pulumi.<stack>.yaml.
import { describe, expect, it } from "vitest";
import { MIN_RETENTION_DAYS, backupTypes } from "../../job/core/catalog";
import { ConfigError } from "../../infra/config";
import { cronProblem, longestGapHours } from "../../infra/cron";
import { maxAgeArgument } from "../../infra/components/schedules";
import { TEST_SECRETS, stackRun, type StackRunOptions } from "../helpers/infra-stacks";

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
    const { sourceDbUrl: _omit, minioAdminPassword: _omit2, ...rest } = TEST_SECRETS;
    const message = await problems("prod", { secrets: rest });
    expect(message).toContain("db-backup:sourceDbUrl: required secret is not set: pulumi config set --secret db-backup:sourceDbUrl");
    expect(message).toContain("db-backup:minioAdminPassword: required secret is not set");
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
