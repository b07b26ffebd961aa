// The lifecycle rules come from the catalog's retention table (no number typed twice), match the
// expiry tag so protected restore points never expire, and translate to valid S3 lifecycle rules.
import { describe, expect, it } from "vitest";
import { BACKUP_TYPES, EXPIRY_TAG, backupTypes, objectLayout, retentionRules } from "../../job/core/catalog";
import { NONCURRENT_GRACE_DAYS, lifecycleRules, toS3Lifecycle } from "../../infra/lifecycle";

const PREFIX = "supabase";

describe("lifecycleRules", () => {
  const rules = lifecycleRules(PREFIX, retentionRules());

  it("expires each type's tagged current versions after the catalog's retention, and their noncurrent versions after the grace", () => {
    for (const type of BACKUP_TYPES) {
      const rule = rules.find((r) => r.id === `${type}-expire`);
      expect(rule, type).toEqual({
        id: `${type}-expire`,
        status: "Enabled",
        filter: objectLayout.typeFolder(PREFIX, type),
        tags: { [EXPIRY_TAG.key]: EXPIRY_TAG.value },
        expiration: `${backupTypes[type].retentionDays}d`,
        noncurrentVersionExpirationDays: NONCURRENT_GRACE_DAYS,
      });
    }
  });

  it("cleans up expired delete markers per type, in a rule without a tag filter (S3 refuses both together)", () => {
    for (const type of BACKUP_TYPES) {
      expect(rules.find((r) => r.id === `${type}-delete-markers`)).toEqual({
        id: `${type}-delete-markers`,
        status: "Enabled",
        filter: objectLayout.typeFolder(PREFIX, type),
        expiration: "DeleteMarker",
      });
    }
    for (const rule of rules.filter((r) => r.expiration === "DeleteMarker")) expect(rule.tags).toBeUndefined();
  });

  it("expires the noncurrent versions each new latest.sql.gz leaves behind, never the current one", () => {
    expect(rules.find((r) => r.id === "latest-noncurrent")).toEqual({
      id: "latest-noncurrent",
      status: "Enabled",
      filter: objectLayout.latestKey(PREFIX),
      noncurrentVersionExpirationDays: NONCURRENT_GRACE_DAYS,
    });
  });

  it("every rule that expires current data (days) matches the expiry tag; nothing else expires current data", () => {
    const expiring = rules.filter((r) => /^\d+d$/.test(r.expiration ?? ""));
    expect(expiring).toHaveLength(BACKUP_TYPES.length);
    for (const rule of expiring) expect(rule.tags).toEqual({ [EXPIRY_TAG.key]: EXPIRY_TAG.value });
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  });

  it("follows a stack's lengthened retention", () => {
    const longer = lifecycleRules("other/prefix", retentionRules({ monthly: 400, pre_migration: 180 }));
    expect(longer.find((r) => r.id === "monthly-expire")?.expiration).toBe("400d");
    expect(longer.find((r) => r.id === "pre_migration-expire")?.expiration).toBe("180d");
    expect(longer.find((r) => r.id === "daily-expire")?.filter).toBe("other/prefix/daily/");
  });
});

describe("toS3Lifecycle", () => {
  it("maps the provider's rule shape onto S3's LifecycleConfiguration", () => {
    const s3 = toS3Lifecycle(lifecycleRules(PREFIX, retentionRules()));
    expect(s3.Rule.find((r) => r.ID === "daily-expire")).toEqual({
      ID: "daily-expire",
      Status: "Enabled",
      Filter: { And: { Prefix: "supabase/daily/", Tag: [{ Key: EXPIRY_TAG.key, Value: EXPIRY_TAG.value }] } },
      Expiration: { Days: backupTypes.daily.retentionDays },
      NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_GRACE_DAYS },
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
      Filter: { Prefix: "supabase/latest.sql.gz" },
      NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_GRACE_DAYS },
    });
  });

  it("refuses an expiration it cannot express", () => {
    expect(() => toS3Lifecycle([{ id: "x", status: "Enabled", filter: "a/", expiration: "2030-01-01" }])).toThrow(/neither/);
  });
});
