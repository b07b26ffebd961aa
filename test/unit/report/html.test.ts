// renderStatusHtml as a pure function: what an operator reads first (headline, warnings), the seed's
// sections, escaping of every user-controlled text, no external reference, and charts whose size is
// bounded by time buckets, not by the number of backups.
import { describe, expect, it } from "vitest";
import type { BackupEntry } from "../../../job/inventory/backups";
import { MIN_VERIFIED_RESTORE_POINTS } from "../../../job/core/catalog";
import { buildStatusReport } from "../../../job/report/model";
import { aggregate, escapeHtml, renderStatusHtml, scheduleIntervalHours, timeBuckets } from "../../../job/report/html";
import { entriesOf, sampleManifest } from "../../helpers/manifests";
import { syntheticManifests } from "../../helpers/synthetic-backups";

const NOW = new Date("2025-06-07T12:00:00Z");
const DAY = 86_400_000;

/** Every element name in the page. */
function tagNames(html: string): Set<string> {
  return new Set([...html.matchAll(/<([a-zA-Z][a-zA-Z0-9:-]*)/g)].map((m) => m[1]!.toLowerCase()));
}

/** Every start tag in the page, attributes included. */
function startTags(html: string): string[] {
  return [...html.matchAll(/<[a-zA-Z][^>]*>/g)].map((m) => m[0]);
}

/** Number of elements inside <svg> blocks (the shapes a browser has to lay out). */
function svgElementCount(html: string): number {
  let count = 0;
  for (const svg of html.matchAll(/<svg[\s\S]*?<\/svg>/g)) count += (svg[0].match(/<[a-zA-Z]/g) ?? []).length;
  return count;
}

function state(html: string): string {
  return /id="headline" class="banner (\w+)"/.exec(html)![1]!;
}

const ALLOWED_TAGS = new Set([
  "!doctype", "html", "head", "meta", "title", "style", "body", "main", "section", "header", "div", "p", "h1", "h2", "h3",
  "ul", "li", "b", "code", "span", "table", "thead", "tbody", "tr", "th", "td", "figure", "figcaption",
  "svg", "g", "path", "rect", "line", "circle", "text",
]);

function healthyYear(): BackupEntry[] {
  return entriesOf(syntheticManifests({ now: NOW, days: 365, verifyEvery: 7, failEvery: 0, stopDaysAgo: { daily: 0.3 } }));
}

function render(entries: BackupEntry[], options?: Parameters<typeof renderStatusHtml>[3]): string {
  return renderStatusHtml(entries, NOW, buildStatusReport(entries, NOW), options);
}

describe("headline and warnings", () => {
  it("a year of on-time, verified backups is 'healthy' with no warnings", () => {
    const html = render(healthyYear());
    expect(state(html)).toBe("ok");
    expect(html).toContain("Backups are healthy");
    expect(html).not.toContain('id="warnings"');
    expect(html).toMatch(/<title>Backup Status: healthy<\/title>/);
    // growth at a glance: the main type's size and its trend per 30 days
    expect(html).toMatch(/Daily backups \d+ MB, \+\d+\.\d% per 30 days/);
  });

  it("no backup at all is NOT healthy, in plain words", () => {
    const html = render([]);
    expect(state(html)).toBe("bad");
    expect(html).toContain("Backups are NOT healthy");
    expect(html).toContain("There is no successful backup.");
    expect(html).toContain("No backups yet.");
  });

  it("a scheduled type whose newest backup is too old is stale: NOT healthy, naming the type and when", () => {
    const entries = entriesOf(syntheticManifests({ now: NOW, days: 60, verifyEvery: 7, stopDaysAgo: { daily: 3 } }));
    const html = render(entries);
    expect(state(html)).toBe("bad");
    expect(html).toMatch(/Daily backups stopped 3 d ago/);
    expect(html).toMatch(/Daily backups have stopped: the newest successful one is from 2025-06-04 \d\d:\d\d, 3 d ago \(expected at least every 26 h\)/);
    expect(html).toContain('<span class="pill bad">stale</span>');
  });

  it("takes the caller's max ages (status --max-age) instead of the schedule's", () => {
    const entries = entriesOf(syntheticManifests({ now: NOW, days: 60, verifyEvery: 7, stopDaysAgo: { daily: 3 } }));
    expect(state(render(entries, { maxAgeMs: { daily: 5 * DAY } }))).toBe("ok");
    const html = render(entries, { maxAgeMs: { daily: 2 * DAY, manual: 1 * DAY } });
    expect(html).toContain("expected at least every 2 d");
    expect(html).toMatch(/Manual backups have stopped/);
  });

  it(`fewer than ${MIN_VERIFIED_RESTORE_POINTS} verified restore points is a warning, with the command that fixes it`, () => {
    const entries = entriesOf(syntheticManifests({ now: NOW, days: 20, verifyEvery: 10, stopDaysAgo: { daily: 0.3 } }));
    const html = render(entries);
    expect(state(html)).toBe("warn");
    expect(html).toContain("Backups are running, but need attention");
    expect(html).toMatch(/Only 2 verified restore point\(s\); keep at least 3 \(run <code>db-backup verify<\/code>\)/);
  });

  it("failed attempts are counted per type with the newest reason; a failed latest attempt is NOT healthy", () => {
    const failing = sampleManifest({
      id: "backup_20250607_100000",
      type: "daily",
      status: "failed",
      error: "pg_dump: error: connection refused",
      startedAt: "2025-06-07T10:00:00.000Z",
      finishedAt: "2025-06-07T10:00:01.000Z",
    });
    const entries = [...entriesOf([failing]), ...healthyYear()];
    const html = render(entries);
    expect(state(html)).toBe("bad");
    expect(html).toContain("The most recent backup attempt failed: backup_20250607_100000 (pg_dump: error: connection refused).");
    expect(html).toContain("The most recent backup attempt failed.</p>");
    expect(html).toMatch(/1 backup attempt failed in the last 30 days \(daily: 1\); the newest, <code>backup_20250607_100000<\/code> on 2025-06-07 10:00: pg_dump: error: connection refused/);
  });

  it("a newest backup far smaller than usual is flagged", () => {
    const manifests = syntheticManifests({ now: NOW, days: 30, verifyEvery: 7, stopDaysAgo: { daily: 0.3 } });
    const newestDaily = manifests.find((m) => m.type === "daily")!;
    newestDaily.sizes.stored = Math.round(newestDaily.sizes.stored * 0.3);
    const html = render(entriesOf(manifests));
    expect(html).toMatch(new RegExp(`The newest daily backup <code>${newestDaily.id}</code> \\([\\d.]+ MB\\) is 7\\d% smaller than the usual`));
  });
});

