// Cron helpers for the CronJobs: what Kubernetes accepts, and how stale a schedule's newest backup
// may get before `status --max-age` should fail. Pure functions; config.ts and schedules use them.
import { CronExpressionParser } from "cron-parser";

/** Kubernetes CronJobs take five fields or one of these macros; no seconds field, no `TZ=` prefix
 * (the CronJob's `timeZone` carries the zone). */
const MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/** Why `expression` is not a schedule a CronJob can run, or undefined when it is. */
export function cronProblem(expression: string): string | undefined {
  const text = expression.trim();
  if (/^(CRON_)?TZ=/.test(text)) return `"${text}" carries a time zone: set db-backup:timeZone instead`;
  if (text.startsWith("@")) {
    return MACROS.includes(text) ? undefined : `"${text}" is not a cron macro (${MACROS.join(", ")})`;
  }
  const fields = text.split(/\s+/).filter((f) => f.length > 0);
  if (fields.length !== 5) {
    return `"${text}" has ${fields.length} fields: a cron schedule has 5 (minute hour day-of-month month day-of-week)`;
  }
  try {
    CronExpressionParser.parse(text, { tz: "Etc/UTC" }).next();
    return undefined;
  } catch (error) {
    return `"${text}" is not a valid cron schedule (${(error as Error).message})`;
  }
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The longest gap, in whole hours rounded up, between two consecutive runs of a schedule, looked at
 * over a year of runs (a monthly schedule's is 31 days). Deterministic: starts at a fixed date. */
export function longestGapHours(expression: string, timeZone: string): number {
  const interval = CronExpressionParser.parse(expression.trim(), {
    tz: timeZone,
    currentDate: new Date("2025-01-01T00:00:00Z"),
  });
  const horizon = Date.parse("2026-01-01T00:00:00Z");
  let previous = interval.next().getTime();
  let longest = 0;
  // A schedule firing every minute would take half a million steps to cover the year; its gaps are
  // all equal, so a few thousand runs are enough to see the longest.
  for (let run = 0; run < 5000 && previous < horizon; run++) {
    const next = interval.next().getTime();
    longest = Math.max(longest, next - previous);
    previous = next;
  }
  return Math.ceil(longest / 3_600_000);
}
