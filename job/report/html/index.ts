// `status --html`: the Backup Status report as one self-contained page an operator reads in five
// seconds — a healthy/unhealthy headline, warnings in plain words, size and duration trends per
// type, the verified restore points on a timeline, then the seed's sections. No script, font, image
// or URL is referenced (a CSP forbids them too): inline CSS and inline SVG only. Every text that
// comes from a backup (ids, tags, errors) is escaped. However many backups there are, charts are
// drawn from at most `maxBuckets` time buckets (min/median/max per bucket), never one shape per backup.
//
// The page is split by concern: aggregate.ts (time buckets, statistics), facts.ts (per-type facts),
// warnings.ts, charts.ts (SVG), type-section.ts, page.ts (layout), style.ts (CSS), escape.ts.
export { aggregate, timeBuckets, type BucketStats, type TimeBuckets } from "./aggregate";
export { escapeHtml } from "./escape";
export { STALE_GRACE_HOURS, scheduleIntervalHours, type StatusHtmlOptions } from "./facts";
export { renderStatusHtml } from "./page";
