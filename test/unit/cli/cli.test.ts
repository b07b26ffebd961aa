import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../../job/cli";
import { Collector } from "../../helpers/collector";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const stdout = new Collector();
  const stderr = new Collector();
  const code = await main(argv, env, { stdout, stderr, clock: () => new Date("2025-06-07T12:00:00Z") });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "db-backup-unit-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A BACKUP_DIR path that does not exist yet: if it exists afterwards, the command did I/O. */
function untouchedDir(name: string): string {
  return path.join(tmp, name, "repo");
}

function oneLine(text: string): void {
  expect(text.trim().length).toBeGreaterThan(0);
  expect(text.trim().split("\n")).toHaveLength(1);
}

describe("--help", () => {
  it("exits 0 and shows the seed's examples", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("db-backup list");
    expect(r.stdout).toContain("db-backup create");
    expect(r.stdout).toContain("db-backup status");
    expect(r.stdout).toContain("db-backup restore backup_20250607_120000");
    for (const action of ["create", "list", "restore", "status", "download"]) expect(r.stdout).toContain(action);
  });

  it("names the environment variables", async () => {
    const r = await run(["--help"]);
    for (const name of ["SUPABASE_DB_URL", "MINIO_ENDPOINT", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "BACKUP_DIR"]) expect(r.stdout).toContain(name);
  });

  it.each([
    ["create", /db-backup create/],
    ["list", /db-backup list/],
    ["status", /db-backup status/],
    ["download", /db-backup download backup_20250607_120000/],
    ["restore", /db-backup restore backup_20250607_120000 --target staging/],
  ])("exits 0 for `%s --help` with its examples", async (action, example) => {
    const r = await run([action, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(example);
  });

  it("create --help lists the Supabase-managed schemas left out by default and the seed's options", async () => {
    const r = await run(["create", "--help"]);
    for (const s of ["auth", "storage", "realtime", "extensions", "graphql", "vault"]) expect(r.stdout).toMatch(new RegExp(`\\b${s}\\b`));
    for (const flag of ["--schema", "--table", "--schema-only", "--data-only", "--no-acl", "--format", "--type"]) expect(r.stdout).toContain(flag);
  });
});

describe("bad arguments", () => {
  it("an unknown flag exits 2 with a one-line error naming it", async () => {
    const r = await run(["list", "--frobnicate"], { BACKUP_DIR: untouchedDir("flag") });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain("--frobnicate");
    expect(r.stdout).toBe("");
    expect(existsSync(untouchedDir("flag"))).toBe(false);
  });

  it("an unknown flag close to a known one suggests it", async () => {
    const r = await run(["list", "--jsn"], { BACKUP_DIR: untouchedDir("jsn") });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/Did you mean --json\?/);
  });

  it("an unknown global flag close to a known one suggests it", async () => {
    const r = await run(["--backup-dri", "/x", "list"]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/Did you mean --backup-dir\?/);
  });

  it("an unknown action exits 2 with a one-line error", async () => {
    const r = await run(["frobnicate"], { BACKUP_DIR: untouchedDir("action") });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(existsSync(untouchedDir("action"))).toBe(false);
  });

  it("the error for an unknown action names it", async () => {
    const r = await run(["frobnicate"], { BACKUP_DIR: untouchedDir("action2") });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("frobnicate");
  });

  it("an unknown action close to a known one suggests it", async () => {
    const r = await run(["creat"], { BACKUP_DIR: untouchedDir("creat") });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Did you mean create\?/);
  });

  it("an invalid --type choice exits 2", async () => {
    const r = await run(["create", "--type", "hourly"], { SUPABASE_DB_URL: "postgres://u@127.0.0.1:1/db", BACKUP_DIR: untouchedDir("type") });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain("hourly");
    expect(existsSync(untouchedDir("type"))).toBe(false);
  });
});

