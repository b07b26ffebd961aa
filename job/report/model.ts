// The seed's "Backup Status" output: a model built once from the backups, rendered as markdown or
// JSON (and HTML by report-html/). Retention dates come from the shared table.
import { MIN_VERIFIED_RESTORE_POINTS, backupTypes, retentionRules, type BackupProfile, type BackupType } from "../core/catalog";
import { profileOf, type BackupEntry } from "../inventory";
import { formatBytes, formatDay, formatMinute, formatSecond } from "../core/format";
import { formatAge, type MaxAgeRule } from "./max-age";
import { protectedRestorePoints, verifiedRestorePoints } from "../retention";
import type { PitrSection } from "./pitr";
import { managedStatusLabel, type ManagedBackup } from "./supabase-api";
import { DAY_MS } from "../core/time";

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
  /** One of the newest verified restore points, whose lock every drill extends. */
  restorePoint?: boolean;
  /** Versions of its keys its backup did not write (see BackupEntry.alarms). */
  alarms?: string[];
  /** How the source was treated: a Supabase project (its users and storage data too) or plain
   * PostgreSQL (older backups: postgres). */
  profile?: BackupProfile;
  /** What the backup holds, as its manifest records it. */
  holds?: Holds;
  /** Set for Supabase's own backups (type `auto`), read from the Management API. */
  managed?: "supabase";
  supabaseId?: string;
}

/** A type named in `status --max-age` whose newest successful backup is missing or too old. */
export interface StaleType {
  type: BackupType;
  maxAge: string;
  newestId: string | null;
  newestAt: string | null;
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
    /** Supabase's managed backups, when the Management API is configured and answered. */
    managedBackups?: number;
  };
  pitr: PitrSection;
  warnings: string[];
  healthy: boolean;
  /** Types `--max-age` found stale (empty when all are fresh or no --max-age was given). */
  stale?: StaleType[];
}

export interface Holds {
  /** The app's schemas (the platform's aside). */
  schemas: string[];
  /** The platform tables whose rows it holds (a Supabase backup). */
  platformTables: string[];
  /** The roles its grants and policies name. */
  roles: string[];
  /** The extensions its objects need. */
  extensions: string[];
}

/** What a backup holds, from its manifest (null for a legacy dump or an older manifest's gaps). */
export function holdsOf(entry: BackupEntry): Holds | null {
  const m = entry.manifest;
  if (!m || m.status !== "completed") return null;
  const platform = m.contents?.platform;
  const platformTables = platform?.dataTables ?? [];
  const schemas = new Set<string>([...(m.contents?.createdSchemas ?? []), ...(m.scope.schemas ?? [])]);
  for (const table of Object.keys(m.rowCounts ?? {})) if (!platformTables.includes(table)) schemas.add(table.slice(0, table.indexOf(".")).replace(/^"|"$/g, ""));
  for (const s of platform?.schemas ?? []) schemas.delete(s);
  return {
    schemas: [...schemas].sort(),
    platformTables,
    roles: m.contents?.roles ?? [],
    extensions: (m.contents?.extensions ?? []).filter((e) => e.needed).map((e) => `${e.name} (${e.schema})`),
  };
}

