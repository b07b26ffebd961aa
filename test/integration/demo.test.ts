// The README's first command must keep working: `npm run demo` backs up a local database into a
// directory, lists it, and restores it identically (the script compares every table).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli";
import { requireServices } from "../helpers/services";

describe("npm run demo", () => {
  it("backs up, lists and restores the demo database identically", async () => {
    await requireServices("postgres");
    const { stdout } = await promisify(execFile)("bash", ["scripts/demo.sh"], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, DEMO_SKIP_BUILD: "1" }, // globalSetup built it; other tests are running it
    });
    expect(stdout).toMatch(/Backup completed: .*\.demo\/backups\/supabase\/manual\/backup_\d{8}_\d{6}(_\d+)?\.sql\.gz/);
    expect(stdout).toMatch(/row counts of 8 tables match the manifest/);
    expect(stdout).toMatch(/pmoves_core\.content_items identical/);
    expect(stdout).not.toMatch(/MISMATCH/);
    expect(stdout).toContain("== demo complete");
  }, 120_000);
});
