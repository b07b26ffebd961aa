// The embedded default: BACKUP_DIR instead of S3, with the same layout and the same guarantees.
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectOneLineError } from "../helpers/assertions";
import { baseEnv, runCli } from "../helpers/cli";
import { createDatabase, dataFingerprint, dropDatabase, loadFixture, uniqueName } from "../helpers/pg";
import { requireServices } from "../helpers/services";

const source = uniqueName("dbb_lsrc");
const target = uniqueName("dbb_ltgt");
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  await requireServices("postgres");
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "dbb-local-"));
  env = baseEnv({ SUPABASE_DB_URL: await createDatabase(source), BACKUP_DIR: dir });
  loadFixture(source);
  await createDatabase(target);
});

afterAll(async () => {
  await dropDatabase(source);
  await dropDatabase(target);
  await fs.rm(dir, { recursive: true, force: true });
});

async function files(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.relative(root, path.join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

describe("BACKUP_DIR", () => {
  it("backs up into the directory with the bucket's layout and restores exactly", async () => {
    const made = await runCli(["create", "--type", "daily", "--json"], env);
    expect(made.code).toBe(0);
    const { id } = JSON.parse(made.stdout) as { id: string };
    const stored = (await files(dir)).filter((f) => !f.startsWith(".db-backup-meta"));
    expect(stored).toEqual(["supabase/daily/" + id + ".manifest.json", "supabase/daily/" + id + ".sql.gz", "supabase/latest.json", "supabase/runs/" + id + ".json"]);
    const restored = await runCli(["restore", id, "--target", env.SUPABASE_DB_URL!.replace(source, target), "--target-env", "test"], env);
    expect(restored.code).toBe(0);
    expect(await dataFingerprint(target, ["pmoves_core", "archon"])).toEqual(await dataFingerprint(source, ["pmoves_core", "archon"]));
  });

  it("leaves no partial file when the dump fails", async () => {
    const before = await files(dir);
    const result = await runCli(["create", "--table", "nope.nope"], env);
    expect(result.code).not.toBe(0);
    const after = (await files(dir)).filter((f) => !before.includes(f));
    expect(after.every((f) => f.endsWith(".manifest.json") || f.startsWith(".db-backup-meta"))).toBe(true);
    expect(after.some((f) => f.includes(".partial-"))).toBe(false);
  });

  it("reads a backup an older db-backup wrote (manifest schema 1) without trusting the verification it claims; a drill proves it again", async () => {
    const made = await runCli(["create", "--json"], env);
    expect(made.code, made.stderr).toBe(0);
    const manifest = JSON.parse(made.stdout) as Record<string, unknown> & { id: string; type: string };
    const key = path.join(dir, "supabase", manifest.type, `${manifest.id}.manifest.json`);
    const { dumpVersionId: _none, notification: _n, ...older } = manifest;
    const claimed = { verifiedAt: new Date().toISOString(), durationMs: 1, tables: 1, rows: 1, server: "nowhere:5432" };
    await fs.writeFile(key, JSON.stringify({ ...older, schemaVersion: 1, verification: claimed }, null, 2));
    await fs.rm(path.join(dir, "supabase", "runs", `${manifest.id}.json`));

    const listed = JSON.parse((await runCli(["list", "--json"], env)).stdout) as { id: string; status: string; verified: boolean }[];
    expect(listed.find((e) => e.id === manifest.id)).toMatchObject({ status: "Completed", verified: false });
    const status = await runCli(["status"], env);
    expect(status.stdout).toMatch(/were written by an older db-backup, which rewrote manifests in place/);
    const restored = await runCli(["restore", manifest.id, "--target", env.SUPABASE_DB_URL!.replace(source, target), "--target-env", "test", "--clean"], env);
    expect(restored.code).toBe(3); // --clean needs a verified backup: the claim in the manifest does not count
    expectOneLineError(restored, /has not passed verification/);
    const drill = await runCli(["verify", manifest.id, "--allow-source-server"], { ...env, VERIFY_DB_URL: env.SUPABASE_DB_URL! });
    expect(drill.code, drill.stderr).toBe(0);
    const after = JSON.parse((await runCli(["list", "--json"], env)).stdout) as { id: string; verified: boolean }[];
    expect(after.find((e) => e.id === manifest.id)).toMatchObject({ verified: true });
  });
});
