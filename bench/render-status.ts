// How long `status --html` takes to render a year of daily backups of every type (365 × 4), and a
// heavier 20,000-backup history: the report model plus the page, in-process, median of several
// runs after a warm-up. Prints one line per case and, with --json, a JSON document.
//   npx tsx bench/render-status.ts [--runs N] [--json]
import { performance } from "node:perf_hooks";
import type { BackupEntry } from "../job/inventory/backups";
import { buildStatusReport } from "../job/report/model";
import { renderStatusHtml } from "../job/report/html";
import { entriesOf } from "../test/helpers/manifests";
import { syntheticManifests } from "../test/helpers/synthetic-backups";

export interface RenderBenchResult {
  name: string;
  backups: number;
  medianMs: number;
  maxMs: number;
  pageBytes: number;
  svgElements: number;
}

function svgElements(html: string): number {
  let count = 0;
  for (const svg of html.matchAll(/<svg[\s\S]*?<\/svg>/g)) count += (svg[0].match(/<[a-zA-Z]/g) ?? []).length;
  return count;
}

export function benchRender(name: string, entries: BackupEntry[], now: Date, runs: number): RenderBenchResult {
  const once = () => renderStatusHtml(entries, now, buildStatusReport(entries, now));
  let html = once(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    html = once();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return {
    name,
    backups: entries.length,
    medianMs: Math.round(times[times.length >> 1]! * 10) / 10,
    maxMs: Math.round(times[times.length - 1]! * 10) / 10,
    pageBytes: Buffer.byteLength(html),
    svgElements: svgElements(html),
  };
}

export function runRenderBench(runs = 15): RenderBenchResult[] {
  const now = new Date("2025-06-07T12:00:00Z");
  const year = entriesOf(
    syntheticManifests({ now, days: 365, perDay: { daily: 1, manual: 1, pre_migration: 1, monthly: 1 }, verifyEvery: 7, failEvery: 60 }),
  );
  const heavy = entriesOf(
    syntheticManifests({ now, days: 5 * 365, perDay: { daily: 6, manual: 3, pre_migration: 2 }, verifyEvery: 7, failEvery: 60 }),
  ).slice(0, 20_000);
  return [benchRender("a year of daily backups, 4 types", year, now, runs), benchRender("20,000 backups over 5 years", heavy, now, Math.max(3, runs >> 2))];
}

function main(argv: string[]): void {
  const runsAt = argv.indexOf("--runs");
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 15;
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a whole number of at least 1");
  const results = runRenderBench(runs);
  for (const r of results) {
    console.log(
      `render-status: ${r.name}: ${r.backups.toLocaleString("en-US")} backups rendered in ${r.medianMs} ms (median, max ${r.maxMs} ms), ` +
        `page ${(r.pageBytes / 1024).toFixed(0)} KB, ${r.svgElements} SVG elements`,
    );
  }
  if (argv.includes("--json")) console.log(JSON.stringify({ bench: "render-status", node: process.version, results }, null, 2));
}

if (process.argv[1] && /render-status\.[cm]?[jt]s$/.test(process.argv[1])) main(process.argv.slice(2));
