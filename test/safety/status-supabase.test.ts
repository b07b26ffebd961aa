// `status` and `list` with Supabase's Management API (a local HTTP server serving exactly the API's
// shapes, since the real one cannot be reached here), the PITR section, API errors as warnings,
// Auto ids refused for restore and delete, `--max-age` staleness, retention shown per type.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../job/core/catalog";
import type { BackupManifest } from "../../job/inventory/manifest";
import { expectOneLineError, expectRefused } from "../helpers/assertions";
import { createBackup } from "../helpers/backups";
import { jobEnv, runCli } from "../helpers/cli";
import { database, dropDatabase } from "../helpers/pg";
import { makeBucket, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";

const bucket = uniqueBucket("dbb-status");
const created: string[] = [];
const TOKEN = "sbp_test_token_0123456789abcdef";
let env: Record<string, string>;
let api: http.Server;
let apiUrl: string;
let manual: BackupManifest;
const requests: { path: string; auth?: string }[] = [];

/** `GET /v1/projects/{ref}/database/backups`, as the Management API answers it. */
const BACKUPS = {
  region: "eu-central-1",
  walg_enabled: true,
  pitr_enabled: true,
  backups: [
    { id: 101, is_physical_backup: true, status: "COMPLETED", inserted_at: "2025-06-06T00:00:00.000Z" },
    { id: 100, is_physical_backup: true, status: "FAILED", inserted_at: "2025-06-05T00:00:00.000Z" },
  ],
  physical_backup_data: { earliest_physical_backup_date_unix: 1748649600, latest_physical_backup_date_unix: 1749297600 },
};

function answer(ref: string, res: http.ServerResponse): void {
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (ref === "pitrproject01") return json(200, BACKUPS);
  if (ref === "nopitrproject1") return json(200, { ...BACKUPS, pitr_enabled: false, walg_enabled: false, physical_backup_data: {} });
  if (ref === "unauthorized01") return json(401, { message: "Unauthorized" });
  if (ref === "freeplanproj1") return json(402, { message: "Payment required" });
  if (ref === "badshapeproj1") return json(200, { backups: "nope" });
  if (ref === "slowproject01") return; // never answers
  json(404, { message: "not found" });
}

beforeAll(async () => {
  await requireServices("postgres", "s3");
  api = http.createServer((req, res) => {
    requests.push({ path: req.url ?? "", auth: req.headers.authorization });
    const m = /^\/v1\/projects\/([^/]+)\/database\/backups$/.exec(req.url ?? "");
    if (req.method !== "GET" || !m) return void res.writeHead(404).end();
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end("{}");
    answer(m[1]!, res);
  });
  await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const source = await database(created, "dbb_ssrc", { fixture: true });
  await makeBucket(bucket);
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl });
  delete env.NATS_URL;
  manual = await createBackup(env);
});

afterAll(async () => {
  api?.closeAllConnections();
  await new Promise((r) => api?.close(r));
  for (const name of created) await dropDatabase(name);
  await removeBucket(bucket);
});

const supabase = (ref: string, extra: Record<string, string> = {}) => ({ ...env, SUPABASE_PROJECT_ID: ref, SUPABASE_ACCESS_TOKEN: TOKEN, SUPABASE_API_URL: apiUrl, ...extra });

