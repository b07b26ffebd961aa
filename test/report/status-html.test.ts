// `db-backup status --html` in a real browser: headless Chromium (Debian's package) driven by
// playwright-core loads the page the bundle wrote from real backups of a real database plus a year
// of synthetic history in the same BACKUP_DIR, and the test checks what an operator sees — the
// headline, the warnings, the charts and the seed's sections — and that the page asked the network
// for nothing. Screenshots go to test-artifacts/ (gitignored). A missing Chromium fails the test
// with the command that installs it; it never skips.
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupManifest } from "../../job/inventory/manifest";
import { formatAge } from "../../job/report/max-age";
import { ROOT, baseEnv, runCli } from "../helpers/cli";
import { createDatabase, dropDatabase, loadFixture, uniqueName } from "../helpers/pg";
import { requireServices } from "../helpers/services";
import { syntheticManifests, writeToBackupDir } from "../helpers/synthetic-backups";

const CHROMIUM = process.env.DBB_TEST_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const ARTIFACTS = path.join(ROOT, "test-artifacts");
const DAY = 86_400_000;
const HOSTILE_ERROR = `pg_dump: error: <img src="http://127.0.0.1:9/pixel.png" onerror="fetch('http://127.0.0.1:9/x')"> & "quotes"`;

const source = uniqueName("dbb_html_src");
let work: string;
let browser: Browser;
let real: BackupManifest[] = [];

async function createReal(env: Record<string, string>, ...args: string[]): Promise<BackupManifest> {
  const r = await runCli(["create", ...args, "--json"], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as BackupManifest;
}

/** A year of history shaped like the real backups (their size and duration, growing into them). */
function history(now: Date, options: { stopDaysAgo: Record<string, number>; failEvery: number; verifyEvery: number; keepRecentFailures: boolean }): BackupManifest[] {
  const daily = real.find((m) => m.type === "daily")!;
  const start = 0.72;
  return syntheticManifests({
    now,
    days: 365,
    baseBytes: Math.round(daily.sizes.stored * start),
    growthPerDay: (1 / start) ** (1 / 365) - 1,
    baseDurationMs: daily.durationMs * start,
    stopDaysAgo: options.stopDaysAgo,
    failEvery: options.failEvery,
    verifyEvery: options.verifyEvery,
    failureError: HOSTILE_ERROR,
    seed: 7,
  }).filter((m) => options.keepRecentFailures || m.status !== "failed" || now.getTime() - Date.parse(m.startedAt) > 30 * DAY);
}

interface Loaded {
  page: Page;
  requests: string[];
  url: string;
}

async function open(file: string): Promise<Loaded> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  page.on("request", (request) => requests.push(request.url()));
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: "load" });
  return { page, requests, url };
}

async function statusHtml(dir: string, file: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(["status", ...extra, "--html", file], baseEnv({ BACKUP_DIR: dir }));
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y --no-install-recommends chromium\` (npm test does)`);
  }
  await requireServices("postgres");
  await fs.mkdir(ARTIFACTS, { recursive: true });
  work = await fs.mkdtemp(path.join(os.tmpdir(), "dbb-html-"));
  const env = baseEnv({ SUPABASE_DB_URL: await createDatabase(source), BACKUP_DIR: path.join(work, "real") });
  loadFixture(source);
  // Real backups of a real database, through the bundle: what the history is shaped after.
  real = [await createReal(env, "--type", "daily"), await createReal(env, "--type", "pre_migration", "--tag", "before_v2_schema"), await createReal(env)];
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await dropDatabase(source);
  if (work) await fs.rm(work, { recursive: true, force: true });
});

