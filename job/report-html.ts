// `status --html`: the Backup Status report as one self-contained page an operator reads in five
// seconds — a healthy/unhealthy headline, warnings in plain words, size and duration trends per
// type, the verified restore points on a timeline, then the seed's sections. No script, font, image
// or URL is referenced (a CSP forbids them too): inline CSS and inline SVG only. Every text that
// comes from a backup (ids, tags, errors) is escaped. However many backups there are, charts are
// drawn from at most `maxBuckets` time buckets (min/median/max per bucket), never one shape per backup.
import { BACKUP_TYPES, MIN_VERIFIED_RESTORE_POINTS, backupTypes, type BackupType } from "./catalog";
import type { BackupEntry } from "./backups";
import { formatBytes, formatDay, formatDuration, formatMinute, formatSecond } from "./format";
import { isFullBackup } from "./manifest";
import { formatAge } from "./max-age";
import { buildStatusReport, type ReportRow, type StatusReport } from "./report";
import { verifiedRestorePoints } from "./restore-points";

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
/** A newest backup below this fraction of the usual size (or above its inverse) is flagged. */
const SIZE_JUMP_FACTOR = 0.5;
const RECENT_FAILURE_DAYS = 30;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// ---- Escaping ------------------------------------------------------------------------------------

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text for HTML content and attribute values (ids, tags, errors are user-controlled). */
export function escapeHtml(value: unknown): string {
  // eslint-disable-next-line no-control-regex
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "\uFFFD");
}

/** Escaped text where `code` spans (as the markdown report writes commands) become <code>. */
function richText(value: string, maxLength = 1000): string {
  const text = value.length > maxLength ? value.slice(0, maxLength - 1) + "…" : value;
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

const num = (n: number) => (Math.round(n * 10) / 10).toString();

// ---- Time buckets ----------------------------------------------------------------------------------

type BucketUnit = "hour" | "day" | "week" | "month" | "quarter" | "year";
const UNIT_MS: Record<BucketUnit, number> = { hour: HOUR, day: DAY, week: 7 * DAY, month: 31 * DAY, quarter: 92 * DAY, year: 366 * DAY };
const UNITS: BucketUnit[] = ["hour", "day", "week", "month", "quarter", "year"];

function floorTo(t: number, unit: BucketUnit): number {
  const d = new Date(t);
  switch (unit) {
    case "hour":
      return Math.floor(t / HOUR) * HOUR;
    case "day":
      return Math.floor(t / DAY) * DAY;
    case "week": // Monday, UTC
      return Math.floor(t / DAY) * DAY - ((d.getUTCDay() + 6) % 7) * DAY;
    case "month":
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    case "quarter":
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - (d.getUTCMonth() % 3), 1);
    case "year":
      return Date.UTC(d.getUTCFullYear(), 0, 1);
  }
}

function nextStart(t: number, unit: BucketUnit): number {
  const d = new Date(t);
  switch (unit) {
    case "hour":
    case "day":
    case "week":
      return t + UNIT_MS[unit];
    case "month":
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    case "quarter":
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 3, 1);
    case "year":
      return Date.UTC(d.getUTCFullYear() + 1, 0, 1);
  }
}

export interface TimeBuckets {
  unit: BucketUnit;
  /** Start of each bucket, ascending; bucket i covers [starts[i], ends[i]). */
  starts: number[];
  ends: number[];
}

/** The finest calendar unit that covers [from, to] in at most maxBuckets buckets. */
export function timeBuckets(from: number, to: number, maxBuckets: number): TimeBuckets {
  const end = Math.max(to, from + 1);
  const unit = UNITS.find((u) => (end - floorTo(from, u)) / UNIT_MS[u] + 1 <= maxBuckets) ?? "year";
  const starts: number[] = [];
  const ends: number[] = [];
  for (let t = floorTo(from, unit); t <= end && starts.length < Math.max(maxBuckets, 2); t = nextStart(t, unit)) {
    starts.push(t);
    ends.push(nextStart(t, unit));
  }
  return { unit, starts, ends };
}

