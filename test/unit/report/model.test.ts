import { describe, expect, it } from "vitest";
import type { BackupEntry } from "../../../job/inventory/backups";
import { backupTypes, type BackupType } from "../../../job/core/catalog";
import type { BackupManifest } from "../../../job/inventory/manifest";
import { buildStatusReport, renderListMarkdown, renderStatusMarkdown } from "../../../job/report/model";
import { sampleManifest } from "../../helpers/manifests";

const MB = 1024 * 1024;
const NOW = new Date("2025-06-07T13:00:00Z");
const VERIFIED = { verifiedAt: "2025-06-07T12:30:00.000Z", durationMs: 1000, tables: 2, rows: 3, server: "127.0.0.1:5432/verify" };

function completed(id: string, type: BackupType, created: string, size: number, extra: Partial<BackupManifest> = {}): BackupEntry {
  const manifest = sampleManifest({
    id,
    type,
    key: `supabase/${type}/${id}.sql.gz`,
    startedAt: new Date(created).toISOString(),
    finishedAt: new Date(created).toISOString(),
    sizes: { stored: size, dumped: size * 4 },
    ...extra,
  });
  return { id, type, status: "completed", key: manifest.key, size, createdAt: new Date(created), manifest, manifestVersionId: null, dumpVersionId: null, alarms: [] };
}

function failed(id: string, created: string, error: string): BackupEntry {
  const manifest = sampleManifest({ id, type: "daily", status: "failed", error, sha256: null, rowCounts: null, sizes: { stored: 0, dumped: null } });
  return { id, type: "daily", status: "failed", key: null, size: 0, createdAt: new Date(created), manifest, manifestVersionId: null, dumpVersionId: null, alarms: [] };
}

function legacy(id: string, created: string, size: number): BackupEntry {
  return { id, type: "legacy", status: "legacy", key: `supabase/${id}.sql.gz`, size, createdAt: new Date(created), manifest: null, manifestVersionId: null, dumpVersionId: null, alarms: [] };
}

// Newest first, as listBackups returns them.
const ENTRIES: BackupEntry[] = [
  completed("backup_20250607_120000", "manual", "2025-06-07T12:00:00Z", 245 * MB, { verification: VERIFIED }),
  completed("backup_20250606_000000", "daily", "2025-06-06T00:00:00Z", 242 * MB, { verification: VERIFIED }),
  completed("backup_20250605_000000", "daily", "2025-06-05T00:00:00Z", 240 * MB),
  failed("backup_20250604_000000", "2025-06-04T00:00:00Z", "pg_dump exited with 1"),
  completed("before_v2_schema", "pre_migration", "2025-06-01T09:30:00Z", 10 * MB, { tag: "before_v2_schema" }),
  legacy("pmoves_20250508_000000", "2025-05-08T00:00:00Z", 100 * MB),
  completed("backup_20250501_030000", "monthly", "2025-05-01T03:00:00Z", 200 * MB),
];