describe("status --html in Chromium", () => {
  it("a healthy year: green headline, a size and a duration chart per type, restore points, the seed's sections, no request", async () => {
    const dir = path.join(work, "healthy");
    await fs.cp(path.join(work, "real"), dir, { recursive: true });
    await writeToBackupDir(dir, history(new Date(), { stopDaysAgo: { daily: 1 }, failEvery: 45, verifyEvery: 7, keepRecentFailures: false }));
    const file = path.join(work, "status.html");
    const r = await statusHtml(dir, file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("## Backup Status"); // the markdown report still goes to stdout
    expect(r.stderr).toContain(`status page written to ${file}`);

    const { page, requests, url } = await open(file);
    try {
      const headline = page.locator("#headline");
      await expect(headline.isVisible()).resolves.toBe(true);
      expect(await headline.getAttribute("data-state")).toBe("ok");
      expect(await headline.locator("h1").innerText()).toBe("Backups are healthy");
      expect(await headline.innerText()).toMatch(/Daily backups [\d.]+ KB, \+\d+\.\d% per 30 days/);
      expect(await page.locator("#warnings").count()).toBe(0);

      for (const heading of ["Growth trends", "Verified restore points", "Latest Backups", "Storage Summary", "Point-in-Time Recovery"]) {
        expect(await page.getByRole("heading", { name: heading, exact: true }).isVisible(), heading).toBe(true);
      }
      const charts = page.locator("svg.chart");
      expect(await charts.count()).toBe(8); // size and duration for daily, manual, pre-migration, monthly
      for (let i = 0; i < 8; i++) {
        const box = await charts.nth(i).boundingBox();
        expect(box!.width).toBeGreaterThan(400);
        expect(box!.height).toBeGreaterThan(120);
      }
      expect(await page.locator('section[data-type="daily"] svg.chart path.median').count()).toBe(2);
      expect(await page.locator('section[data-type="daily"] .pill').innerText()).toBe("on time");
      expect(await page.locator("svg.timeline").isVisible()).toBe(true);
      expect(await page.locator("svg.timeline .vp.protected").count()).toBe(3);
      // The real backups are the newest rows of the seed's table, the tag shown with its backup.
      const latest = await page.locator("#latest + table").innerText();
      for (const m of real) expect(latest).toContain(m.id);
      expect(latest).toContain("before_v2_schema");
      // Bounded drawing: a year of ~440 backups, a few hundred shapes.
      expect(await page.locator("svg *").count()).toBeLessThan(900);

      expect(requests).toEqual([url]);
      await page.screenshot({ path: path.join(ARTIFACTS, "status.png"), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it("stopped backups and a failed attempt: red headline, warnings in plain words first, hostile text shown as text, still no request", async () => {
    const dir = path.join(work, "stopped");
    const now = new Date();
    const manifests = history(now, { stopDaysAgo: { daily: 3, manual: 2, pre_migration: 2, monthly: 2 }, failEvery: 25, verifyEvery: 150, keepRecentFailures: true });
    // The newest attempt failed (with an error full of markup), after the daily backups stopped.
    const failed = { ...manifests.find((m) => m.type === "daily" && m.status === "completed")!, id: "backup_failed_newest", status: "failed" as const, error: HOSTILE_ERROR, sizes: { stored: 0, dumped: null }, sha256: null, rowCounts: null, startedAt: new Date(now.getTime() - 3_600_000).toISOString(), finishedAt: new Date(now.getTime() - 3_590_000).toISOString() };
    delete (failed as Partial<BackupManifest>).verification;
    failed.key = failed.key.replace(/backup_\d+_\d+/, failed.id);
    await writeToBackupDir(dir, [...manifests, failed]);
    const file = path.join(work, "status-stopped.html");
    const r = await statusHtml(dir, file, ["--max-age", "daily=26h"]);
    expect(r.code, "status --max-age still writes the page, then exits unhealthy").toBe(5);
    expect(r.stderr).toContain(`status page written to ${file}`);

    const { page, requests, url } = await open(file);
    try {
      const headline = page.locator("#headline");
      expect(await headline.getAttribute("data-state")).toBe("bad");
      expect(await headline.locator("h1").innerText()).toBe("Backups are NOT healthy");
      const newestDaily = manifests.filter((m) => m.type === "daily" && m.status === "completed").map((m) => Date.parse(m.startedAt)).sort((a, b) => b - a)[0]!;
      const age = formatAge(now.getTime() - newestDaily);
      expect(await headline.locator(".why").innerText()).toMatch(new RegExp(`^Daily backups stopped ${age} ago; the most recent backup attempt failed\\.$`));
      const warnings = page.locator("#warnings li");
      const texts = await warnings.allInnerTexts();
      expect(texts[0]).toMatch(new RegExp(`^Problem:\\s*Backups stopped\\? The newest successful daily backup \\(backup_\\d+_\\d+\\) is ${age} old, more than --max-age daily=26h\\.$`));
      expect(texts.join("\n")).toContain("The most recent backup attempt failed: backup_failed_newest (pg_dump: error: <img src=");
      expect(texts.join("\n")).toMatch(/Only [0-2] verified restore point\(s\); keep at least 3 \(run db-backup verify\)/);
      expect(texts.join("\n")).toMatch(/\d+ backup attempts? failed in the last 30 days \(daily: \d+/);
      // Warnings come before everything else but the headline, problems first.
      expect(texts[0]).toMatch(/^Problem:/);
      const warningsTop = (await page.locator("#warnings").boundingBox())!.y;
      expect(warningsTop).toBeLessThan((await page.locator("#trends").boundingBox())!.y);
      expect(await page.locator('section[data-type="daily"] .pill').innerText()).toBe("stale");
      expect(await page.locator("img, script, iframe").count()).toBe(0);
      expect(requests).toEqual([url]);
      await page.screenshot({ path: path.join(ARTIFACTS, "status-unhealthy.png"), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it("a path that cannot be written is bad usage (exit 2) naming --html, and leaves no partial file", async () => {
    const missing = path.join(work, "no-such-dir", "status.html");
    const r = await statusHtml(path.join(work, "real"), missing);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--html");
    expect(r.stdout).toContain("## Backup Status");
    expect(existsSync(path.dirname(missing))).toBe(false);
    const real = await fs.readdir(work);
    expect(real.filter((f) => f.includes(".partial-"))).toEqual([]);
  });
});
