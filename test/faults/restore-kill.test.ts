// Killing the job, alone, in the middle of a restore of a ≥ 300 MB dump: SIGTERM, SIGINT or SIGKILL
// to the node process only (as a Kubernetes deadline, an eviction or an OOM kill would), early,
// in the middle of the data and late (building indexes), plain and custom format, into an empty
// target and with --clean over old data. Whatever the moment: nothing is committed (the target is
// exactly as before), no child process of the job survives, the exit code is not 0, and what the
// run left (a downloaded archive) is gone by the next run. The same for the restore drill: its
// scratch database is dropped, by the run itself or by the next drill.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupManifest } from "../../job/inventory/manifest";
import { createBackup, verifyBackup } from "../helpers/backups";
import { jobEnv, runCli, startCli, type RunningCli } from "../helpers/cli";
import { database, dropDatabase, sql } from "../helpers/pg";
import { descendants, signal, waitFor } from "../helpers/processes";
import { makeBucket, removeBucket, uniqueBucket } from "../helpers/s3";
import { dbSnapshot } from "../helpers/snapshots";
import { requireServices, services } from "../helpers/services";

/** Rows of ~115 bytes in the dump: 2.8 M of them make a plain dump over 300 MiB. */
const BULK_ROWS = 2_800_000;

const bucket = uniqueBucket("dbb-kill");
const created: string[] = [];
let env: Record<string, string>;
let plain: BackupManifest;
let custom: BackupManifest;
let small: BackupManifest;

beforeAll(async () => {
  await requireServices("postgres", "s3");
  await makeBucket(bucket);
  const source = await database(created, "dbb_kill_src", { fixture: true });
  await sql(
    source.name,
    `CREATE SCHEMA bulk;
     CREATE TABLE bulk.rows (id bigint PRIMARY KEY, a text NOT NULL, b text NOT NULL);
     INSERT INTO bulk.rows SELECT g, md5(g::text) || md5((g * 7)::text), repeat('x', 40) FROM generate_series(1, ${BULK_ROWS}) g;
     CREATE INDEX rows_a ON bulk.rows (a);
     SELECT lo_from_bytea(0, convert_to(repeat('large object ', 1000), 'UTF8'));`,
  );
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl, NATS_URL: undefined });
  plain = await createBackup(env);
  expect(plain.sizes.dumped).toBeGreaterThan(300 * 1024 * 1024);
  custom = await createBackup(env, ["--format", "custom"]);
  // --clean needs a verified backup: both are proven once, in full.
  for (const m of [plain, custom]) {
    const drill = await verifyBackup(env, m.id);
    expect(drill.code, drill.stderr).toBe(0);
  }
  const tiny = await database(created, "dbb_kill_small", { fixture: true });
  small = await createBackup(jobEnv(tiny.url, bucket, { NATS_URL: undefined }));
}, 600_000);

afterAll(async () => {
  for (const name of created) await dropDatabase(name).catch(() => undefined);
  for (const name of (await sql<{ datname: string }>("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'dbbackup\\_verify\\_%'")).map((r) => r.datname)) {
    await dropDatabase(name).catch(() => undefined);
  }
  await removeBucket(bucket);
});

type When = "early" | "mid" | "late";

/** The job's own session on `database` (application_name db-backup), once it does what `when` says. */
async function waitForMoment(run: RunningCli, database: string, when: When): Promise<void> {
  await waitFor(
    `the restore into ${database} to be ${when}`,
    async () => {
      if (run.child.exitCode !== null) throw new Error(`the job exited (${run.child.exitCode}) before the moment came`);
      const rows = await sql<{ query: string; copied: string | null; writing: boolean }>(
        "postgres",
        `SELECT a.query, p.tuples_processed::text AS copied, a.backend_xid IS NOT NULL AS writing FROM pg_stat_activity a LEFT JOIN pg_stat_progress_copy p ON p.pid = a.pid
          WHERE a.datname = $1 AND a.application_name = 'db-backup' AND a.state = 'active'`,
        [database],
      );
      // Early: the restore's transaction has written (schemas, the fixture's tables) but the bulk
      // of the data has not started.
      // Statements come with the dump's comments before them.
      const is = (r: { query: string }, re: RegExp) => new RegExp(`^(\\s|--[^\\n]*\\n)*${re.source}`).test(r.query);
      if (when === "early") return rows.some((r) => r.writing && !is(r, /COPY bulk\.rows/));
      if (when === "mid") return rows.some((r) => is(r, /COPY bulk\.rows/) && Number(r.copied) > 300_000);
      return rows.some((r) => is(r, /(ALTER TABLE ONLY bulk\.rows|CREATE INDEX rows_a)/));
    },
    120_000,
    20,
  );
}