function bucketIndex(buckets: TimeBuckets, t: number): number {
  let lo = 0;
  let hi = buckets.starts.length - 1;
  if (t < buckets.starts[0]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (buckets.starts[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return t < buckets.ends[lo]! ? lo : -1;
}

export interface BucketStats {
  count: number;
  min: number;
  median: number;
  max: number;
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** min/median/max of the values falling in each bucket (undefined for an empty bucket). */
export function aggregate(buckets: TimeBuckets, points: { t: number; value: number }[]): (BucketStats | undefined)[] {
  const values: number[][] = buckets.starts.map(() => []);
  for (const p of points) {
    const i = bucketIndex(buckets, p.t);
    if (i >= 0) values[i]!.push(p.value);
  }
  return values.map((v) => {
    if (v.length === 0) return undefined;
    v.sort((a, b) => a - b);
    return { count: v.length, min: v[0]!, median: median(v), max: v[v.length - 1]! };
  });
}

// ---- Facts the page is built on ------------------------------------------------------------------

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

interface TypeFacts {
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

/** Per type: its backups, trend, and whether it is stale — as `status --max-age` decided it when
 * the report carries that (`report.stale`), else by the caller's max ages or the catalog schedule. */
function typeFacts(entries: BackupEntry[], now: Date, report: StatusReport, options: StatusHtmlOptions): TypeFacts[] {
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
    const maxAgeMs = options.maxAgeMs ? options.maxAgeMs[type] : interval !== undefined ? (interval + STALE_GRACE_HOURS) * HOUR : undefined;
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
      failedRecent: failed.filter((e) => now.getTime() - e.createdAt.getTime() <= RECENT_FAILURE_DAYS * DAY).length,
    });
  }
  return facts;
}

/** Size change per 30 days as a fraction of the newest fitted size (least squares over the last
 * 90 days of full backups, or the last 6 when fewer); undefined without enough points. */
function trend(completed: BackupEntry[], now: Date): number | undefined {
  const full = completed.filter((e) => !e.manifest || isFullBackup(e.manifest));
  let points = full.filter((e) => now.getTime() - e.createdAt.getTime() <= 90 * DAY);
  if (points.length < 3) points = full.slice(-6);
  if (points.length < 3) return undefined;
  const xs = points.map((e) => e.createdAt.getTime() / DAY);
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
function ago(from: Date, now: Date): string {
  const ms = now.getTime() - from.getTime();
  if (ms < 0) return "in the future";
  return ms < 60_000 ? "just now" : `${formatAge(ms)} ago`;
}

function trendText(fraction: number | undefined): string {
  if (fraction === undefined) return "not enough backups for a trend";
  const pct = fraction * 100;
  if (Math.abs(pct) < 0.5) return "steady size";
  return `${pct > 0 ? "+" : "−"}${Math.abs(pct).toFixed(1)}% per 30 days`;
}

/** The page's warnings: the report's (as the markdown shows them), plus what only the page checks
 * (stale types, recent failures, sudden size jumps) unless the report already says it. */
function pageWarnings(report: StatusReport, facts: TypeFacts[], entries: BackupEntry[], now: Date): PageWarning[] {
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

// ---- SVG ------------------------------------------------------------------------------------------

const W = 540;
const H = 190;
const PAD = { left: 64, right: 14, top: 12, bottom: 30 };

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * exp >= value) return step * exp;
  return 10 * exp;
}

const byteUnit = (max: number) => 1024 ** Math.max(0, Math.min(4, Math.floor(Math.log(Math.max(1, max)) / Math.log(1024))));
const durationUnit = (max: number) => (max < 60_000 ? 1000 : max < 2 * HOUR ? 60_000 : HOUR);

function axisDate(t: number, unit: BucketUnit): string {
  const iso = new Date(t).toISOString();
  return unit === "hour" ? iso.slice(5, 16).replace("T", " ") : unit === "day" || unit === "week" ? iso.slice(0, 10) : iso.slice(0, 7);
}

interface ChartSpec {
  title: string;
  buckets: TimeBuckets;
  stats: (BucketStats | undefined)[];
  failures: number[];
  format: (v: number) => string;
  /** The unit the axis is rounded in (1 MiB, 1 min, …) for a given largest value. */
  unit: (max: number) => number;
  color: string;
  domain: [number, number];
  /** Shade from this time to the end of the domain: the type is stale. */
  staleFrom?: number;
  /** Per bucket, the text shown on hover (empty: none). */
  hover?: string[];
}

/** One chart: a min–max band and the median line over the buckets, gaps where a bucket is empty,
 * failed attempts as red marks under the axis. Shapes grow with buckets, never with backups. */
function chart(spec: ChartSpec): string {
  const [t0, t1] = spec.domain;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const largest = Math.max(0, ...spec.stats.map((s) => s?.max ?? 0));
  const unit = spec.unit(largest);
  const top = niceMax(largest / unit) * unit;
  const x = (t: number) => PAD.left + ((t - t0) / Math.max(1, t1 - t0)) * plotW;
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const center = (i: number) => Math.min(t1, (spec.buckets.starts[i]! + Math.min(spec.buckets.ends[i]!, t1)) / 2);
  const parts: string[] = [];

  for (const frac of [0, 0.5, 1]) {
    const gy = num(y(top * frac));
    parts.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${gy}" y2="${gy}"/>`);
    parts.push(`<text class="ylab" x="${PAD.left - 6}" y="${num(y(top * frac) + 4)}">${escapeHtml(spec.format(top * frac))}</text>`);
  }
  const baseY = num(PAD.top + plotH);
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4;
    const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
    parts.push(`<text class="xlab" x="${num(x(t))}" y="${H - 8}" text-anchor="${anchor}">${escapeHtml(axisDate(t, spec.buckets.unit))}</text>`);
    if (i > 0 && i < 4) parts.push(`<line class="tick" x1="${num(x(t))}" x2="${num(x(t))}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH + 4}"/>`);
  }
  if (spec.staleFrom !== undefined && spec.staleFrom < t1) {
    const sx = Math.max(PAD.left, x(spec.staleFrom));
    parts.push(`<rect class="stale" x="${num(sx)}" y="${PAD.top}" width="${num(W - PAD.right - sx)}" height="${plotH}"><title>no backup since ${escapeHtml(formatMinute(new Date(spec.staleFrom)))}</title></rect>`);
  }

  // Contiguous runs of non-empty buckets: each is one band polygon and one median polyline, all
  // in a single <path> each.
  const runs: number[][] = [];
  spec.stats.forEach((s, i) => {
    if (!s) return;
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === i - 1) last.push(i);
    else runs.push([i]);
  });
  let band = "";
  let line = "";
  const dots: number[] = [];
  for (const run of runs) {
    if (run.length === 1) {
      dots.push(run[0]!);
      continue;
    }
    const upper = run.map((i) => `${num(x(center(i)))},${num(y(spec.stats[i]!.max))}`);
    const lower = run.map((i) => `${num(x(center(i)))},${num(y(spec.stats[i]!.min))}`).reverse();
    band += `M${upper.join("L")}L${lower.join("L")}Z`;
    line += `M${run.map((i) => `${num(x(center(i)))},${num(y(spec.stats[i]!.median))}`).join("L")}`;
  }
  if (band) parts.push(`<path class="band" fill="${spec.color}" d="${band}"/>`);
  if (line) parts.push(`<path class="median" stroke="${spec.color}" d="${line}"/>`);
  // Isolated buckets (and the newest) as dots with a min–max whisker: one path for all of them.
  const lastIndex = spec.stats.reduce((acc, s, i) => (s ? i : acc), -1);
  if (lastIndex >= 0 && !dots.includes(lastIndex)) dots.push(lastIndex);
  let whiskers = "";
  let circles = "";
  for (const i of dots) {
    const s = spec.stats[i]!;
    const cx = x(center(i));
    if (s.max > s.min) whiskers += `M${num(cx)},${num(y(s.min))}V${num(y(s.max))}`;
    circles += `M${num(cx - 3.5)},${num(y(s.median))}a3.5,3.5 0 1,0 7,0a3.5,3.5 0 1,0 -7,0`;
  }
  if (whiskers) parts.push(`<path class="whisker" stroke="${spec.color}" d="${whiskers}"/>`);
  if (circles) parts.push(`<path class="dot" fill="${spec.color}" d="${circles}"/>`);
  if (lastIndex >= 0) {
    const s = spec.stats[lastIndex]!;
    const lx = x(center(lastIndex));
    const anchor = lx > W - 120 ? "end" : "start";
    parts.push(`<text class="vlab" x="${num(anchor === "end" ? lx - 7 : lx + 7)}" y="${num(Math.max(PAD.top + 10, y(s.median) - 7))}" text-anchor="${anchor}">${escapeHtml(spec.format(s.median))}</text>`);
  }
  // Failed attempts: a red mark under the axis in each bucket that has some, one path for all.
  const marks = spec.failures.map((n, i) => (n > 0 ? `M${num(x(center(i)) - 2)},${num(PAD.top + plotH + 2)}h4v7h-4Z` : "")).join("");
  if (marks) parts.push(`<path class="fail" d="${marks}"/>`);
  // One hover target per bucket with its figures, when the caller gives them.
  spec.hover?.forEach((text, i) => {
    if (!text) return;
    const x0 = Math.max(PAD.left, x(spec.buckets.starts[i]!));
    const x1 = Math.min(W - PAD.right, x(spec.buckets.ends[i]!));
    parts.push(`<rect class="hit" x="${num(x0)}" y="${PAD.top}" width="${num(Math.max(1, x1 - x0))}" height="${plotH + 10}"><title>${escapeHtml(text)}</title></rect>`);
  });
  parts.push(`<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${baseY}" y2="${baseY}"/>`);
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(spec.title)}"><title>${escapeHtml(spec.title)}</title>${parts.join("")}</svg>`;
}

