// The page's warnings, ranked for the headline: the report's own, plus what only the page checks.
import type { BackupEntry } from "../../inventory";
import { formatBytes, formatMinute } from "../../core/format";
import { isFullBackup } from "../../inventory";
import { formatAge } from "../max-age";
import type { StatusReport } from "../model";
import { median } from "./aggregate";
import { escapeHtml, richText } from "./escape";
import { RECENT_FAILURE_DAYS, ago, type TypeFacts } from "./facts";

/** A newest backup below this fraction of the usual size (or above its inverse) is flagged. */
const SIZE_JUMP_FACTOR = 0.5;

interface PageWarning {
  critical: boolean;
  html: string;
  /** A few words for the headline (critical ones). */
  short?: string;
  /** Order among problems: nothing backed up, stopped, untrustworthy, failed, the rest. */
  rank?: number;
}

function rankOf(warning: string): number {
  if (/there is no successful backup/i.test(warning)) return 0;
  if (/stopped|stale|no successful \w+ backup/i.test(warning)) return 1;
  if (/cannot be trusted/i.test(warning)) return 2;
  if (/most recent backup attempt failed/i.test(warning)) return 3;
  return 4;
}

/** The headline's few words for one of the report's warnings. */
function shortReason(warning: string): string {
  const stopped = /newest successful (\w+) backup \(.*?\) is (.+?) old/.exec(warning);
  if (stopped) return `${stopped[1]!.replace(/_/g, "-")} backups stopped ${stopped[2]} ago`;
  const none = /no successful (\w+) backup/.exec(warning);
  if (none) return `there is no successful ${none[1]!.replace(/_/g, "-")} backup`;
  if (/no successful/i.test(warning)) return "there is no successful backup";
  if (/cannot be trusted/i.test(warning)) return "some backups cannot be trusted";
  if (/most recent backup attempt failed/i.test(warning)) return "the most recent backup attempt failed";
  const first = warning.split(/(?<=[.?!])\s/)[0]!.replace(/\.$/, "");
  return first.length > 90 ? first.slice(0, 89) + "…" : first;
}

/** The page's warnings: the report's (as the markdown shows them), plus what only the page checks
 * (stale types, recent failures, sudden size jumps) unless the report already says it. */
export function pageWarnings(report: StatusReport, facts: TypeFacts[], entries: BackupEntry[], now: Date): PageWarning[] {
  const out: PageWarning[] = [];
  const critical = /no successful|cannot be trusted|most recent backup attempt failed|older than|stale|stopped/i;
  for (const w of report.warnings) out.push({ critical: critical.test(w), html: richText(w), short: shortReason(w), rank: rankOf(w) });
  const mentions = (label: string, type: string, pattern: RegExp) =>
    report.warnings.some((w) => (w.includes(label) || w.includes(type)) && pattern.test(w));

  for (const f of facts) {
    if (!f.stale || report.stale || mentions(f.label, f.type, /old|stale|ago|no .*backup/i)) continue;
    const limit = f.maxAgeMs !== undefined ? ` (expected at least every ${formatAge(f.maxAgeMs)})` : "";
    out.push({
      critical: true,
      rank: 1,
      short: f.newest ? `${f.label.toLowerCase()} backups stopped ${ago(f.newest.createdAt, now)}` : `there is no ${f.label.toLowerCase()} backup`,
      html: f.newest
        ? `${escapeHtml(f.label)} backups have stopped: the newest successful one is from ${escapeHtml(formatMinute(f.newest.createdAt))}, ${escapeHtml(ago(f.newest.createdAt, now))}${escapeHtml(limit)}.`
        : `There is no successful ${escapeHtml(f.label.toLowerCase())} backup${escapeHtml(limit)}.`,
    });
  }

  const recentFailed = facts.filter((f) => f.failedRecent > 0);
  const failedTotal = recentFailed.reduce((n, f) => n + f.failedRecent, 0);
  if (failedTotal > 0) {
    const newestFailure = entries
      .filter((e) => e.status === "failed")
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0]!;
    const per = recentFailed.map((f) => `${f.label.toLowerCase()}: ${f.failedRecent}`).join(", ");
    out.push({
      critical: false,
      html:
        `${failedTotal} backup attempt${failedTotal === 1 ? "" : "s"} failed in the last ${RECENT_FAILURE_DAYS} days (${escapeHtml(per)}); ` +
        `the newest, <code>${escapeHtml(newestFailure.id)}</code> on ${escapeHtml(formatMinute(newestFailure.createdAt))}: ${richText(newestFailure.manifest?.error ?? "no reason recorded", 300)}.`,
    });
  }

  for (const f of facts) {
    const full = f.completed.filter((e) => !e.manifest || isFullBackup(e.manifest));
    if (full.length < 4) continue;
    const newest = full[full.length - 1]!;
    const usual = median(full.slice(-15, -1).map((e) => e.size).sort((a, b) => a - b));
    if (usual <= 0) continue;
    const ratio = newest.size / usual;
    if (ratio >= SIZE_JUMP_FACTOR && ratio <= 1 / SIZE_JUMP_FACTOR) continue;
    const how = ratio < 1 ? `${Math.round((1 - ratio) * 100)}% smaller` : `${ratio.toFixed(1)}× larger`;
    out.push({
      critical: false,
      html: `The newest ${escapeHtml(f.label.toLowerCase())} backup <code>${escapeHtml(newest.id)}</code> (${escapeHtml(formatBytes(newest.size))}) is ${how} than the usual ${escapeHtml(formatBytes(usual))}: check that no schema or table was left out${ratio > 1 ? " and what grew" : ""}.`,
    });
  }
  // Problems first, the most telling first (stable otherwise): the headline names the top ones.
  return out.sort((a, b) => Number(b.critical) - Number(a.critical) || (a.rank ?? 9) - (b.rank ?? 9));
}
