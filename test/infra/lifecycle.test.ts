// The lifecycle rules come from the catalog's retention table (no number typed twice), match no
// tag (a key with tagging rights could otherwise steer them), keep a noncurrent version at least as
// long as its lock, and translate to valid S3 lifecycle rules.
import { describe, expect, it } from "vitest";
import { BACKUP_TYPES, backupTypes, longestRetentionDays, objectLayout, retentionRules } from "../../job/core/catalog";
import { NONCURRENT_GRACE_DAYS, lifecycleRules, toS3Lifecycle } from "../../infra/lifecycle";

const PREFIX = "supabase";

describe("lifecycleRules", () => {
  const rules = lifecycleRules(PREFIX, retentionRules());

  it("expires each type's current versions after its retention, and keeps a noncurrent version as long again", () => {
    for (const type of BACKUP_TYPES) {
      expect(rules.find((r) => r.id === `${type}-expire`), type).toEqual({
        id: `${type}-expire`,
        status: "Enabled",
        filter: objectLayout.typeFolder(PREFIX, type),
        expiration: `${backupTypes[type].retentionDays}d`,
        noncurrentVersionExpirationDays: backupTypes[type].retentionDays,
      });
    }
  });

  it("no rule matches a tag, and no noncurrent backup version goes before its type's retention", () => {
    for (const rule of rules) expect(Object.keys(rule).sort()).not.toContain("tags");
    for (const type of BACKUP_TYPES) {
      for (const rule of rules.filter((r) => objectLayout.typeFolder(PREFIX, type).startsWith(r.filter) || r.filter.startsWith(objectLayout.typeFolder(PREFIX, type)))) {
        if (rule.noncurrentVersionExpirationDays !== undefined) expect(rule.noncurrentVersionExpirationDays, rule.id).toBeGreaterThanOrEqual(backupTypes[type].retentionDays);
        if (/^\d+d$/.test(rule.expiration ?? "")) expect(Number.parseInt(rule.expiration!), rule.id).toBeGreaterThanOrEqual(backupTypes[type].retentionDays);
      }
    }
  });

  it("cleans up lone delete markers per folder, in rules of their own (S3 takes ExpiredObjectDeleteMarker alone)", () => {
    for (const folder of [...BACKUP_TYPES, "runs", "verifications"]) {
      const rule = rules.find((r) => r.id === `${folder}-delete-markers`);
      expect(rule, folder).toMatchObject({ status: "Enabled", expiration: "DeleteMarker" });
      expect(rule!.noncurrentVersionExpirationDays).toBeUndefined();
    }
  });

  it("run markers go after the shortest retention, drill verdicts after the longest; request records never", () => {
    const longer = retentionRules({ daily: 14, monthly: 400 });
    const r = lifecycleRules(PREFIX, longer);
    expect(r.find((x) => x.id === "runs-expire")).toMatchObject({ filter: objectLayout.runsFolder(PREFIX), expiration: "14d", noncurrentVersionExpirationDays: 14 });
    expect(r.find((x) => x.id === "verifications-expire")).toMatchObject({
      filter: objectLayout.verificationsFolder(PREFIX),
      expiration: `${longestRetentionDays(longer)}d`,
      noncurrentVersionExpirationDays: 400,
    });
    for (const rule of r) expect(objectLayout.requestKey(PREFIX, "inc-42").startsWith(rule.filter), rule.id).toBe(false);
  });

  it("a replaced latest.json, and the legacy latest.sql.gz, go a day after they became noncurrent; the current ones never", () => {
    expect(rules.find((r) => r.id === "latest-noncurrent")).toEqual({
      id: "latest-noncurrent",
      status: "Enabled",
      filter: objectLayout.latestKey(PREFIX),
      noncurrentVersionExpirationDays: NONCURRENT_GRACE_DAYS,
    });
    expect(rules.find((r) => r.id === "legacy-latest-noncurrent")).toEqual({
      id: "legacy-latest-noncurrent",
      status: "Enabled",
      filter: objectLayout.legacyLatestKey(PREFIX),
      noncurrentVersionExpirationDays: NONCURRENT_GRACE_DAYS,
    });
    expect(objectLayout.latestKey(PREFIX)).toBe("supabase/latest.json");
  });

  it("follows a stack's lengthened retention; ids are unique", () => {
    const longer = lifecycleRules("other/prefix", retentionRules({ monthly: 400, pre_migration: 180 }));
    expect(longer.find((r) => r.id === "monthly-expire")).toMatchObject({ expiration: "400d", noncurrentVersionExpirationDays: 400 });
    expect(longer.find((r) => r.id === "pre_migration-expire")?.expiration).toBe("180d");
    expect(longer.find((r) => r.id === "daily-expire")?.filter).toBe("other/prefix/daily/");
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  });
});

describe("toS3Lifecycle", () => {
  it("maps the provider's rule shape onto S3's LifecycleConfiguration", () => {
    const s3 = toS3Lifecycle(lifecycleRules(PREFIX, retentionRules()));
    expect(s3.Rule.find((r) => r.ID === "daily-expire")).toEqual({
      ID: "daily-expire",
      Status: "Enabled",
      Filter: { Prefix: "supabase/daily/" },
      Expiration: { Days: backupTypes.daily.retentionDays },
      NoncurrentVersionExpiration: { NoncurrentDays: backupTypes.daily.retentionDays },
    });
    expect(s3.Rule.find((r) => r.ID === "daily-delete-markers")).toEqual({
      ID: "daily-delete-markers",
      Status: "Enabled",
      Filter: { Prefix: "supabase/daily/" },
      Expiration: { ExpiredObjectDeleteMarker: true },
    });
    expect(s3.Rule.find((r) => r.ID === "latest-noncurrent")).toEqual({
      ID: "latest-noncurrent",
      Status: "Enabled",
      Filter: { Prefix: "supabase/latest.json" },
      NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_GRACE_DAYS },
    });
  });

  it("refuses an expiration it cannot express", () => {
    expect(() => toS3Lifecycle([{ id: "x", status: "Enabled", filter: "a/", expiration: "2030-01-01" }])).toThrow(/neither/);
  });
});