/** Verified restore points (diamonds; the newest MIN_VERIFIED_RESTORE_POINTS filled), full backups
 * as a density strip, and the PITR window, on one time axis. Bucketed when there are many. */
function restoreTimeline(full: BackupEntry[], verified: BackupEntry[], report: StatusReport, now: Date, maxBuckets: number): string {
  const TW = 1100;
  const TH = 150;
  const left = 150;
  const right = 20;
  const pitrFrom = report.pitr.configured && report.pitr.availableFrom ? Date.parse(report.pitr.availableFrom) : undefined;
  const pitrTo = report.pitr.configured && report.pitr.availableTo ? Date.parse(report.pitr.availableTo) : undefined;
  const times = [...full.map((e) => e.createdAt.getTime()), ...(pitrFrom !== undefined ? [pitrFrom] : [])];
  if (times.length === 0) return `<p class="muted">No full backup yet, so no restore point.</p>`;
  const t0 = Math.min(...times);
  const t1 = Math.max(now.getTime(), pitrTo ?? 0);
  const buckets = timeBuckets(t0, t1, Math.min(maxBuckets * 2, 180));
  const x = (t: number) => left + ((t - buckets.starts[0]!) / Math.max(1, t1 - buckets.starts[0]!)) * (TW - left - right);
  const lanes = { full: 34, verified: 78, pitr: 118 };
  const parts: string[] = [
    `<text class="lane" x="${left - 10}" y="${lanes.full + 4}">Full backups</text>`,
    `<text class="lane" x="${left - 10}" y="${lanes.verified + 4}">Verified restore points</text>`,
    `<text class="lane" x="${left - 10}" y="${lanes.pitr + 4}">Point-in-time window</text>`,
    `<line class="axis" x1="${left}" x2="${TW - right}" y1="${TH - 14}" y2="${TH - 14}"/>`,
    `<text class="xlab" x="${left}" y="${TH - 1}" text-anchor="start">${escapeHtml(formatDay(new Date(buckets.starts[0]!)))}</text>`,
    `<text class="xlab" x="${TW - right}" y="${TH - 1}" text-anchor="end">now, ${escapeHtml(formatMinute(now))}</text>`,
  ];
  // Full backups: a bar per non-empty bucket, its height the count; one path for all.
  const counts = aggregate(buckets, full.map((e) => ({ t: e.createdAt.getTime(), value: 1 })));
  const most = Math.max(1, ...counts.map((c) => c?.count ?? 0));
  const bars = counts
    .map((c, i) => {
      if (!c) return "";
      const x0 = x(buckets.starts[i]!);
      const w = Math.max(2, Math.min(x(buckets.ends[i]!), TW - right) - x0 - 1);
      const h = 4 + (c.count / most) * 16;
      return `M${num(x0)},${num(lanes.full + 10 - h)}h${num(w)}v${num(h)}h${num(-w)}Z`;
    })
    .join("");
  if (bars) parts.push(`<path class="density" d="${bars}"><title>${full.length} full backups, ${counts.filter(Boolean).length > 0 ? `up to ${most} per ${buckets.unit}` : ""}</title></path>`);
  // Verified points: each one (with its details on hover) when few, else one diamond per bucket
  // that has some, with the count when it is more than one.
  const newest = new Set(verified.slice(0, MIN_VERIFIED_RESTORE_POINTS).map((e) => e.id));
  const diamondPath = (cx: number) => `M${num(cx)},${lanes.verified - 8}l7,8l-7,8l-7,-8Z`;
  if (verified.length <= 60) {
    for (const e of verified) {
      const v = e.manifest?.verification;
      const title = `${e.id}: backup of ${formatMinute(e.createdAt)}${v ? `, restored and checked ${formatMinute(new Date(v.verifiedAt))} (${v.tables} tables, ${v.rows} rows)` : ""}${newest.has(e.id) ? "; one of the newest 3" : ""}`;
      parts.push(`<g class="${newest.has(e.id) ? "vp protected" : "vp"}"><path d="${diamondPath(x(e.createdAt.getTime()))}"/><title>${escapeHtml(title)}</title></g>`);
    }
  } else {
    const per = aggregate(buckets, verified.map((e) => ({ t: e.createdAt.getTime(), value: 1 })));
    const newestBucket = bucketIndex(buckets, verified[0]!.createdAt.getTime());
    const used = per.filter(Boolean).length;
    let plain = "";
    let labels = "";
    per.forEach((c, i) => {
      if (!c || i === newestBucket) return;
      const cx = x(mid(buckets, i, t1));
      plain += diamondPath(cx);
      if (c.count > 1 && used <= 40) labels += `<text x="${num(cx)}" y="${lanes.verified - 12}" text-anchor="middle">${c.count}</text>`;
    });
    parts.push(`<g class="vp"><path d="${plain}"/><title>${verified.length} verified restore points, grouped per ${buckets.unit}</title>${labels}</g>`);
    const c = per[newestBucket]!;
    parts.push(`<g class="vp protected"><path d="${diamondPath(x(mid(buckets, newestBucket, t1)))}"/><title>${escapeHtml(`newest: ${verified[0]!.id}, ${c.count} in that ${buckets.unit}`)}</title></g>`);
  }
  if (verified.length === 0) parts.push(`<text class="none" x="${left + 8}" y="${lanes.verified + 4}">none: no backup has been proven by a restore yet</text>`);
  if (pitrFrom !== undefined && pitrTo !== undefined) {
    parts.push(`<rect class="pitr" x="${num(x(pitrFrom))}" y="${lanes.pitr - 7}" width="${num(Math.max(2, x(pitrTo) - x(pitrFrom)))}" height="14" rx="3"><title>${escapeHtml(`recoverable to any moment from ${formatMinute(new Date(pitrFrom))} to ${formatMinute(new Date(pitrTo))}`)}</title></rect>`);
  } else {
    parts.push(`<text class="none" x="${left + 8}" y="${lanes.pitr + 4}">not configured</text>`);
  }
  parts.push(`<line class="now" x1="${num(x(now.getTime()))}" x2="${num(x(now.getTime()))}" y1="14" y2="${TH - 14}"/>`);
  return `<svg class="timeline" viewBox="0 0 ${TW} ${TH}" role="img" aria-label="Verified restore points on a timeline"><title>Verified restore points on a timeline</title>${parts.join("")}</svg>`;
}