describe("configuration errors", () => {
  it("list with neither MINIO_ENDPOINT nor BACKUP_DIR exits 2 naming both", async () => {
    const r = await run(["list"]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain("MINIO_ENDPOINT");
    expect(r.stderr).toContain("BACKUP_DIR");
    expect(r.stdout).toBe("");
  });

  it("the default action is list, with the same refusal", async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("MINIO_ENDPOINT");
    expect(r.stderr).toContain("BACKUP_DIR");
  });

  it("status with an endpoint but no access key exits 2 naming MINIO_ACCESS_KEY", async () => {
    const r = await run(["status"], { MINIO_ENDPOINT: "http://127.0.0.1:1", MINIO_SECRET_KEY: "s3cret-value" });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain("MINIO_ACCESS_KEY");
    expect(r.stderr).not.toContain("s3cret-value");
  });

  it("create without SUPABASE_DB_URL exits 2 naming it, before touching the repository", async () => {
    const dir = untouchedDir("create");
    const r = await run(["create"], { BACKUP_DIR: dir });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain("SUPABASE_DB_URL");
    expect(existsSync(dir)).toBe(false);
  });

  it("create with a malformed SUPABASE_DB_URL exits 2 naming it without echoing the password", async () => {
    const r = await run(["create"], { BACKUP_DIR: untouchedDir("create2"), SUPABASE_DB_URL: "mysql://root:leakedpw@db/app" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SUPABASE_DB_URL");
    expect(r.stderr).not.toContain("leakedpw");
  });
});

describe("restore id checks come before any I/O", () => {
  it.each(["../etc/passwd", "..", "a/b", "daily/backup_20250607_120000", "a\\b", "bad id", "x\ny"])(
    "restore %j exits 2 with a one-line error and touches nothing",
    async (id) => {
      const dir = untouchedDir(`restore-${Buffer.from(id).toString("hex")}`);
      const r = await run(["restore", id, "--target", "staging"], { BACKUP_DIR: dir, STAGING_DB_URL: "postgres://u@127.0.0.1:1/db" });
      expect(r.code).toBe(2);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(/backup id/);
      expect(existsSync(dir)).toBe(false);
    },
  );

  it("refuses a bad id even with no repository configured (the id is checked first)", async () => {
    const r = await run(["restore", "../x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\.\.|separator/);
    expect(r.stderr).not.toContain("MINIO_ENDPOINT");
  });

  it("refuses a bad id before contacting an S3 endpoint (an unreachable one would fail with 1)", async () => {
    const r = await run(["restore", "a/b", "--target", "postgres://u@127.0.0.1:1/db"], {
      MINIO_ENDPOINT: "http://127.0.0.1:1",
      MINIO_ACCESS_KEY: "a",
      MINIO_SECRET_KEY: "b",
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/separator/);
  });

  it("download checks the id the same way", async () => {
    const dir = untouchedDir("download");
    const r = await run(["download", "../secret"], { BACKUP_DIR: dir });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(existsSync(dir)).toBe(false);
  });
});

describe("an empty local repository", () => {
  it("list prints 'No backups yet' and exits 0", async () => {
    const dir = path.join(tmp, "empty-list");
    const r = await run(["list"], { BACKUP_DIR: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/No backups yet/);
  });

  it("the default action lists too", async () => {
    const r = await run([], { BACKUP_DIR: path.join(tmp, "empty-default") });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/No backups yet/);
  });

  it("--backup-dir works without the environment", async () => {
    const r = await run(["--backup-dir", path.join(tmp, "empty-flag"), "list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/No backups yet/);
  });

  it("list --json prints an empty array", async () => {
    const r = await run(["list", "--json"], { BACKUP_DIR: path.join(tmp, "empty-json") });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it("status exits non-zero when there is no successful backup", async () => {
    const r = await run(["status"], { BACKUP_DIR: path.join(tmp, "empty-status") });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain("## Backup Status");
  });

  it("restore of an unknown (well-formed) id exits 2 naming it", async () => {
    const r = await run(["restore", "backup_20990101_000000", "--target", "postgres://u@127.0.0.1:1/db"], { BACKUP_DIR: path.join(tmp, "empty-restore") });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("backup_20990101_000000");
  });
});
