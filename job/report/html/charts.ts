// Inline SVG for the status page: the size/duration chart per type and the restore-point timeline,
// both drawn from time buckets, so the number of shapes is bounded however many backups there are.
import type { BackupEntry } from "../../inventory";
import { protectedRestorePoints } from "../../retention";
import { formatDay, formatMinute } from "../../core/format";
import type { StatusReport } from "../model";
import { aggregate, bucketIndex, timeBuckets, type BucketStats, type BucketUnit, type TimeBuckets } from "./aggregate";
import { escapeHtml } from "./escape";
import { HOUR_MS, MINUTE_MS, SECOND_MS } from "../../core/time";

/** SVG coordinates to one decimal. */
const num = (n: number) => (Math.round(n * 10) / 10).toString();

const W = 540;
const H = 190;
const PAD = { left: 64, right: 14, top: 12, bottom: 30 };

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * exp >= value) return step * exp;
  return 10 * exp;
}

export const byteUnit = (max: number) => 1024 ** Math.max(0, Math.min(4, Math.floor(Math.log(Math.max(1, max)) / Math.log(1024))));
export const durationUnit = (max: number) => (max < MINUTE_MS ? SECOND_MS : max < 2 * HOUR_MS ? MINUTE_MS : HOUR_MS);

export function axisDate(t: number, unit: BucketUnit): string {
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
export function chart(spec: ChartSpec): string {
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
export function restoreTimeline(full: BackupEntry[], verified: BackupEntry[], report: StatusReport, now: Date, maxBuckets: number): string {
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
  const newest = new Set(protectedRestorePoints(verified).map((e) => e.id));
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