/** A process is gone when it no longer exists or is a zombie (killed, not reaped). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

const ownDownloads = (pid: number) => readdirSync(os.tmpdir()).filter((n) => n.startsWith(`db-backup-${pid}-`));

interface Case {
  format: "plain" | "custom";
  sig: NodeJS.Signals;
  when: When;
  clean: boolean;
}

const cases: Case[] = [];
for (const format of ["plain", "custom"] as const) {
  cases.push(
    { format, sig: "SIGTERM", when: "mid", clean: false },
    { format, sig: "SIGINT", when: "early", clean: true },
    { format, sig: "SIGKILL", when: "mid", clean: true },
    { format, sig: "SIGTERM", when: "late", clean: true },
    { format, sig: "SIGKILL", when: "late", clean: false },
    { format, sig: "SIGINT", when: "mid", clean: false },
  );
}

describe("the job killed alone in the middle of a restore", () => {
  it.each(cases)("$format, $sig, $when, clean=$clean: nothing committed, no child left, not 0", async (c) => {
    const m = c.format === "plain" ? plain : custom;
    // Old data under --clean: the restore would replace it; an empty target otherwise.
    const target = c.clean
      ? await database(created, "dbb_kill_old", { sql: "CREATE SCHEMA bulk; CREATE TABLE bulk.rows (id bigint PRIMARY KEY, a text, b text); INSERT INTO bulk.rows VALUES (1, 'old', 'data'); CREATE SCHEMA pmoves_core; CREATE TABLE pmoves_core.kept (x int); INSERT INTO pmoves_core.kept VALUES (42);" })
      : await database(created, "dbb_kill_empty");
    const before = await dbSnapshot(target.name);
    const args = ["restore", m.id, "--target", target.url, "--target-env", "test", ...(c.clean ? ["--clean"] : [])];
    const run = startCli(args, env, { timeoutMs: 180_000 });
    await waitForMoment(run, target.name, c.when);
    const children = descendants(run.pid);
    signal(run.pid, c.sig);
    const result = await run.done;

    if (c.sig === "SIGKILL") expect(result.signal).toBe("SIGKILL");
    else {
      expect(result.code, result.stderr).toBe(c.sig === "SIGTERM" ? 143 : 130);
      expect(result.stderr).toContain(`${c.sig} received`);
      expect(result.stderr.split("\n").filter((l) => l.startsWith("error:"))).toHaveLength(1);
    }
    // No child survives its job (pg_restore for custom archives dies by its parent-death signal).
    await waitFor("the job's children to be gone", () => children.every((p) => !alive(p)), 10_000, 50);
    // The server ends the session the job left: nothing of it stays, nothing was committed.
    await waitFor(
      "the job's session on the target to end",
      async () => (await sql("postgres", "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = 'db-backup'", [target.name])).length === 0,
      15_000,
      50,
    );
    expect(await dbSnapshot(target.name)).toEqual(before);
    // A download the run made is gone: by the run itself, or (SIGKILL) by the next run.
    if (c.sig !== "SIGKILL") expect(ownDownloads(run.pid)).toEqual([]);
    else if (c.format === "custom") {
      expect(ownDownloads(run.pid).length).toBe(1);
      const next = await runCli(["restore", custom.id, "--target", target.url, "--target-env", "test", "--dry-run"], env);
      expect([0, 3]).toContain(next.code);
      expect(ownDownloads(run.pid)).toEqual([]);
    }
    await dropDatabase(target.name);
  });
});

describe("the drill killed in the middle of its scratch restore", () => {
  async function scratchDatabases(): Promise<string[]> {
    return (await sql<{ datname: string }>("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'dbbackup\\_verify\\_%'")).map((r) => r.datname);
  }
  /** The scratch database this drill says it restores into. */
  function scratchOf(run: RunningCli): Promise<string> {
    let said = "";
    run.child.stderr!.on("data", (c: Buffer) => (said += c.toString()));
    return waitFor("the drill to name its scratch database", () => /scratch database (dbbackup_verify_\w+)/.exec(said)?.[1], 60_000, 20);
  }

  it("SIGTERM: the drill drops its scratch database itself, exits 143 and records nothing", async () => {
    const run = startCli(["verify", plain.id, "--allow-source-server"], env, { timeoutMs: 180_000 });
    const scratch = await scratchOf(run);
    await waitForMoment(run, scratch, "mid");
    signal(run.pid, "SIGTERM");
    const result = await run.done;
    expect(result.code, result.stderr).toBe(143);
    expect(await scratchDatabases()).not.toContain(scratch);
  });

  it("SIGKILL: the scratch database (with the customer's rows) is dropped by the next drill", async () => {
    const run = startCli(["verify", plain.id, "--allow-source-server"], env, { timeoutMs: 180_000 });
    const scratch = await scratchOf(run);
    await waitForMoment(run, scratch, "mid");
    signal(run.pid, "SIGKILL");
    expect((await run.done).signal).toBe("SIGKILL");
    // The leftover is still there: nobody cleaned up for the killed run...
    await waitFor("the killed drill's session to end", async () => (await sql("postgres", "SELECT 1 FROM pg_stat_activity WHERE datname = $1", [scratch])).length === 0, 15_000, 50);
    expect(await scratchDatabases()).toContain(scratch);
    // ...until the next drill, which drops it before it starts its own.
    const next = await runCli(["verify", small.id, "--allow-source-server"], env);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain(`dropped scratch database(s) left by drills that died: ${scratch}`);
    expect(await scratchDatabases()).toEqual([]);
  });
});

describe("the job killed in the middle of a download", () => {
  const partials = (dir: string) => readdirSync(dir).filter((n) => n.includes(".partial-"));

  it("SIGTERM removes the partial file; after SIGKILL the next download to the same file does", async () => {
    const dir = await import("node:fs/promises").then((fs) => fs.mkdtemp(path.join(os.tmpdir(), "dbb-dl-")));
    const file = path.join(dir, "backup.sql.gz");
    for (const sig of ["SIGTERM", "SIGKILL"] as const) {
      const run = startCli(["download", plain.id, file], env, { timeoutMs: 120_000 });
      await waitFor("the partial download", () => partials(dir).length > 0, 60_000, 10);
      signal(run.pid, sig);
      const result = await run.done;
      if (sig === "SIGTERM") {
        expect(result.code).toBe(143);
        expect(partials(dir)).toEqual([]);
      } else expect(partials(dir)).toHaveLength(1);
    }
    const done = await runCli(["download", small.id, file], env);
    expect(done.code, done.stderr).toBe(0);
    expect(partials(dir)).toEqual([]);
    expect(existsSync(file)).toBe(true);
  });
});
