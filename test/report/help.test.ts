// The command teaches, through the real bundle: `--help` shows the seed's examples, every action's
// help has examples that use only flags it has, a mistyped flag or action gets the nearest one, and
// the README's one exit-code table is catalog.ts's EXIT_CODES, each code reached by a real failure.
import { promises as fs, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../job/core/catalog";
import { ROOT, baseEnv, runCli } from "../helpers/cli";
import { createDatabase, dropDatabase, loadFixture, uniqueName } from "../helpers/pg";
import { section, shellWords } from "../helpers/readme-runbooks";
import { requireServices } from "../helpers/services";

const README = readFileSync(path.join(ROOT, "README.md"), "utf8");

function between(text: string, start: string): string {
  const at = text.indexOf(start);
  return at < 0 ? "" : text.slice(at + start.length).split(/\n\n/)[0]!;
}

const longFlags = (help: string) => new Set([...between(help, "\nOptions:\n").matchAll(/^\s+(?:-\w, )?(--[a-z0-9][a-z0-9-]*)/gm)].map((m) => m[1]!));

let mainHelp: string;
let actions: string[];

beforeAll(async () => {
  const r = await runCli(["--help"], baseEnv());
  expect(r.code).toBe(0);
  mainHelp = r.stdout;
  actions = [...between(mainHelp, "\nCommands:\n").matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((a) => a !== "help");
});

describe("db-backup --help", () => {
  it("shows the seed's Example section as db-backup commands", () => {
    // The seed: /db:backup list, create, status, restore backup_20250607_120000 (staging only).
    expect(mainHelp).toMatch(/^ {2}db-backup list\b.*# list all backups$/m);
    expect(mainHelp).toMatch(/^ {2}db-backup create\b.*# create a manual backup$/m);
    expect(mainHelp).toMatch(/^ {2}db-backup status\b.*# check backup status$/m);
    expect(mainHelp).toMatch(/^ {2}db-backup restore backup_20250607_120000 --target staging\b.*# restore \(staging only\)$/m);
    expect(actions).toEqual(expect.arrayContaining(["create", "list", "status", "download", "restore"]));
  });

  it("every action's --help has examples, and they use only that action's flags", async () => {
    const globals = longFlags(mainHelp);
    for (const action of actions) {
      const r = await runCli([action, "--help"], baseEnv());
      expect(r.code, `${action} --help`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: db-backup ${action}\\b`));
      const examples = between(r.stdout, "\nExamples:\n").split("\n").filter((l) => l.trim().startsWith("db-backup "));
      expect(examples.length, `${action} --help shows examples`).toBeGreaterThan(0);
      const flags = longFlags(r.stdout);
      for (const line of examples) {
        const words = shellWords(line.split(" | ")[0]!.replace(/\s+#.*$/, ""));
        expect(words[1], line).toBe(action);
        for (const flag of words.filter((w) => w.startsWith("--")).map((w) => w.split("=")[0]!)) {
          expect(flags.has(flag) || globals.has(flag), `${line}: ${flag} is not an option of ${action}`).toBe(true);
        }
      }
    }
  });
});

describe("mistakes get the nearest name", () => {
  it("a mistyped flag of each action suggests the flag, exit 2, one line", async () => {
    for (const action of actions) {
      const help = (await runCli([action, "--help"], baseEnv())).stdout;
      const flag = [...longFlags(help)].find((f) => f !== "--help" && f.length > 6);
      if (!flag) continue;
      const typo = flag.slice(0, -2) + flag.slice(-1); // --dry-run → --dry-rn
      const r = await runCli([action, typo], baseEnv({ BACKUP_DIR: path.join(os.tmpdir(), "dbb-never-created") }));
      expect(r.code, `${action} ${typo}`).toBe(EXIT_CODES.usage);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr, `${action} ${typo}`).toContain(`Did you mean ${flag}?`);
    }
  });

  it("a mistyped global flag and a mistyped action suggest the right one", async () => {
    const global = await runCli(["--backup-dri", "/tmp/x", "list"], baseEnv());
    expect(global.code).toBe(EXIT_CODES.usage);
    expect(global.stderr).toContain("Did you mean --backup-dir?");
    const action = await runCli(["restor", "backup_20250607_120000"], baseEnv());
    expect(action.code).toBe(EXIT_CODES.usage);
    expect(action.stderr).toContain("Did you mean restore?");
  });
});

describe("exit codes", () => {
  const table = () => {
    const exit = section(README, "The command");
    const text = exit.slice(exit.indexOf("### Exit codes"));
    return [...text.matchAll(/^\| (\d) \| ([^|]+) \|$/gm)].map((m) => ({ code: Number(m[1]), meaning: m[2]!.trim() }));
  };

  it("the README documents them in one table, which is EXIT_CODES", () => {
    expect(README.match(/^\| code \| meaning \|$/gm)).toHaveLength(1);
    const rows = table();
    expect(rows.map((r) => r.code)).toEqual(Object.values(EXIT_CODES));
    const words: Record<keyof typeof EXIT_CODES, RegExp> = { ok: /success/, failed: /failed/, usage: /usage/, refused: /refused/, integrity: /integrity/, unhealthy: /unhealthy/ };
    for (const [name, code] of Object.entries(EXIT_CODES) as [keyof typeof EXIT_CODES, number][]) {
      expect(rows.find((r) => r.code === code)!.meaning).toMatch(words[name]);
    }
  });

  describe("each code is what a real case returns", () => {
    const source = uniqueName("dbb_exit_src");
    const target = uniqueName("dbb_exit_tgt");
    let dir: string;
    let env: Record<string, string>;
    let id: string;

    beforeAll(async () => {
      await requireServices("postgres");
      dir = await fs.mkdtemp(path.join(os.tmpdir(), "dbb-exit-"));
      env = baseEnv({ SUPABASE_DB_URL: await createDatabase(source), BACKUP_DIR: dir, PRODUCTION_DB_URL: await createDatabase(target) });
      loadFixture(source);
    });
    afterAll(async () => {
      await dropDatabase(source);
      await dropDatabase(target);
      if (dir) await fs.rm(dir, { recursive: true, force: true });
    });

    it("5 unhealthy: status with no backup", async () => {
      const r = await runCli(["status"], env);
      expect(r.code).toBe(EXIT_CODES.unhealthy);
      expect(r.stdout).toContain("There is no successful backup.");
    });

    it("0 success: create, then status", async () => {
      const made = await runCli(["create", "--json"], env);
      expect(made.code, made.stderr).toBe(EXIT_CODES.ok);
      id = (JSON.parse(made.stdout) as { id: string }).id;
      expect((await runCli(["status"], env)).code).toBe(EXIT_CODES.ok);
    });

    it("2 bad usage: an unknown backup id", async () => {
      const r = await runCli(["restore", "backup_19990101_000000", "--target", "production"], env);
      expect(r.code).toBe(EXIT_CODES.usage);
      expect(r.stderr).toContain("db-backup list");
    });

    it("3 refused: a production restore without approval, naming the flags that allow it", async () => {
      const r = await runCli(["restore", id, "--target", "production"], env);
      expect(r.code).toBe(EXIT_CODES.refused);
      expect(r.stderr).toContain("--approved-by");
    });

    it("4 integrity: a manifest that does not parse", async () => {
      const manifest = path.join(dir, "supabase", "manual", `${id}.manifest.json`);
      await fs.writeFile(manifest, "{ not json");
      const r = await runCli(["restore", id, "--target", "production", "--approved-by", "x", "--confirm", id], env);
      expect(r.code).toBe(EXIT_CODES.integrity);
    });

    it("1 failed: the store cannot be reached (retrying may help)", async () => {
      const r = await runCli(["list"], baseEnv({ MINIO_ENDPOINT: "http://127.0.0.1:9", MINIO_ACCESS_KEY: "a", MINIO_SECRET_KEY: "b" }), { timeoutMs: 60_000 });
      expect(r.code).toBe(EXIT_CODES.failed);
    });
  });
});
