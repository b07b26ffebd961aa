// One backup type's section of the status page: its state, figures, and size and duration charts.
import type { BackupEntry } from "../../inventory";
import { backupTypes } from "../../core/catalog";
import { formatBytes, formatDuration, formatMinute } from "../../core/format";
import { aggregate, timeBuckets, type BucketStats } from "./aggregate";
import { axisDate, byteUnit, chart, durationUnit } from "./charts";
import { escapeHtml } from "./escape";
import { RECENT_FAILURE_DAYS, ago, trendText, type TypeFacts } from "./facts";
import { HOUR_MS } from "../../core/time";

/** A type's section; a type with no backup gets just its name and a "no backup" pill. */
export function typeSection(f: TypeFacts, entries: BackupEntry[], now: Date, maxBuckets: number): string {
  const all = entries.filter((e) => e.type === f.type && (e.status === "completed" || e.status === "failed"));
  if (all.length === 0) {
    return `<section class="type" data-type="${escapeHtml(f.type)}"><header><h3>${escapeHtml(f.label)}</h3><span class="pill bad">no backup</span></header></section>`;
  }
  const from = Math.min(...all.map((e) => e.createdAt.getTime()));
  const domain: [number, number] = [from, Math.max(now.getTime(), from + HOUR_MS)];
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
}