describe("buildStatusReport", () => {
  const report = buildStatusReport(ENTRIES, NOW);

  it("is healthy with a completed backup", () => {
    expect(report.healthy).toBe(true);
    expect(report.generatedAt).toBe("2025-06-07T13:00:00.000Z");
  });

  it("is unhealthy with no backups at all, and says so", () => {
    const r = buildStatusReport([], NOW);
    expect(r.healthy).toBe(false);
    expect(r.warnings.join(" ")).toMatch(/no successful backup/i);
    expect(r.summary).toMatchObject({ totalBackups: 0, totalBytes: 0, oldestBackup: null, latestBackup: null });
  });

  it("is unhealthy when every backup failed", () => {
    const r = buildStatusReport([failed("backup_20250607_020000", "2025-06-07T02:00:00Z", "disk full")], NOW);
    expect(r.healthy).toBe(false);
    expect(r.summary.failedBackups).toBe(1);
    expect(r.summary.totalBackups).toBe(0);
  });

  it("totals the stored backups (completed and legacy, not failed)", () => {
    expect(report.summary.totalBackups).toBe(6);
    expect(report.summary.totalBytes).toBe((245 + 242 + 240 + 10 + 100 + 200) * MB);
    expect(report.summary.failedBackups).toBe(1);
    expect(report.summary.oldestBackup).toBe("2025-05-01T03:00:00.000Z");
    expect(report.summary.latestBackup).toBe("2025-06-07T12:00:00.000Z");
  });

  it("does not depend on the entries' order for oldest/latest", () => {
    const r = buildStatusReport([...ENTRIES].reverse(), NOW);
    expect(r.summary.oldestBackup).toBe("2025-05-01T03:00:00.000Z");
    expect(r.summary.latestBackup).toBe("2025-06-07T12:00:00.000Z");
  });

  it("warns with fewer than 3 verified restore points", () => {
    expect(report.summary.verifiedRestorePoints).toBe(2);
    expect(report.warnings.some((w) => /verified/.test(w) && /3/.test(w))).toBe(true);
  });

  it("does not warn with 3 verified full backups", () => {
    const entries = ENTRIES.map((e) => (e.id === "backup_20250605_000000" ? completed(e.id, "daily", "2025-06-05T00:00:00Z", e.size, { verification: VERIFIED }) : e));
    const r = buildStatusReport(entries, NOW);
    expect(r.summary.verifiedRestorePoints).toBe(3);
    expect(r.warnings.some((w) => /verified/.test(w))).toBe(false);
  });

  it("does not count a verified partial (schema-only) backup as a restore point", () => {
    const partialScope = { ...sampleManifest().scope, schemaOnly: true };
    const entries = [...ENTRIES, completed("backup_20250401_000000", "manual", "2025-04-01T00:00:00Z", 1 * MB, { verification: VERIFIED, scope: partialScope })];
    expect(buildStatusReport(entries, NOW).summary.verifiedRestorePoints).toBe(2);
  });

  it("warns when the most recent attempt failed", () => {
    const entries = [failed("backup_20250608_000000", "2025-06-08T00:00:00Z", "connection refused"), ...ENTRIES];
    const r = buildStatusReport(entries, NOW);
    const w = r.warnings.find((x) => x.includes("backup_20250608_000000"));
    expect(w).toBeDefined();
    expect(w).toContain("connection refused");
    // An older failure (backup_20250604_000000) alone is not "the most recent attempt".
    expect(report.warnings.some((x) => x.includes("backup_20250604_000000"))).toBe(false);
  });

  it("dates expiry as created + the type's retention days", () => {
    const byId = Object.fromEntries(report.latest.map((r) => [r.id, r]));
    expect(byId["backup_20250607_120000"]!.expiresAt).toBe("2025-07-07T12:00:00.000Z"); // manual, 30 days
    expect(byId["backup_20250606_000000"]!.expiresAt).toBe("2025-06-13T00:00:00.000Z"); // daily, 7 days
    expect(byId["before_v2_schema"]!.expiresAt).toBe("2025-08-30T09:30:00.000Z"); // pre_migration, 90 days
    expect(byId["backup_20250501_030000"]!.expiresAt).toBe("2026-05-01T03:00:00.000Z"); // monthly, 365 days
    expect(byId["pmoves_20250508_000000"]!.expiresAt).toBeNull(); // legacy: no lifecycle rule
    for (const e of ENTRIES) {
      if (e.type === "legacy") continue;
      const want = new Date(e.createdAt.getTime() + backupTypes[e.type].retentionDays * 86_400_000).toISOString();
      expect(byId[e.id]!.expiresAt).toBe(want);
    }
  });

  it("uses the retention it is given", () => {
    const r = buildStatusReport(ENTRIES, NOW, { retention: { daily: 14, manual: 60, pre_migration: 90, monthly: 365 } });
    expect(r.latest.find((x) => x.id === "backup_20250606_000000")!.expiresAt).toBe("2025-06-20T00:00:00.000Z");
    expect(r.latest.find((x) => x.id === "backup_20250607_120000")!.expiresAt).toBe("2025-08-06T12:00:00.000Z");
  });

  it("lists the latest backups in the given order, labelled, with tags and verification", () => {
    expect(report.latest.map((r) => r.id)).toEqual(ENTRIES.map((e) => e.id));
    const first = report.latest[0]!;
    expect(first).toMatchObject({ typeLabel: "Manual", status: "Completed", size: 245 * MB, verified: true, createdAt: "2025-06-07T12:00:00.000Z" });
    expect(report.latest.find((r) => r.id === "before_v2_schema")).toMatchObject({ tag: "before_v2_schema", typeLabel: "Pre-Migration" });
    expect(report.latest.find((r) => r.type === "legacy")).toMatchObject({ typeLabel: "Legacy", status: "Legacy", verified: false });
    expect(report.latest.find((r) => r.id === "backup_20250604_000000")).toMatchObject({ status: "Failed" });
  });

  it("limits the latest list to latestCount", () => {
    expect(buildStatusReport(ENTRIES, NOW, { latestCount: 3 }).latest.map((r) => r.id)).toEqual(ENTRIES.slice(0, 3).map((e) => e.id));
  });
});