describe("the seed's sections", () => {
  it("Latest Backups, Storage Summary and Point-in-Time Recovery, in that order, with the report's values", () => {
    const entries = healthyYear();
    const report = buildStatusReport(entries, NOW);
    const html = renderStatusHtml(entries, NOW, report);
    const order = ["Latest Backups", "Storage Summary", "Point-in-Time Recovery"].map((h) => html.indexOf(`>${h}</h2>`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    for (const row of report.latest) expect(html).toContain(`<code>${row.id}</code>`);
    expect(html).toContain(`<b>Total Backups:</b> ${report.summary.totalBackups}`);
    expect(html).toContain(`<b>Verified Restore Points:</b> ${report.summary.verifiedRestorePoints}`);
    expect(html).toContain("Not configured: set SUPABASE_PROJECT_ID and SUPABASE_ACCESS_TOKEN");
  });

  it("draws a configured PITR window and shows its range and any extra figures the report carries", () => {
    const entries = healthyYear();
    const report = buildStatusReport(entries, NOW, {
      pitr: { configured: true, note: "From Supabase.", availableFrom: "2025-05-31T00:00:00Z", availableTo: "2025-06-07T11:00:00Z" },
    });
    (report.pitr as unknown as Record<string, unknown>).walSize = "1.2 GB";
    const html = renderStatusHtml(entries, NOW, report);
    expect(html).toContain("<b>Available Range:</b> 2025-05-31 to 2025-06-07");
    expect(html).toContain("<b>Wal Size:</b> 1.2 GB");
    expect(html).toMatch(/<rect class="pitr"[^>]*><title>recoverable to any moment from 2025-05-31 00:00 to 2025-06-07 11:00<\/title>/);
  });

  it("has a size and a duration chart per type in use, and the restore-point timeline", () => {
    const html = render(healthyYear());
    for (const label of ["Daily", "Manual", "Pre-Migration", "Monthly"]) {
      expect(html).toContain(`aria-label="${label} backup size over time"`);
      expect(html).toContain(`aria-label="${label} backup duration over time"`);
    }
    expect(html).toContain('aria-label="Verified restore points on a timeline"');
    expect((html.match(/class="vp protected"/g) ?? []).length).toBe(MIN_VERIFIED_RESTORE_POINTS);
  });

  it("is deterministic: the same input gives the same bytes", () => {
    const entries = healthyYear();
    expect(render(entries)).toBe(render(entries));
  });
});

describe("self-contained and escaped", () => {
  const hostile = `<script>fetch("http://127.0.0.1:9/x")</script><img src=x onerror=alert(1)>"'&`;

  function hostileEntries(): BackupEntry[] {
    const failed = sampleManifest({
      id: "backup_20250607_010000",
      type: "daily",
      status: "failed",
      error: hostile,
      startedAt: "2025-06-07T01:00:00.000Z",
      finishedAt: "2025-06-07T01:00:01.000Z",
    });
    const tagged = sampleManifest({ id: "backup_20250606_150000", type: "pre_migration", startedAt: "2025-06-06T15:00:00.000Z" });
    const entries = [...entriesOf([failed, tagged]), ...healthyYear()];
    // The renderer must not rely on upstream validation: an id and a tag with markup in them.
    entries[1] = { ...entries[1]!, id: `x"><svg onload=alert(1)>`, manifest: { ...entries[1]!.manifest!, tag: `</code><b>t</b>` } };
    entries.push({ id: "<i>legacy</i>", type: "legacy", status: "invalid", key: null, size: 0, createdAt: new Date(NOW.getTime() - DAY), manifest: null, manifestVersionId: null, dumpVersionId: null, alarms: [hostile], problem: hostile });
    return entries;
  }

  it("escapes ids, tags and errors everywhere: only the renderer's own elements appear", () => {
    const html = render(hostileEntries());
    const unexpected = [...tagNames(html)].filter((t) => !ALLOWED_TAGS.has(t));
    expect(unexpected).toEqual([]);
    expect(html).not.toMatch(/<script|<img|<i>|<svg onload/i);
    expect(startTags(html).filter((t) => /\son\w+\s*=/i.test(t))).toEqual([]);
    expect(html).toContain("&lt;script&gt;fetch(&quot;http://127.0.0.1:9/x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;");
    expect(html).toContain("x&quot;&gt;&lt;svg onload=alert(1)&gt;");
    expect(html).toContain("&lt;/code&gt;&lt;b&gt;t&lt;/b&gt;");
  });

  it("references nothing outside the page, and says so in a Content-Security-Policy", () => {
    const html = render(hostileEntries());
    expect(startTags(html).filter((t) => /\s(src|href|xlink:href|action|srcset|poster|data|background)\s*=/i.test(t))).toEqual([]);
    expect(html).not.toMatch(/url\(|@import|<link|<script|<iframe|<object|<embed/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'`);
  });

  it("escapeHtml covers the five HTML specials and control characters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>\u0000`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\uFFFD");
  });
});

describe("readable with thousands of backups", () => {
  it("5,000 backups draw a bounded number of SVG elements, and three times as many draw no more", () => {
    const history = (perDay: number) =>
      entriesOf(syntheticManifests({ now: NOW, days: 1000, perDay: { daily: 2 * perDay, manual: perDay, pre_migration: perDay, monthly: perDay }, verifyEvery: 5, failEvery: 50 }));
    const five = history(1).slice(0, 5_000);
    expect(five.length).toBe(5_000);
    const html = render(five);
    const count = svgElementCount(html);
    expect(count).toBeGreaterThan(100); // there are charts
    expect(count).toBeLessThan(800);
    expect(html.length).toBeLessThan(200_000);
    const dense = history(3);
    expect(dense.length).toBeGreaterThan(15_000);
    const denseHtml = render(dense);
    expect(svgElementCount(denseHtml)).toBeLessThanOrEqual(count);
    expect(denseHtml.length).toBeLessThan(200_000);
  });

  it("no chart has more buckets than maxBuckets, whatever the span", () => {
    for (const days of [0.01, 2, 30, 365, 3650]) {
      const b = timeBuckets(NOW.getTime() - days * DAY, NOW.getTime(), 90);
      expect(b.starts.length).toBeLessThanOrEqual(90);
      expect(b.starts[0]).toBeLessThanOrEqual(NOW.getTime() - days * DAY);
      expect(b.ends[b.ends.length - 1]).toBeGreaterThan(NOW.getTime());
    }
    expect(timeBuckets(NOW.getTime() - 30 * DAY, NOW.getTime(), 90).unit).toBe("day");
    expect(timeBuckets(NOW.getTime() - 365 * DAY, NOW.getTime(), 90).unit).toBe("week");
    expect(timeBuckets(NOW.getTime() - 3650 * DAY, NOW.getTime(), 90).unit).toBe("quarter");
  });

  it("aggregates each bucket to count, min, median and max", () => {
    const b = timeBuckets(Date.parse("2025-06-01T00:00:00Z"), Date.parse("2025-06-03T12:00:00Z"), 10);
    expect(b.unit).toBe("day");
    const at = (iso: string, value: number) => ({ t: Date.parse(iso), value });
    const stats = aggregate(b, [at("2025-06-01T01:00:00Z", 5), at("2025-06-01T23:00:00Z", 1), at("2025-06-01T12:00:00Z", 3), at("2025-06-03T02:00:00Z", 8), at("2025-06-03T03:00:00Z", 2)]);
    expect(stats).toEqual([{ count: 3, min: 1, median: 3, max: 5 }, undefined, { count: 2, min: 2, median: 5, max: 8 }]);
  });

  it("reads the catalog's schedules as intervals", () => {
    expect(scheduleIntervalHours("0 2 * * *")).toBe(24);
    expect(scheduleIntervalHours("0 3 1 * *")).toBe(744);
    expect(scheduleIntervalHours("0 5 * * 0")).toBe(168);
    expect(scheduleIntervalHours("*/5 * * * *")).toBeUndefined();
  });
});