describe("Supabase's managed backups", () => {
  it("are listed as type Auto, and status shows them with the PITR range", async () => {
    const status = await runCli(["status"], supabase("pitrproject01"));
    expect(status.code, status.stderr).toBe(0);
    expect(requests.at(-1)).toEqual({ path: "/v1/projects/pitrproject01/database/backups", auth: `Bearer ${TOKEN}` });
    expect(status.stdout).toContain("| supabase_auto_20250606_000000 | Auto | n/a | 2025-06-06 00:00 | Completed | by Supabase |");
    expect(status.stdout).toContain("| supabase_auto_20250605_000000 | Auto | n/a | 2025-06-05 00:00 | Failed | by Supabase |");
    expect(status.stdout).toContain(`| ${manual.id} | Manual |`);
    expect(status.stdout).toContain("- **Supabase Managed Backups:** 2");
    const pitr = status.stdout.slice(status.stdout.indexOf("### Point-in-Time Recovery"));
    expect(pitr).toContain("- **Available Range:** 2025-05-31 to 2025-06-07");
    expect(pitr).toMatch(/PITR is enabled for project pitrproject01/);
    expect(status.stdout + status.stderr).not.toContain(TOKEN);

    const json = JSON.parse((await runCli(["status", "--json"], supabase("pitrproject01"))).stdout);
    expect(json.pitr).toMatchObject({ configured: true, enabled: true, availableFrom: "2025-05-31T00:00:00.000Z", availableTo: "2025-06-07T12:00:00.000Z" });

    const list = await runCli(["list"], supabase("pitrproject01"));
    expect(list.stdout).toContain("| supabase_auto_20250606_000000 | Auto |");
    const autos = JSON.parse((await runCli(["list", "--type", "auto", "--json"], supabase("pitrproject01"))).stdout) as { id: string; type: string; supabaseId: string }[];
    expect(autos.map((r) => [r.id, r.type, r.supabaseId])).toEqual([
      ["supabase_auto_20250606_000000", "auto", "101"],
      ["supabase_auto_20250605_000000", "auto", "100"],
    ]);
  });

  it("says PITR is not configured without the variables, and not enabled when the project has none", async () => {
    let status = await runCli(["status"], env);
    expect(status.stdout).toMatch(/### Point-in-Time Recovery\n- Not configured: set SUPABASE_PROJECT_ID and SUPABASE_ACCESS_TOKEN/);
    status = await runCli(["status"], supabase("nopitrproject1"));
    expect(status.stdout).toMatch(/PITR is not enabled for Supabase project nopitrproject1/);
    expect(status.stdout).not.toContain("Available Range");
  });

  it("turns API errors (401, 402, timeouts, unexpected shapes) into a warning, never a crash", async () => {
    const cases: [string, RegExp, Record<string, string>?][] = [
      ["unauthorized01", /refused the token \(401\): check SUPABASE_ACCESS_TOKEN/],
      ["freeplanproj1", /requires a paid plan .*\(402\)/],
      ["slowproject01", /did not answer within 1 s/, { SUPABASE_API_TIMEOUT_SECONDS: "1" }],
      ["badshapeproj1", /unexpected shape \(backups:/],
    ];
    for (const [ref, pattern, extra] of cases) {
      const status = await runCli(["status"], supabase(ref, extra));
      expect(status.code, `${ref}: ${status.stderr}`).toBe(0);
      const warnings = status.stdout.slice(status.stdout.indexOf("### Warnings"), status.stdout.indexOf("### Latest Backups"));
      expect(warnings, ref).toMatch(pattern);
      expect(status.stdout).toContain(`| ${manual.id} | Manual |`);
      const list = await runCli(["list"], supabase(ref, extra));
      expect(list.code, ref).toBe(0);
      expect(list.stderr).toMatch(pattern);
      expect(status.stdout + status.stderr + list.stderr).not.toContain(TOKEN);
    }
    // Unreachable altogether.
    const down = await runCli(["status"], supabase("pitrproject01", { SUPABASE_API_URL: "http://127.0.0.1:1" }));
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/Supabase Management API is unreachable/);
  });

  it("refuses to restore or delete an Auto backup, pointing at Supabase's own restore", async () => {
    const restore = await runCli(["restore", "supabase_auto_20250606_000000", "--target", "staging"], supabase("pitrproject01"));
    expectRefused(restore, /supabase_auto_20250606_000000 is a Supabase-managed \(Auto\) backup, which this job cannot restore: restore it with Supabase's own restore \(dashboard → project pitrproject01/);
    const del = await runCli(["delete", "supabase_auto_20250606_000000"], supabase("pitrproject01"));
    expectRefused(del, /Supabase-managed \(Auto\) backup: Supabase keeps and removes its own backups/);
  });
});

describe("status", () => {
  it("warns plainly when fewer than 3 verified restore points exist", async () => {
    const status = await runCli(["status"], env);
    expect(status.stdout).toMatch(/- Only 0 verified restore point\(s\); keep at least 3 \(run `db-backup verify`\)\./);
  });

  it("--max-age exits 5 when the newest successful backup of a listed type is missing or too old", async () => {
    let status = await runCli(["status", "--max-age", "manual=1h"], env);
    expect(status.code, status.stderr).toBe(0);
    status = await runCli(["status", "--max-age", "manual=1h,daily=26h"], env);
    expect(status.code).toBe(EXIT_CODES.unhealthy);
    expect(status.stdout).toMatch(/Backups stopped\? There is no successful daily backup \(--max-age daily=26h\)/);
    expectOneLineError(status, /the newest successful daily backup does not exist \(--max-age daily=26h\)/);
    await new Promise((r) => setTimeout(r, 1100));
    status = await runCli(["status", "--max-age", "manual=1s", "--json"], env);
    expect(status.code).toBe(EXIT_CODES.unhealthy);
    expect(JSON.parse(status.stdout).stale).toEqual([{ type: "manual", maxAge: "1s", newestId: manual.id, newestAt: manual.startedAt }]);
    expectOneLineError(status, new RegExp(`the newest successful manual backup is \\d+ s old \\(--max-age manual=1s\\)`));
    const bad = await runCli(["status", "--max-age", "daily=abc"], env);
    expect(bad.code).toBe(EXIT_CODES.usage);
    expectOneLineError(bad, /--max-age "daily=abc" is invalid/);
  });

  it("shows each backup's expiry from the retention table, lengthened by BACKUP_RETENTION_DAYS, never shortened", async () => {
    const expiry = async (extra: Record<string, string>) =>
      (JSON.parse((await runCli(["list", "--json"], { ...env, ...extra })).stdout) as { id: string; expiresAt: string }[]).find((r) => r.id === manual.id)!.expiresAt;
    const created = new Date(manual.startedAt).getTime();
    expect(new Date(await expiry({})).getTime() - created).toBe(30 * 86_400_000);
    expect(new Date(await expiry({ BACKUP_RETENTION_DAYS: "manual=60" })).getTime() - created).toBe(60 * 86_400_000);
    const shorter = await runCli(["list"], { ...env, BACKUP_RETENTION_DAYS: "manual=10" });
    expect(shorter.code).toBe(EXIT_CODES.usage);
    expectOneLineError(shorter, /manual=10 is shorter than the table's 30 days/);
    const list = await runCli(["list"], env);
    expect(list.stdout).toMatch(/\| ID \| Type \| Size \| Created \| Status \| Expires \|/);
  });
});