function mid(buckets: TimeBuckets, i: number, limit: number): number {
  return (buckets.starts[i]! + Math.min(buckets.ends[i]!, limit)) / 2;
}

// ---- Page -----------------------------------------------------------------------------------------

function latestTable(rows: ReportRow[]): string {
  if (rows.length === 0) return `<p class="muted">No backups yet. Create one with <code>db-backup create</code>.</p>`;
  const body = rows
    .map((r) => {
      const status = r.verified ? `${r.status}, verified` : r.status;
      const cls = /fail|invalid/i.test(r.status) ? "bad" : r.verified ? "good" : "";
      const expires = r.managed ? "by Supabase" : !r.expiresAt ? "never" : r.restorePoint ? `${formatDay(new Date(r.expiresAt))} (kept: restore point)` : formatDay(new Date(r.expiresAt));
      return `<tr><td><code>${escapeHtml(r.id)}</code>${r.tag ? ` <span class="tag">${escapeHtml(r.tag)}</span>` : ""}</td><td>${escapeHtml(r.typeLabel)}</td><td class="num">${escapeHtml(r.managed ? "n/a" : formatBytes(r.size))}</td><td>${escapeHtml(formatMinute(new Date(r.createdAt)))}</td><td class="${cls}">${escapeHtml(status)}</td><td>${escapeHtml(expires)}</td></tr>`;
    })
    .join("");
  return `<table><thead><tr><th>ID</th><th>Type</th><th>Size</th><th>Created</th><th>Status</th><th>Expires</th></tr></thead><tbody>${body}</tbody></table>`;
}

