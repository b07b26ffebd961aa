// The status page's layout: headline, warnings, tiles, per-type trends, restore points, then the
// seed's sections (latest backups, storage summary, point-in-time recovery).
import type { BackupEntry } from "../../inventory";
import { MIN_VERIFIED_RESTORE_POINTS, backupTypes, type BackupType } from "../../core/catalog";
import { formatBytes, formatDay, formatMinute, formatSecond } from "../../core/format";
import { isFullBackup } from "../../inventory";
import { buildStatusReport, expiresCell, holdsCell, type ReportRow, type StatusReport } from "../model";
import { verifiedRestorePoints } from "../../retention";
import { restoreTimeline } from "./charts";
import { escapeHtml, richText } from "./escape";
import { RECENT_FAILURE_DAYS, ago, trendText, typeFacts, type StatusHtmlOptions } from "./facts";
import { CSS } from "./style";
import { typeSection } from "./type-section";
import { pageWarnings } from "./warnings";

function latestTable(rows: ReportRow[]): string {
  if (rows.length === 0) return `<p class="muted">No backups yet. Create one with <code>db-backup create</code>.</p>`;
  const body = rows
    .map((r) => {
      const status = r.verified ? `${r.status}, verified` : r.status;
      const cls = /fail|invalid/i.test(r.status) ? "bad" : r.verified ? "good" : "";
      const expires = expiresCell(r);
      const holds = r.holds
        ? `<td title="${escapeHtml([`schemas: ${r.holds.schemas.join(", ") || "none"}`, ...(r.holds.platformTables.length ? [`platform tables: ${r.holds.platformTables.join(", ")}`] : []), `roles: ${r.holds.roles.join(", ") || "none"}`, `extensions: ${r.holds.extensions.join(", ") || "none"}`].join("\n"))}">${escapeHtml(holdsCell(r))}</td>`
        : `<td>${escapeHtml(holdsCell(r))}</td>`;
      return `<tr><td><code>${escapeHtml(r.id)}</code>${r.tag ? ` <span class="tag">${escapeHtml(r.tag)}</span>` : ""}</td><td>${escapeHtml(r.typeLabel)}</td><td class="num">${escapeHtml(r.managed ? "n/a" : formatBytes(r.size))}</td><td>${escapeHtml(formatMinute(new Date(r.createdAt)))}</td><td class="${cls}">${escapeHtml(status)}</td><td>${escapeHtml(expires)}</td>${holds}</tr>`;
    })
    .join("");
  return `<table><thead><tr><th>ID</th><th>Type</th><th>Size</th><th>Created</th><th>Status</th><th>Expires</th><th>Holds</th></tr></thead><tbody>${body}</tbody></table>`;
}

