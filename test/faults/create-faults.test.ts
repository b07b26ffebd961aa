// A backup whose world breaks under it: the S3 server killed mid-upload (and restarted), pg_dump
// killed mid-dump, the source terminating the job's connections, two runs of the same type at
// once and a run killed outright. Each failure exits non-zero with one line, publishes a failed
// event, leaves no dump, no `latest.json` move, no manifest claiming success, no multipart upload
// (the next run cleans what a dead store kept), and the earlier backups byte for byte.
import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackupManifestSchema } from "../../job/inventory/manifest";
import { expectFailedCreateLeftNothing, expectFailure } from "../helpers/assertions";
import { manifests } from "../helpers/backups";
import { jobEnv, runCli, startCli, type RunningCli } from "../helpers/cli";
import { freePort, startRgwExtra, stopRgwExtra } from "../helpers/fault-servers";
import { subscribeEvents } from "../helpers/nats";
import { createDatabase, dbUrl, dropDatabase, sql, uniqueName } from "../helpers/pg";
import { descendants, killTree, signal, waitFor, waitForChild, writtenBytes } from "../helpers/processes";
import { getObject, incompleteUploads, makeBucket, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { bucketDigests } from "../helpers/snapshots";

const source = uniqueName("dbb_fault_create");
const bucket = uniqueBucket("dbb-fault-create");
let rgwPort = 0;
let rgwPid = 0;
let env: Record<string, string>;
/** The same, through the main gateway (for the cases that do not stop the S3 server). */
let mainEnv: Record<string, string>;
let events: Awaited<ReturnType<typeof subscribeEvents>>;
const running: RunningCli[] = [];

beforeAll(async () => {
  await requireServices("postgres", "s3", "nats");
  await createDatabase(source);
  // ~48 MB of hex (about 23 MB gzip'd): with 5 MiB parts an upload has several parts to cut into.
  await sql(source, `CREATE SCHEMA app;
    CREATE TABLE app.small (id int PRIMARY KEY, v text); INSERT INTO app.small SELECT g, 'row ' || g FROM generate_series(1, 100) g;
    CREATE TABLE app.other (id int PRIMARY KEY); INSERT INTO app.other SELECT generate_series(1, 10);
    CREATE TABLE app.big AS SELECT g AS id, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) AS a FROM generate_series(1, 300000) g`);
  await makeBucket(bucket);
  rgwPort = await freePort();
  rgwPid = startRgwExtra(rgwPort);
  events = await subscribeEvents();
  env = jobEnv(dbUrl(source), bucket, { MINIO_ENDPOINT: `http://127.0.0.1:${rgwPort}`, BACKUP_PART_SIZE_MB: "5" });
  mainEnv = { ...env, MINIO_ENDPOINT: services.s3Endpoint };
  // The backups that every failure below must leave alone (latest among them).
  const first = await runCli(["create", "--json"], env);
  expect(first.code, first.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  for (const r of running) killTree(r.pid);
  await events?.close();
  if (rgwPort) stopRgwExtra(rgwPort);
  await dropDatabase(source);
  await removeBucket(bucket);
});

function failedEventFor(pred: (data: Record<string, unknown>) => boolean) {
  return events.waitFor((e) => e.subject === "backup.database.failed.v1" && pred(e.data), 10_000);
}

describe("the S3 server", () => {
  it("killed in the middle of a multipart upload: the run fails cleanly, and the next run (S3 back) cleans up and succeeds", async () => {
    const before = await bucketDigests(bucket);
    const run = startCli(["create"], env);
    running.push(run);
    // As soon as the dump's multipart upload exists, freeze the job, kill the gateway, let it go on.
    const upload = await waitFor("the multipart upload to start", async () => (await incompleteUploads(bucket))[0], 60_000, 20);
    signal(run.pid, "SIGSTOP");
    signal(rgwPid, "SIGKILL");
    await waitFor("the gateway to die", () => !isAlive(rgwPid), 10_000);
    signal(run.pid, "SIGCONT");
    const result = await run.done;

    expect(result.code).toBe(1);
    const line = expectFailure(result, /S3 upload of supabase\/manual\/backup_\S+ failed: .*(ECONNREFUSED|ECONNRESET|socket hang up|connection refused|EPIPE)/i);
    expect(line).not.toContain(services.s3SecretKey);
    const id = /backup_\d{8}_\d{6}(_\d+)?/.exec(upload)![0];
    const event = await failedEventFor((d) => d.id === id);
    expect(event.data.reason).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up|connection refused|EPIPE/i);

    // The store was dead: the abort could not reach it and no manifest could be written, so only
    // the run marker says the id was taken. Nothing claims success and nothing moved; the upload
    // is what the next run must clean.
    const afterFailure = await expectFailedCreateLeftNothing(bucket, before, { allowRunning: true, uploadsLeft: true });
    expect(afterFailure).toEqual([{ id, status: "running" }]);
    expect((await incompleteUploads(bucket)).length).toBe(1);

    rgwPid = startRgwExtra(rgwPort);
    const next = await runCli(["create", "--json"], env);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/aborted 1 incomplete upload\(s\) left by earlier runs/);
    expect(next.stderr).toMatch(new RegExp(`marked ${id} as failed`));
    expect(await incompleteUploads(bucket)).toEqual([]);
    const all = await manifests(bucket);
    expect(all.find((m) => m.id === id)).toMatchObject({ status: "failed", error: expect.stringMatching(/run stopped before finishing/) });
    const made = BackupManifestSchema.parse(JSON.parse(next.stdout));
    expect(JSON.parse((await getObject(bucket, "supabase/latest.json")).toString()).id).toBe(made.id);
    const now = await bucketDigests(bucket);
    for (const [key, sha] of Object.entries(before)) if (key !== "supabase/latest.json") expect(now[key]).toBe(sha);
  });

  it("unreachable when the run starts: refused before anything is dumped, with a failed event", async () => {
    const before = await bucketDigests(bucket);
    const port = await freePort();
    const result = await runCli(["create"], { ...env, MINIO_ENDPOINT: `http://127.0.0.1:${port}` });
    expect(result.code).toBe(1);
    expectFailure(result, /cannot reach S3 bucket .*connection refused/);
    await failedEventFor((d) => d.id === null && String(d.reason).includes(`127.0.0.1:${port}`));
    expect(await bucketDigests(bucket)).toEqual(before);
  });
});