describe("renderStatusMarkdown", () => {
  const md = renderStatusMarkdown(buildStatusReport(ENTRIES, NOW));

  it("has the seed's headings, in the seed's order", () => {
    const headings = ["## Backup Status", "### Latest Backups", "### Storage Summary", "### Point-in-Time Recovery"];
    const positions = headings.map((h) => md.split("\n").indexOf(h));
    for (const p of positions) expect(p).toBeGreaterThanOrEqual(0);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(md.startsWith("## Backup Status\n")).toBe(true);
  });

  it("has the seed's table header and a row per backup", () => {
    const lines = md.split("\n");
    const header = lines.findIndex((l) => l.startsWith("| ID | Type | Size | Created | Status |"));
    expect(header).toBeGreaterThan(lines.indexOf("### Latest Backups"));
    expect(lines[header + 1]).toMatch(/^\|-+\|-+\|-+\|-+\|-+\|/);
    expect(md).toContain("| backup_20250607_120000 | Manual | 245 MB | 2025-06-07 12:00 | Completed");
    expect(md).toContain("| backup_20250606_000000 | Daily | 242 MB | 2025-06-06 00:00 | Completed");
    for (const e of ENTRIES) expect(md).toContain(`| ${e.id}`);
  });

  it("has the storage summary lines with their values", () => {
    expect(md).toContain("- **Total Backups:** 6\n");
    expect(md).toMatch(/- \*\*Total Size:\*\* 1\.0 GB\n/); // 1037 MB
    expect(md).toContain("- **Oldest Backup:** 2025-05-01\n");
    expect(md).toContain("- **Latest Backup:** 2025-06-07 12:00:00\n");
  });

  it("shows warnings when there are some", () => {
    expect(md).toMatch(/verified restore point/);
  });

  it("says 'none' and no table rows for an empty repository", () => {
    const empty = renderStatusMarkdown(buildStatusReport([], NOW));
    expect(empty).toContain("## Backup Status");
    expect(empty).toContain("- **Total Backups:** 0");
    expect(empty).toContain("- **Oldest Backup:** none");
    expect(empty).toContain("### Point-in-Time Recovery");
    expect(empty).not.toContain("| ID |");
  });

  it("shows the PITR range when configured", () => {
    const r = buildStatusReport(ENTRIES, NOW, {
      pitr: { configured: true, note: "Supabase managed PITR", availableFrom: "2025-05-31T00:00:00Z", availableTo: "2025-06-07T12:00:00Z" },
    });
    const text = renderStatusMarkdown(r);
    const pitr = text.slice(text.indexOf("### Point-in-Time Recovery"));
    expect(pitr).toContain("- **Available Range:** 2025-05-31 to 2025-06-07");
    expect(pitr).toContain("Supabase managed PITR");
  });

  it("says PITR is not configured by default", () => {
    const pitr = md.slice(md.indexOf("### Point-in-Time Recovery"));
    expect(pitr).not.toContain("Available Range");
    expect(pitr).toMatch(/not configured/i);
  });
});

describe("renderListMarkdown", () => {
  it("says there are no backups yet for an empty list", () => {
    expect(renderListMarkdown([])).toMatch(/^No backups yet/);
  });

  it("is the seed's table, one row per entry in the given order", () => {
    const md = renderListMarkdown(ENTRIES);
    const lines = md.trimEnd().split("\n");
    expect(lines[0]!.startsWith("| ID | Type | Size | Created | Status |")).toBe(true);
    expect(lines).toHaveLength(2 + ENTRIES.length);
    expect(lines.slice(2).map((l) => l.split("|")[1]!.trim().split(" ")[0])).toEqual(ENTRIES.map((e) => e.id));
  });

  it("shows tags, legacy dumps, failures and expiry", () => {
    const md = renderListMarkdown(ENTRIES);
    expect(md).toContain("| before_v2_schema (before_v2_schema) | Pre-Migration |");
    expect(md).toMatch(/\| pmoves_20250508_000000 \| Legacy \| 100 MB \| 2025-05-08 00:00 \| Legacy \|/);
    expect(md).toMatch(/\| backup_20250604_000000 \| Daily \| 0 B \| 2025-06-04 00:00 \| Failed \|/);
    expect(md).toContain("2025-07-07"); // manual backup's expiry day
  });
});
