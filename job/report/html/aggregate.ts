// Time buckets for the status page's charts: the finest calendar unit that fits in `maxBuckets`,
// and min/median/max per bucket, so the charts grow with buckets, never with backups.

import { DAY_MS, HOUR_MS } from "../../core/time";

export type BucketUnit = "hour" | "day" | "week" | "month" | "quarter" | "year";
const UNIT_MS: Record<BucketUnit, number> = { hour: HOUR_MS, day: DAY_MS, week: 7 * DAY_MS, month: 31 * DAY_MS, quarter: 92 * DAY_MS, year: 366 * DAY_MS };
const UNITS: BucketUnit[] = ["hour", "day", "week", "month", "quarter", "year"];

function floorTo(t: number, unit: BucketUnit): number {
  const d = new Date(t);
  switch (unit) {
    case "hour":
      return Math.floor(t / HOUR_MS) * HOUR_MS;
    case "day":
      return Math.floor(t / DAY_MS) * DAY_MS;
    case "week": // Monday, UTC
      return Math.floor(t / DAY_MS) * DAY_MS - ((d.getUTCDay() + 6) % 7) * DAY_MS;
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

export function bucketIndex(buckets: TimeBuckets, t: number): number {
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

export function median(sorted: number[]): number {
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