describe("the source", () => {
  it("pg_dump killed mid-dump: no dump, a failed manifest, the upload aborted", async () => {
    const before = await bucketDigests(bucket);
    const run = startCli(["create"], mainEnv);
    running.push(run);
    const dumper = await waitForChild(run, "pg_dump", "--dbname");
    await waitFor("pg_dump to write 12 MB", () => writtenBytes(dumper) > 12 * 1024 * 1024, 60_000, 5);
    signal(dumper, "SIGKILL");
    const result = await run.done;
    expect(result.code).toBe(1);
    expectFailure(result, /pg_dump failed \(killed by SIGKILL\)/);
    const [failed] = await expectFailedCreateLeftNothing(bucket, before);
    expect(failed).toMatchObject({ status: "failed", manifest: { error: expect.stringMatching(/pg_dump failed/) } });
    await failedEventFor((d) => d.id === failed!.id);
  });

  it("the source terminating the job's connections mid-dump: the run fails and leaves nothing", async () => {
    const before = await bucketDigests(bucket);
    const run = startCli(["create"], mainEnv);
    running.push(run);
    const dumper = await waitForChild(run, "pg_dump", "--dbname");
    await waitFor("pg_dump to write 8 MB", () => writtenBytes(dumper) > 8 * 1024 * 1024, 60_000, 5);
    signal(dumper, "SIGSTOP"); // so the server is still sending when its backend is terminated
    const killed = await sql<{ n: string }>("postgres", "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'db-backup'", [source]);
    expect(Number(killed[0]!.n)).toBeGreaterThanOrEqual(2); // pg_dump's and the lock's
    signal(dumper, "SIGCONT");
    const result = await run.done;
    expect(result.code).toBe(1);
    expectFailure(result, /pg_dump failed.*(terminating connection|server closed the connection|connection to server was lost|administrator command)/i);
    const [failed] = await expectFailedCreateLeftNothing(bucket, before);
    await failedEventFor((d) => d.id === failed!.id);
  });
});

describe("two runs of the same type", () => {
  it("the second is refused clearly while the first holds the lock; a killed run does not keep it", async () => {
    const before = await bucketDigests(bucket);
    // Hold a table lock so the first run's pg_dump waits (with the run's advisory lock held).
    const blocker = new pg.Client({ connectionString: dbUrl(source) });
    await blocker.connect();
    try {
      await blocker.query("BEGIN; LOCK TABLE app.small IN ACCESS EXCLUSIVE MODE");
      const first = startCli(["create", "--type", "daily"], mainEnv);
      running.push(first);
      const dumper = await waitForChild(first, "pg_dump", "--dbname");

      const second = await runCli(["create", "--type", "daily"], mainEnv);
      expect(second.code).toBe(3);
      expectFailure(second, /another `db-backup create --type daily` is running against .*: wait for it to finish/);
      // Another type is not blocked by it (ids stay unique through the allocation lock).
      const monthly = await runCli(["create", "--type", "monthly", "--table", "app.other"], mainEnv);
      expect(monthly.code, monthly.stderr).toBe(0);

      // The first run dies without a word (SIGKILL, as an OOM kill or a lost node would).
      const pids = [first.pid, ...descendants(first.pid)];
      for (const p of pids.reverse()) signal(p, "SIGKILL");
      await first.done;
      void dumper;
      await waitFor("the dead run's advisory lock to be released", async () => {
        const rows = await sql<{ n: string }>(source, "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = hashtext('daily')::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
        return rows[0]!.n === "0";
      }, 10_000, 50);
    } finally {
      await blocker.query("ROLLBACK").catch(() => undefined);
      await blocker.end();
    }

    const third = await runCli(["create", "--type", "daily", "--json"], mainEnv);
    expect(third.code, third.stderr).toBe(0);
    const made = BackupManifestSchema.parse(JSON.parse(third.stdout));
    const daily = (await manifests(bucket)).filter((m) => m.type === "daily");
    // The refused run left nothing; the killed one is marked failed by the next run; one completed.
    expect(daily.map((m) => m.status).sort()).toEqual(["completed", "failed"]);
    expect(daily.find((m) => m.status === "completed")!.id).toBe(made.id);
    expect(daily.find((m) => m.status === "failed")!.error).toMatch(/run stopped before finishing.*found by/);
    expect(await incompleteUploads(bucket)).toEqual([]);
    const after = await bucketDigests(bucket);
    for (const [key, sha] of Object.entries(before)) if (key !== "supabase/latest.json") expect(after[key]).toBe(sha);
  });
});

/** Running (a zombie nobody reaped counts as dead). */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
