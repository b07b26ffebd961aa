// The seed's "Backup Status" output: a model built once from the backups, rendered as markdown or
// JSON (and HTML by report-html.ts). Retention dates come from the shared table.
import { MIN_VERIFIED_RESTORE_POINTS, backupTypes, retentionRules, type BackupType } from "./catalog";
import type { BackupEntry } from "./backups";
import { formatBytes, formatDay, formatMinute, formatSecond } from "./format";
import { isFullBackup } from "./manifest";

export interface ReportRow {
  id: string;
  type: string;
  typeLabel: string;
  size: number;
  createdAt: string;
  status: string;
  expiresAt: string | null;
  tag?: string;
  verified: boolean;
}

export interface PitrSection {
  configured: boolean;
  note: string;
  availableFrom?: string;
  availableTo?: string;
}

export interface StatusReport {
  generatedAt: string;
  latest: ReportRow[];
  summary: {
    totalBackups: number;
    totalBytes: number;
    oldestBackup: string | null;
    latestBackup: string | null;
    failedBackups: number;
    verifiedRestorePoints: number;
  };
  pitr: PitrSection;
  warnings: string[];
  healthy: boolean;
}

const STATUS_LABELS: Record<string, string> = { running: "Running", completed: "Completed", failed: "Failed", legacy: "Legacy", invalid: "Invalid" };

export function expiryOf(entry: BackupEntry, retention: Record<BackupType, number> = retentionRules()): Date | null {
  if (entry.type === "legacy") return null;
  return new Date(entry.createdAt.getTime() + retention[entry.type] * 86_400_000);
}

export function reportRow(entry: BackupEntry, retention?: Record<BackupType, number>): ReportRow {
  const expires = expiryOf(entry, retention);
  return {
    id: entry.id,
    type: entry.type,
    typeLabel: entry.type === "legacy" ? "Legacy" : backupTypes[entry.type].label,
    size: entry.size,
    createdAt: entry.createdAt.toISOString(),
    status: STATUS_LABELS[entry.status] ?? entry.status,
    expiresAt: expires ? expires.toISOString() : null,
    ...(entry.manifest?.tag ? { tag: entry.manifest.tag } : {}),
    verified: entry.manifest?.verification !== undefined,
  };
}

export function buildStatusReport(
  entries: BackupEntry[],
  now: Date,
  options: { retention?: Record<BackupType, number>; pitr?: PitrSection; latestCount?: number } = {},
): StatusReport {
  const stored = entries.filter((e) => e.status === "completed" || e.status === "legacy");
  const successful = entries.filter((e) => e.status === "completed");
  const byTime = [...stored].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const verified = successful.filter((e) => e.manifest && isFullBackup(e.manifest) && e.manifest.verification);
  const warnings: string[] = [];
  if (successful.length === 0) warnings.push("There is no successful backup.");
  const invalid = entries.filter((e) => e.status === "invalid");
  if (invalid.length > 0) warnings.push(`${invalid.length} backup(s) cannot be trusted: ${invalid.map((e) => `${e.id} (${e.problem})`).join("; ")}.`);
  const latestFailure = entries.find((e) => e.status === "failed");
  if (latestFailure && (!successful[0] || latestFailure.createdAt > successful[0].createdAt)) {
    warnings.push(`The most recent backup attempt failed: ${latestFailure.id} (${latestFailure.manifest?.error ?? "unknown reason"}).`);
  }
  if (verified.length < MIN_VERIFIED_RESTORE_POINTS) {
    warnings.push(`Only ${verified.length} verified restore point(s); keep at least ${MIN_VERIFIED_RESTORE_POINTS} (run \`db-backup verify\`).`);
  }
  return {
    generatedAt: now.toISOString(),
    latest: entries.slice(0, options.latestCount ?? 10).map((e) => reportRow(e, options.retention)),
    summary: {
      totalBackups: stored.length,
      totalBytes: stored.reduce((sum, e) => sum + e.size, 0),
      oldestBackup: byTime[0]?.createdAt.toISOString() ?? null,
      latestBackup: byTime[byTime.length - 1]?.createdAt.toISOString() ?? null,
      failedBackups: entries.filter((e) => e.status === "failed").length,
      verifiedRestorePoints: verified.length,
    },
    pitr: options.pitr ?? {
      configured: false,
      note: "Not configured: set SUPABASE_PROJECT_ID and SUPABASE_ACCESS_TOKEN to read Supabase's managed backups and PITR range.",
    },
    warnings,
    healthy: successful.length > 0,
  };
}

function table(rows: ReportRow[]): string {
  const lines = ["| ID | Type | Size | Created | Status | Expires |", "|----|------|------|---------|--------|---------|"];
  for (const r of rows) {
    const id = r.tag ? `${r.id} (${r.tag})` : r.id;
    const status = r.verified ? `${r.status}, verified` : r.status;
    const expires = r.expiresAt ? formatDay(new Date(r.expiresAt)) : "never";
    lines.push(`| ${id} | ${r.typeLabel} | ${formatBytes(r.size)} | ${formatMinute(new Date(r.createdAt))} | ${status} | ${expires} |`);
  }
  return lines.join("\n");
}

export function renderListMarkdown(entries: BackupEntry[], retention?: Record<BackupType, number>): string {
  if (entries.length === 0) return "No backups yet. Create one with `db-backup create`.\n";
  return table(entries.map((e) => reportRow(e, retention))) + "\n";
}

export function renderStatusMarkdown(report: StatusReport): string {
  const s = report.summary;
  const out = ["## Backup Status", ""];
  if (report.warnings.length > 0) {
    out.push("### Warnings", ...report.warnings.map((w) => `- ${w}`), "");
  }
  out.push("### Latest Backups", report.latest.length ? table(report.latest) : "No backups yet.", "");
  out.push(
    "### Storage Summary",
    `- **Total Backups:** ${s.totalBackups}`,
    `- **Total Size:** ${formatBytes(s.totalBytes)}`,
    `- **Oldest Backup:** ${s.oldestBackup ? formatDay(new Date(s.oldestBackup)) : "none"}`,
    `- **Latest Backup:** ${s.latestBackup ? formatSecond(new Date(s.latestBackup)) : "none"}`,
    `- **Verified Restore Points:** ${s.verifiedRestorePoints}`,
    "",
    "### Point-in-Time Recovery",
  );
  if (report.pitr.configured && report.pitr.availableFrom && report.pitr.availableTo) {
    out.push(`- **Available Range:** ${formatDay(new Date(report.pitr.availableFrom))} to ${formatDay(new Date(report.pitr.availableTo))}`);
  }
  out.push(`- ${report.pitr.note}`, "");
  return out.join("\n");
}