const CSS = `
:root{--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--ink:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa;--size:#0969da;--dur:#8250df}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:20px 24px 40px}
h1{margin:0;font-size:30px;line-height:1.2}h2{font-size:19px;margin:28px 0 10px}h3{font-size:15px;margin:0}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:rgba(175,184,193,.25);padding:1px 4px;border-radius:4px;overflow-wrap:anywhere}
.banner{border-radius:10px;padding:18px 22px;color:#fff;display:flex;gap:18px;align-items:center}
.banner.ok{background:var(--ok)}.banner.bad{background:var(--bad)}.banner.warn{background:#bf8700}
.banner .icon{font-size:40px;line-height:1;font-weight:700;width:52px;height:52px;border-radius:50%;background:rgba(255,255,255,.2);display:flex;align-items:center;justify-content:center;flex:none}
.banner p{margin:4px 0 0;font-size:14px;opacity:.92}.banner p.why{font-size:17px;font-weight:600;opacity:1}
.meta{color:var(--muted);margin:6px 2px 0;font-size:12.5px}
.warnings{list-style:none;margin:14px 0 0;padding:0}
.warnings li{background:#fff;border:1px solid var(--line);border-left:6px solid var(--warn);border-radius:6px;padding:9px 12px;margin:6px 0;font-size:14.5px}
.warnings li.critical{border-left-color:var(--bad)}.warnings li b{margin-right:6px}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin-top:16px}
.tile{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.tile .k{color:var(--muted);font-size:12.5px;text-transform:uppercase;letter-spacing:.03em}.tile .v{font-size:22px;font-weight:600;margin-top:2px}
.tile .s{color:var(--muted);font-size:12.5px}.tile.bad{border-top:4px solid var(--bad)}.tile.ok{border-top:4px solid var(--ok)}.tile.warn{border-top:4px solid var(--warn)}
.type{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin:12px 0}
.type header{display:flex;flex-wrap:wrap;gap:6px 18px;align-items:baseline;margin-bottom:6px}
.type header .f{color:var(--muted)}.type header .f b{color:var(--ink)}
.pill{font-size:12px;font-weight:600;border-radius:10px;padding:1px 8px;color:#fff}.pill.ok{background:var(--ok)}.pill.bad{background:var(--bad)}.pill.none{background:var(--muted)}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:14px}.charts figure{margin:0}.charts figcaption{font-size:12.5px;color:var(--muted)}
svg{width:100%;height:auto;display:block;font-family:inherit}
svg .grid{stroke:#eaeef2}svg .axis,svg .tick{stroke:#8c959f}svg .ylab{font-size:11px;fill:var(--muted);text-anchor:end}svg .xlab{font-size:11px;fill:var(--muted)}
svg .band{fill-opacity:.18;stroke:none}svg .median{fill:none;stroke-width:2;stroke-linejoin:round}svg .whisker{stroke-width:2;stroke-opacity:.5;fill:none}
svg .vlab{font-size:11.5px;font-weight:600;fill:var(--ink);paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}svg .fail{fill:var(--bad)}svg .hit{fill:transparent}svg .hit:hover{fill:rgba(9,105,218,.08)}
svg .stale{fill:rgba(207,34,46,.09)}svg .lane{font-size:12px;fill:var(--ink);text-anchor:end}svg .density{fill:#afb8c1}
svg .vp path{fill:#fff;stroke:var(--ok);stroke-width:2}svg .vp.protected path{fill:var(--ok)}svg .vp text{font-size:10px;fill:var(--ok)}
svg .pitr{fill:var(--size);fill-opacity:.35}svg .none{font-size:12px;fill:var(--muted);font-style:italic}svg .now{stroke:var(--ink);stroke-dasharray:3 3}
.legend{color:var(--muted);font-size:12.5px;margin:4px 0 0}
.panel{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eaeef2;vertical-align:top}th{background:#f6f8fa;font-size:12.5px;color:var(--muted)}
td.num{text-align:right;white-space:nowrap}td.good{color:var(--ok);font-weight:600}td.bad{color:var(--bad);font-weight:600}
.tag{font-size:12px;background:#ddf4ff;color:#0550ae;border-radius:10px;padding:0 7px}
ul.summary{margin:0;padding-left:20px}.muted{color:var(--muted)}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:14px}
@media (max-width:800px){.tiles{grid-template-columns:1fr 1fr}.charts,.cols{grid-template-columns:1fr}}
`;

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

  const typeSections = facts
    .map((f) => {
      const all = entries.filter((e) => e.type === f.type && (e.status === "completed" || e.status === "failed"));
      if (all.length === 0) {
        return `<section class="type" data-type="${escapeHtml(f.type)}"><header><h3>${escapeHtml(f.label)}</h3><span class="pill bad">no backup</span></header></section>`;
      }
      const from = Math.min(...all.map((e) => e.createdAt.getTime()));
      const domain: [number, number] = [from, Math.max(now.getTime(), from + HOUR)];
      const buckets = timeBuckets(domain[0], domain[1], maxBuckets);
      domain[0] = buckets.starts[0]!;
      const points = f.completed.map((e) => ({ t: e.createdAt.getTime(), e }));
      const failures = aggregate(buckets, f.failed.map((e) => ({ t: e.createdAt.getTime(), value: 1 }))).map((s) => s?.count ?? 0);
      const staleFrom = f.stale && f.newest ? f.newest.createdAt.getTime() : undefined;
      const sizes = aggregate(buckets, points.map((p) => ({ t: p.t, value: p.e.size })));
      const durations = aggregate(buckets, points.filter((p) => p.e.manifest).map((p) => ({ t: p.t, value: p.e.manifest!.durationMs })));
      const hover = buckets.starts.map((start, i) => {
        const sz = sizes[i];
        const du = durations[i];
        const failed = failures[i]! > 0 ? `, ${failures[i]} failed` : "";
        if (!sz) return failed ? `${buckets.unit} of ${axisDate(start, "day")}: no backup${failed}` : "";
        const range = (st: BucketStats, format: (v: number) => string) =>
          st.count > 1 ? `${format(st.median)} (${format(st.min)} to ${format(st.max)})` : format(st.median);
        return `${buckets.unit} of ${axisDate(start, "day")}: ${sz.count} backup${sz.count === 1 ? "" : "s"}${failed}; size ${range(sz, formatBytes)}${du ? `; took ${range(du, (ms) => formatDuration(Math.round(ms)))}` : ""}`;
      });
      const size = chart({
        title: `${f.label} backup size over time`,
        buckets,
        stats: sizes,
        hover,
        failures,
        format: formatBytes,
        unit: byteUnit,
        color: "#0969da",
        domain,
        staleFrom,
      });
      const duration = chart({
        title: `${f.label} backup duration over time`,
        buckets,
        stats: durations,
        failures,
        format: (ms) => formatDuration(Math.round(ms)),
        unit: durationUnit,
        color: "#8250df",
        domain,
        staleFrom,
      });
      const scheduled = f.maxAgeMs !== undefined || backupTypes[f.type].defaultSchedule !== undefined;
      const pill = f.stale
        ? `<span class="pill bad">stale</span>`
        : !f.newest
          ? `<span class="pill none">none yet</span>`
          : scheduled
            ? `<span class="pill ok">on time</span>`
            : `<span class="pill none">on demand</span>`;
      const figures = [
        `<span class="f"><b>${f.completed.length}</b> kept</span>`,
        f.newest ? `<span class="f">newest <b>${escapeHtml(formatMinute(f.newest.createdAt))}</b> (${escapeHtml(ago(f.newest.createdAt, now))})</span>` : "",
        f.latestSize !== undefined ? `<span class="f">size <b>${escapeHtml(formatBytes(f.latestSize))}</b>, ${escapeHtml(trendText(f.trendPer30d))}</span>` : "",
        f.medianDurationMs !== undefined ? `<span class="f">takes <b>${escapeHtml(formatDuration(Math.round(f.medianDurationMs)))}</b> (median)</span>` : "",
        f.failedRecent ? `<span class="f" style="color:var(--bad)"><b style="color:inherit">${f.failedRecent}</b> failed in ${RECENT_FAILURE_DAYS} days</span>` : "",
      ].filter(Boolean).join("");
      return (
        `<section class="type" data-type="${escapeHtml(f.type)}"><header><h3>${escapeHtml(f.label)}</h3>${pill}${figures}</header>` +
        `<div class="charts"><figure>${size}<figcaption>Stored size per ${buckets.unit}: line = median, band = smallest to largest</figcaption></figure>` +
        `<figure>${duration}<figcaption>Duration per ${buckets.unit}${failures.some((n) => n > 0) ? "; red marks = failed attempts" : ""}</figcaption></figure></div></section>`
      );
    })
    .join("");

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