/** The whole page. Pure: the same entries, time and report give the same bytes. */
export function renderStatusHtml(
  entries: BackupEntry[],
  now: Date,
  report: StatusReport = buildStatusReport(entries, now),
  options: StatusHtmlOptions = {},
): string {
  const maxBuckets = Math.max(8, options.maxBuckets ?? 90);
  const facts = typeFacts(entries, now, report, options);
  const warnings = pageWarnings(report, facts, entries, now);
  const critical = !report.healthy || warnings.some((w) => w.critical);
  const state = critical ? "bad" : warnings.length > 0 ? "warn" : "ok";
  const successful = entries.filter((e) => e.status === "completed");
  const newest = successful.reduce<BackupEntry | undefined>((a, e) => (!a || e.createdAt > a.createdAt ? e : a), undefined);
  const verified = verifiedRestorePoints(entries); // newest first; the first MIN_VERIFIED_RESTORE_POINTS are protected
  const failedRecent = facts.reduce((n, f) => n + f.failedRecent, 0);
  // The banner names the trend of the type with the most backups (usually daily); each type's own
  // is in its section.
  const main = facts.filter((f) => f.trendPer30d !== undefined).sort((a, b) => b.completed.length - a.completed.length)[0];

  const headline = state === "ok" ? "Backups are healthy" : state === "warn" ? "Backups are running, but need attention" : "Backups are NOT healthy";
  const reasons = warnings.filter((w) => w.critical && w.short).map((w) => w.short!);
  const because = reasons.length
    ? `<p class="why">${escapeHtml(reasons.slice(0, 3).join("; ").replace(/^./, (c) => c.toUpperCase()))}${reasons.length > 3 ? ` (and ${reasons.length - 3} more)` : ""}.</p>`
    : state === "warn"
      ? `<p class="why">${warnings.length} warning${warnings.length === 1 ? "" : "s"} below.</p>`
      : "";
  const summaryLine = [
    newest ? `Newest backup ${escapeHtml(ago(newest.createdAt, now))}` : "No successful backup",
    `${verified.length} verified restore point${verified.length === 1 ? "" : "s"}`,
    main ? `${escapeHtml(main.label)} backups ${escapeHtml(formatBytes(main.latestSize ?? 0))}, ${escapeHtml(trendText(main.trendPer30d))}` : "",
  ]
    .filter(Boolean)
    .join(" · ");
  const title = `Backup Status${options.title ? ` — ${options.title}` : ""}`;

  const tile = (cls: string, k: string, v: string, s: string) => `<div class="tile ${cls}"><div class="k">${k}</div><div class="v">${v}</div><div class="s">${s}</div></div>`;
  const staleTypes = facts.filter((f) => f.stale);
  const tiles = [
    tile(
      !newest || staleTypes.length ? "bad" : "ok",
      "Newest backup",
      newest ? escapeHtml(ago(newest.createdAt, now)) : "none",
      newest ? `${escapeHtml(formatMinute(newest.createdAt))} UTC, ${escapeHtml(backupTypes[newest.type as BackupType]?.label ?? newest.type)}` : "run <code>db-backup create</code>",
    ),
    tile(
      verified.length >= MIN_VERIFIED_RESTORE_POINTS ? "ok" : "bad",
      "Verified restore points",
      `${verified.length} <span class="s">of ${MIN_VERIFIED_RESTORE_POINTS} required</span>`,
      verified[0] ? `newest proven ${escapeHtml(ago(new Date(verified[0].manifest!.verification!.verifiedAt), now))}` : "none proven by a restore yet",
    ),
    tile(failedRecent ? "warn" : "ok", `Failed attempts, ${RECENT_FAILURE_DAYS} days`, String(failedRecent), `${report.summary.failedBackups} failed manifest${report.summary.failedBackups === 1 ? "" : "s"} kept in total`),
    tile("", "Stored", escapeHtml(formatBytes(report.summary.totalBytes)), `${report.summary.totalBackups} backup${report.summary.totalBackups === 1 ? "" : "s"}${report.summary.oldestBackup ? `, since ${escapeHtml(formatDay(new Date(report.summary.oldestBackup)))}` : ""}`),
  ].join("");

  const typeSections = facts.map((f) => typeSection(f, entries, now, maxBuckets)).join("");

  const full = successful.filter((e) => e.manifest && isFullBackup(e.manifest));
  const verifiedRows = verified
    .slice(0, 5)
    .map((e) => {
      const v = e.manifest!.verification!;
      return `<tr><td><code>${escapeHtml(e.id)}</code>${verified.indexOf(e) < MIN_VERIFIED_RESTORE_POINTS ? ` <span class="tag">kept</span>` : ""}</td><td>${escapeHtml(backupTypes[e.type as BackupType]?.label ?? e.type)}</td><td>${escapeHtml(formatMinute(e.createdAt))}</td><td>${escapeHtml(formatMinute(new Date(v.verifiedAt)))}</td><td class="num">${v.tables} tables, ${v.rows.toLocaleString("en-US")} rows</td></tr>`;
    })
    .join("");

  const s = report.summary;
  const pitr = report.pitr;
  const pitrExtra = Object.entries(pitr as unknown as Record<string, unknown>)
    .filter(([k, v]) => !["configured", "note", "availableFrom", "availableTo"].includes(k) && ["string", "number", "boolean"].includes(typeof v))
    .map(([k, v]) => `<li><b>${escapeHtml(k.replace(/([A-Z])/g, " $1").replace(/^./, (c) => c.toUpperCase()))}:</b> ${escapeHtml(typeof v === "boolean" ? (v ? "yes" : "no") : v)}</li>`)
    .join("");

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="db-backup status --html">
<title>${escapeHtml(title)}: ${state === "ok" ? "healthy" : state === "warn" ? "needs attention" : "NOT healthy"}</title>
<style>${CSS}</style></head>
<body><main>
<section id="headline" class="banner ${state}" data-state="${state}"><div class="icon" aria-hidden="true">${state === "ok" ? "✓" : "!"}</div><div><h1>${headline}</h1>${because}<p>${summaryLine}</p></div></section>
<p class="meta">${escapeHtml(title)} · generated ${escapeHtml(formatSecond(now))} UTC · all times UTC</p>
${warnings.length ? `<ul id="warnings" class="warnings">${warnings.map((w) => `<li class="${w.critical ? "critical" : ""}"><b>${w.critical ? "Problem:" : "Warning:"}</b>${w.html}</li>`).join("")}</ul>` : ""}
<div class="tiles">${tiles}</div>
<h2 id="trends">Growth trends</h2>
${typeSections || `<p class="muted">No backups yet. Create one with <code>db-backup create</code>.</p>`}
<h2 id="restore-points">Verified restore points</h2>
<div class="panel">${restoreTimeline(full, verified, report, now, maxBuckets)}
<p class="legend">Filled diamonds: the newest ${MIN_VERIFIED_RESTORE_POINTS} verified points (kept from expiry). Grey bars: full backups, which become restore points when <code>db-backup verify</code> restores them.</p></div>
${verifiedRows ? `<table style="margin-top:10px"><thead><tr><th>Restore point</th><th>Type</th><th>Backup taken</th><th>Proven by restore</th><th>Checked</th></tr></thead><tbody>${verifiedRows}</tbody></table>` : ""}
<h2 id="latest">Latest Backups</h2>
${latestTable(report.latest)}
<div class="cols">
<section><h2 id="storage">Storage Summary</h2><div class="panel"><ul class="summary">
<li><b>Total Backups:</b> ${s.totalBackups}</li>
<li><b>Total Size:</b> ${escapeHtml(formatBytes(s.totalBytes))}</li>
<li><b>Oldest Backup:</b> ${escapeHtml(s.oldestBackup ? formatDay(new Date(s.oldestBackup)) : "none")}</li>
<li><b>Latest Backup:</b> ${escapeHtml(s.latestBackup ? formatSecond(new Date(s.latestBackup)) : "none")}</li>
<li><b>Verified Restore Points:</b> ${s.verifiedRestorePoints}</li>
<li><b>Failed Backups:</b> ${s.failedBackups}</li>${s.managedBackups !== undefined ? `\n<li><b>Supabase Managed Backups:</b> ${s.managedBackups}</li>` : ""}
</ul></div></section>
<section><h2 id="pitr">Point-in-Time Recovery</h2><div class="panel"><ul class="summary">
${pitr.configured && pitr.availableFrom && pitr.availableTo ? `<li><b>Available Range:</b> ${escapeHtml(formatDay(new Date(pitr.availableFrom)))} to ${escapeHtml(formatDay(new Date(pitr.availableTo)))}</li>` : ""}${pitrExtra}
<li>${richText(pitr.note)}</li>
</ul></div></section>
</div>
</main></body></html>
`;
}