/** The "Holds" cell: "supabase · 2 schemas · 11 platform tables · 4 roles · 1 extension". */
export function holdsCell(row: ReportRow): string {
  if (!row.holds) return row.managed ? "by Supabase" : "";
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? "" : "s"}`;
  const parts = [row.profile ?? "postgres", n(row.holds.schemas.length, "schema")];
  if (row.holds.platformTables.length > 0) parts.push(n(row.holds.platformTables.length, "platform table"));
  if (row.holds.roles.length > 0) parts.push(n(row.holds.roles.length, "role"));
  if (row.holds.extensions.length > 0) parts.push(n(row.holds.extensions.length, "extension"));
  return parts.join(" · ");
}

const STATUS_LABELS: Record<string, string> = { running: "Running", completed: "Completed", failed: "Failed", legacy: "Legacy", invalid: "Invalid" };

export function expiryOf(entry: BackupEntry, retention: Record<BackupType, number> = retentionRules()): Date | null {
  if (entry.type === "legacy") return null;
  return new Date(entry.createdAt.getTime() + retention[entry.type] * DAY_MS);
}

export function reportRow(entry: BackupEntry, retention?: Record<BackupType, number>, restorePoints?: ReadonlySet<string>): ReportRow {
  const expires = expiryOf(entry, retention);
  const holds = holdsOf(entry);
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
    ...(restorePoints?.has(entry.id) ? { restorePoint: true } : {}),
    ...(entry.alarms.length > 0 ? { alarms: entry.alarms } : {}),
    ...(entry.manifest ? { profile: profileOf(entry.manifest) } : {}),
    ...(holds ? { holds } : {}),
  };
}

/** A Supabase-managed backup as a row: type Auto, no size (the API gives none), Supabase's retention. */
export function managedRow(backup: ManagedBackup): ReportRow {
  return {
    id: backup.id,
    type: "auto",
    typeLabel: "Auto",
    size: 0,
    createdAt: backup.createdAt.toISOString(),
    status: managedStatusLabel(backup.status),
    expiresAt: null,
    verified: false,
    managed: "supabase",
    supabaseId: backup.supabaseId,
  };
}

/** Our rows and Supabase's, newest first. */
export function listRows(entries: BackupEntry[], retention?: Record<BackupType, number>, managed: ManagedBackup[] = []): ReportRow[] {
  const points = new Set(protectedRestorePoints(entries).map((e) => e.id));
  const rows = entries.map((e) => reportRow(e, retention, points));
  if (managed.length === 0) return rows;
  return [...rows, ...managed.map(managedRow)].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export function buildStatusReport(
  entries: BackupEntry[],
  now: Date,
  options: {
    retention?: Record<BackupType, number>;
    pitr?: PitrSection;
    latestCount?: number;
    /** Supabase's managed backups, shown as type Auto. */
    managed?: ManagedBackup[];
    /** Warnings found elsewhere (the Management API's errors). */
    warnings?: string[];
    maxAge?: MaxAgeRule[];
  } = {},
): StatusReport {
  const stored = entries.filter((e) => e.status === "completed" || e.status === "legacy");
  const successful = entries.filter((e) => e.status === "completed");
  const byTime = [...stored].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const verified = verifiedRestorePoints(successful);
  const warnings: string[] = [];
  if (successful.length === 0) warnings.push("There is no successful backup.");
  const invalid = entries.filter((e) => e.status === "invalid");
  if (invalid.length > 0) warnings.push(`${invalid.length} backup(s) cannot be trusted: ${invalid.map((e) => `${e.id} (${e.problem})`).join("; ")}.`);
  const alarmed = entries.filter((e) => e.alarms.length > 0);
  if (alarmed.length > 0) {
    warnings.push(
      `${alarmed.length} backup(s) have object versions their backup did not write, so someone holding the store's key wrote them (a stolen or misused key?): ` +
        `${alarmed.map((e) => `${e.id} (${e.alarms.join("; ")})`).join("; ")}. Restore and verify read only the versions the backups wrote, and ask for --dump-version until someone has looked.`,
    );
  }
  const oldSchema = entries.filter((e) => e.manifest?.schemaVersion === 1);
  if (oldSchema.length > 0) {
    warnings.push(
      `${oldSchema.length} backup(s) were written by an older db-backup, which rewrote manifests in place: for them the store cannot tell the backup's own manifest and dump from a later version (${oldSchema.slice(0, 3).map((e) => e.id).join(", ")}${oldSchema.length > 3 ? ", …" : ""}).`,
    );
  }
  const latestFailure = entries.find((e) => e.status === "failed");
  if (latestFailure && (!successful[0] || latestFailure.createdAt > successful[0].createdAt)) {
    warnings.push(`The most recent backup attempt failed: ${latestFailure.id} (${latestFailure.manifest?.error ?? "unknown reason"}).`);
  }
  if (verified.length < MIN_VERIFIED_RESTORE_POINTS) {
    warnings.push(`Only ${verified.length} verified restore point(s); keep at least ${MIN_VERIFIED_RESTORE_POINTS} (run \`db-backup verify\`).`);
  }
  const stale: StaleType[] = [];
  for (const rule of options.maxAge ?? []) {
    const newest = successful.filter((e) => e.type === rule.type).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    if (newest && now.getTime() - newest.createdAt.getTime() <= rule.maxMs) continue;
    stale.push({ type: rule.type, maxAge: rule.spec, newestId: newest?.id ?? null, newestAt: newest?.createdAt.toISOString() ?? null });
    warnings.push(
      newest
        ? `Backups stopped? The newest successful ${rule.type} backup (${newest.id}) is ${formatAge(now.getTime() - newest.createdAt.getTime())} old, more than --max-age ${rule.type}=${rule.spec}.`
        : `Backups stopped? There is no successful ${rule.type} backup (--max-age ${rule.type}=${rule.spec}).`,
    );
  }
  warnings.push(...(options.warnings ?? []));
  return {
    generatedAt: now.toISOString(),
    latest: listRows(entries, options.retention, options.managed).slice(0, options.latestCount ?? 10),
    summary: {
      totalBackups: stored.length,
      totalBytes: stored.reduce((sum, e) => sum + e.size, 0),
      oldestBackup: byTime[0]?.createdAt.toISOString() ?? null,
      latestBackup: byTime[byTime.length - 1]?.createdAt.toISOString() ?? null,
      failedBackups: entries.filter((e) => e.status === "failed").length,
      verifiedRestorePoints: verified.length,
      ...(options.managed ? { managedBackups: options.managed.length } : {}),
    },
    pitr: options.pitr ?? {
      configured: false,
      note: "Not configured: set SUPABASE_PROJECT_ID and SUPABASE_ACCESS_TOKEN to read Supabase's managed backups and PITR range.",
    },
    warnings,
    healthy: successful.length > 0 && stale.length === 0 && alarmed.length === 0,
    ...(options.maxAge ? { stale } : {}),
  };
}

