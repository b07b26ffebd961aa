import { describe, expect, it } from "vitest";
import {
  BACKUP_TYPES,
  EXIT_CODES,
  MIN_RETENTION_DAYS,
  MIN_VERIFIED_RESTORE_POINTS,
  backupTypes,
  eventSubjects,
  isBackupType,
  objectLayout,
  retentionRules,
} from "../../../job/core/catalog";

describe("backup types and retention (the spec's table)", () => {
  it("has exactly daily, manual, pre_migration, monthly", () => {
    expect([...BACKUP_TYPES].sort()).toEqual(["daily", "manual", "monthly", "pre_migration"]);
  });

  it("defaults: daily 7, manual 30, pre_migration 90, monthly 365 days", () => {
    expect(retentionRules()).toEqual({ daily: 7, manual: 30, pre_migration: 90, monthly: 365 });
  });

  it("the seed's safety numbers: nothing kept less than 7 days, 3 verified restore points", () => {
    expect(MIN_RETENTION_DAYS).toBe(7);
    expect(MIN_VERIFIED_RESTORE_POINTS).toBe(3);
  });

  it("overrides may lengthen a type and leave the others", () => {
    expect(retentionRules({ daily: 14, monthly: 730 })).toEqual({ daily: 14, manual: 30, pre_migration: 90, monthly: 730 });
  });

  it("accepts exactly the 7-day minimum", () => {
    expect(retentionRules({ daily: 7 }).daily).toBe(7);
  });

  it.each([
    ["daily", 6],
    ["manual", 1],
    ["monthly", 0],
    ["pre_migration", -90],
  ] as const)("refuses %s = %i days (shorter than 7)", (type, days) => {
    expect(() => retentionRules({ [type]: days })).toThrow(new RegExp(`${type}.*7|7.*${type}`));
  });

  it.each([7.5, Number.NaN, Number.POSITIVE_INFINITY])("refuses %p days (not a whole number)", (days) => {
    expect(() => retentionRules({ manual: days })).toThrow(/manual/);
  });

  it("isBackupType knows the four types and nothing else", () => {
    for (const t of BACKUP_TYPES) expect(isBackupType(t)).toBe(true);
    for (const t of ["legacy", "Daily", "hourly", "", "pre-migration"]) expect(isBackupType(t)).toBe(false);
  });

  it("each type lives in its own folder (so lifecycle rules can target it)", () => {
    const folders = BACKUP_TYPES.map((t) => backupTypes[t].folder);
    expect(new Set(folders).size).toBe(folders.length);
  });
});

describe("objectLayout", () => {
  it("puts dumps at <prefix>/<type>/<id>.sql.gz", () => {
    expect(objectLayout.dumpKey("supabase", "daily", "backup_20250607_120000", "plain")).toBe("supabase/daily/backup_20250607_120000.sql.gz");
    expect(objectLayout.dumpKey("supabase", "pre_migration", "before_v2_schema", "plain")).toBe("supabase/pre_migration/before_v2_schema.sql.gz");
    expect(objectLayout.dumpKey("supabase", "monthly", "pmoves_202505", "plain")).toBe("supabase/monthly/pmoves_202505.sql.gz");
  });

  it("uses .dump for the custom format", () => {
    expect(objectLayout.dumpKey("supabase", "manual", "backup_20250607_120000", "custom")).toBe("supabase/manual/backup_20250607_120000.dump");
  });

  it("puts the manifest beside the dump", () => {
    expect(objectLayout.manifestKey("supabase", "manual", "backup_20250607_120000")).toBe("supabase/manual/backup_20250607_120000.manifest.json");
  });

  it("keeps the latest pointer at the prefix root, beside the seed's old latest.sql.gz (listed, never written)", () => {
    expect(objectLayout.latestKey("supabase")).toBe("supabase/latest.json");
    expect(objectLayout.legacyLatestKey("supabase")).toBe("supabase/latest.sql.gz");
  });

  it("keeps run markers, drill records and request records in folders of their own", () => {
    expect(objectLayout.runKey("supabase", "backup_20250607_120000")).toBe("supabase/runs/backup_20250607_120000.json");
    expect(objectLayout.verificationKey("supabase", "backup_20250607_120000", "2025-06-08T01:02:03.456Z")).toBe("supabase/verifications/backup_20250607_120000/2025-06-08T010203.456Z.json");
    expect(objectLayout.requestKey("supabase", "r1")).toBe("supabase/requests/r1.json");
  });

  it("type folders end with a slash (a listing prefix)", () => {
    expect(objectLayout.typeFolder("supabase", "daily")).toBe("supabase/daily/");
  });

  it("works with a nested prefix", () => {
    expect(objectLayout.dumpKey("team/supabase", "daily", "x", "plain")).toBe("team/supabase/daily/x.sql.gz");
    expect(objectLayout.latestKey("team/supabase")).toBe("team/supabase/latest.json");
  });
});

describe("events and exit codes", () => {
  it("keeps the seed's completed subject", () => {
    expect(eventSubjects.completed).toBe("backup.database.completed.v1");
    expect(eventSubjects.failed).toBe("backup.database.failed.v1");
    expect(eventSubjects.restored).toBe("backup.database.restored.v1");
  });

  it("usage errors exit 2 and codes are distinct", () => {
    expect(EXIT_CODES.ok).toBe(0);
    expect(EXIT_CODES.usage).toBe(2);
    const codes = Object.values(EXIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
