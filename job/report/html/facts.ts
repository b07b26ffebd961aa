// The facts the status page is built on: per backup type, its backups, size trend, and whether it
// is stale; and the wording for ages and trends shared by the warnings and the page.
import type { BackupEntry } from "../../inventory";
import { BACKUP_TYPES, backupTypes, type BackupType } from "../../core/catalog";
import { isFullBackup } from "../../inventory";
import { formatAge } from "../max-age";
import type { StatusReport } from "../model";
import { median } from "./aggregate";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../core/time";

export interface StatusHtmlOptions {
  /** Per type, how old its newest successful backup may be (ms) before the type is stale (what
   * `status --max-age` takes). Default: for each type with a catalog schedule and backups, the
   * schedule's interval plus STALE_GRACE_HOURS. */
  maxAgeMs?: Partial<Record<BackupType, number>>;
  /** Most time buckets per chart (default 90). */
  maxBuckets?: number;
  /** Shown in the title and header, e.g. the environment. */
  title?: string;
}

/** Extra hours a scheduled type may be late before it counts as stale (infra's statusGraceHours). */
export const STALE_GRACE_HOURS = 2;
export const RECENT_FAILURE_DAYS = 30;

/** Hours between runs of a simple cron schedule (daily, weekly or monthly), else undefined. */
export function scheduleIntervalHours(schedule: string): number | undefined {
  const [minute, hour, dom, month, dow, ...rest] = schedule.trim().split(/\s+/);
  if (rest.length > 0 || !minute || !hour || !dom || !month || !dow || month !== "*" || !/^\d+$/.test(minute)) return undefined;
  if (!/^\d+$/.test(hour)) return undefined;
  if (dom === "*" && dow === "*") return 24;
  if (dom === "*" && /^\d$/.test(dow)) return 7 * 24;
  if (/^\d+$/.test(dom) && dow === "*") return 31 * 24;
  return undefined;
}

export interface TypeFacts {
  type: BackupType;
  label: string;
  completed: BackupEntry[]; // oldest first
  failed: BackupEntry[];
  newest?: BackupEntry;
  maxAgeMs?: number;
  stale: boolean;
  trendPer30d?: number; // fraction
  latestSize?: number;
  medianDurationMs?: number;
  failedRecent: number;
}

/** Per type: its backups, trend, and whether it is stale — as `status --max-age` decided it when
 * the report carries that (`report.stale`), else by the caller's max ages or the catalog schedule. */
export function typeFacts(entries: BackupEntry[], now: Date, report: StatusReport, options: StatusHtmlOptions): TypeFacts[] {
  const facts: TypeFacts[] = [];
  const reportStale = report.stale ? new Set(report.stale.map((s) => s.type)) : undefined;
  for (const type of BACKUP_TYPES) {
    const ofType = entries.filter((e) => e.type === type);
    if (ofType.length === 0 && options.maxAgeMs?.[type] === undefined && !reportStale?.has(type)) continue;
    const completed = ofType.filter((e) => e.status === "completed").sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const failed = ofType.filter((e) => e.status === "failed");
    const newest = completed[completed.length - 1];
    const schedule = backupTypes[type].defaultSchedule;
    const interval = schedule ? scheduleIntervalHours(schedule) : undefined;
    const maxAgeMs = options.maxAgeMs ? options.maxAgeMs[type] : interval !== undefined ? (interval + STALE_GRACE_HOURS) * HOUR_MS : undefined;
    const durations = completed.slice(-30).map((e) => e.manifest?.durationMs ?? 0).sort((a, b) => a - b);
    facts.push({
      type,
      label: backupTypes[type].label,
      completed,
      failed,
      newest,
      maxAgeMs,
      stale: reportStale ? reportStale.has(type) : maxAgeMs !== undefined && (!newest || now.getTime() - newest.createdAt.getTime() > maxAgeMs),
      trendPer30d: trend(completed, now),
      latestSize: newest?.size,
      medianDurationMs: durations.length ? median(durations) : undefined,
      failedRecent: failed.filter((e) => now.getTime() - e.createdAt.getTime() <= RECENT_FAILURE_DAYS * DAY_MS).length,
    });
  }
  return facts;
}

/** Size change per 30 days as a fraction of the newest fitted size (least squares over the last
 * 90 days of full backups, or the last 6 when fewer); undefined without enough points. */
function trend(completed: BackupEntry[], now: Date): number | undefined {
  const full = completed.filter((e) => !e.manifest || isFullBackup(e.manifest));
  let points = full.filter((e) => now.getTime() - e.createdAt.getTime() <= 90 * DAY_MS);
  if (points.length < 3) points = full.slice(-6);
  if (points.length < 3) return undefined;
  const xs = points.map((e) => e.createdAt.getTime() / DAY_MS);
  const ys = points.map((e) => e.size);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  if (sxx < 1) return undefined; // under a day of spread: no trend to speak of
  const slope = sxy / sxx;
  const fittedNewest = my + slope * (xs[xs.length - 1]! - mx);
  return fittedNewest > 0 ? (slope * 30) / fittedNewest : undefined;
}

/** "4 d ago", with the same wording as status --max-age's messages ("is 4 d old"). */
export function ago(from: Date, now: Date): string {
  const ms = now.getTime() - from.getTime();
  if (ms < 0) return "in the future";
  return ms < MINUTE_MS ? "just now" : `${formatAge(ms)} ago`;
}

export function trendText(fraction: number | undefined): string {
  if (fraction === undefined) return "not enough backups for a trend";
  const pct = fraction * 100;
  if (Math.abs(pct) < 0.5) return "steady size";
  return `${pct > 0 ? "+" : "−"}${Math.abs(pct).toFixed(1)}% per 30 days`;
}