/** The "Expires" cell, as markdown and the HTML page show it. */
export function expiresCell(row: ReportRow): string {
  if (row.managed) return "by Supabase";
  if (!row.expiresAt) return "never";
  const day = formatDay(new Date(row.expiresAt));
  return row.restorePoint ? `${day} (kept: restore point)` : day;
}

function table(rows: ReportRow[]): string {
  const lines = ["| ID | Type | Size | Created | Status | Expires | Holds |", "|----|------|------|---------|--------|---------|-------|"];
  for (const r of rows) {
    const id = r.tag ? `${r.id} (${r.tag})` : r.id;
    const status = `${r.verified ? `${r.status}, verified` : r.status}${r.alarms ? ", ALARM" : ""}`;
    const expires = expiresCell(r);
    const size = r.managed ? "n/a" : formatBytes(r.size);
    lines.push(`| ${id} | ${r.typeLabel} | ${size} | ${formatMinute(new Date(r.createdAt))} | ${status} | ${expires} | ${holdsCell(r)} |`);
  }
  return lines.join("\n");
}

export function renderListMarkdown(entries: BackupEntry[], retention?: Record<BackupType, number>, managed: ManagedBackup[] = []): string {
  return renderRowsMarkdown(listRows(entries, retention, managed));
}

export function renderRowsMarkdown(rows: ReportRow[]): string {
  if (rows.length === 0) return "No backups yet. Create one with `db-backup create`.\n";
  return table(rows) + "\n";
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
    ...(s.managedBackups !== undefined ? [`- **Supabase Managed Backups:** ${s.managedBackups}`] : []),
    "",
    "### Point-in-Time Recovery",
  );
  if (report.pitr.configured && report.pitr.availableFrom && report.pitr.availableTo) {
    out.push(`- **Available Range:** ${formatDay(new Date(report.pitr.availableFrom))} to ${formatDay(new Date(report.pitr.availableTo))}`);
  }
  out.push(`- ${report.pitr.note}`, "");
  return out.join("\n");
}
