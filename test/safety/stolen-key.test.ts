// What the store's write key can do to backups once it is stolen, on the real S3 server with Object
// Lock: every write below is one a backup pod's key may make (a PUT over an existing key, a drill
// record, a pointer). A version written over a backup is never read in its place (status alarms;
// restore, verify and download refuse until told the version the manifest records, which restores
// the genuine data); a drill's verdict counts only for the exact bytes it proved; `latest` is read
// from the manifests, never from latest.json; no key shortens a lock, and lifecycle keeps the genuine
// version a later write made noncurrent; of two runs claiming one request id, one restores.
import { createHash } from "node:crypto";
import zlib from "node:zlib";
import * as Minio from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lifecycleRules, toS3Lifecycle } from "../../infra/lifecycle";
import { retentionRules } from "../../job/core/catalog";
import type { JobContext } from "../../job/core/context";
import { isKind } from "../../job/core/errors";
import { serializeManifest, type BackupManifest } from "../../job/inventory/manifest";
import { claimRequest } from "../../job/restore/requests";
import { S3Repository } from "../../job/store/s3";
import { expectFailure, expectOneLineError } from "../helpers/assertions";
import { createBackup, manifestKey, retainedUntil, versionIds, writeDrillRecord } from "../helpers/backups";
import { jobEnv, runCli, startCli } from "../helpers/cli";
import { APP_SCHEMAS, database, dataFingerprint, dropDatabase, sql } from "../helpers/pg";
import { getObject, makeBucket, putObject, removeBucket, s3Client, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { relationsSnapshot } from "../helpers/snapshots";

const bucket = uniqueBucket("dbb-stolen");
const created: string[] = [];
let source: { name: string; url: string };
let env: Record<string, string>;

/** The backup's dump with one row changed, and a manifest that matches it: a careful forgery. */
async function forge(m: BackupManifest): Promise<{ dumpVersion: string; manifestVersion: string }> {
  const sqlText = zlib.gunzipSync(await getObject(bucket, m.key)).toString("utf8");
  const forgedSql = sqlText.replace(/^(COPY pmoves_core\.content_items .*\n)(\d+)\t/m, "$1$2\tFORGED ");
  expect(forgedSql).not.toBe(sqlText);
  const forged = zlib.gzipSync(forgedSql);
  const dumpPut = await s3Client().putObject(bucket, m.key, forged, forged.length);
  const text = serializeManifest({ ...m, sha256: createHash("sha256").update(forged).digest("hex"), sizes: { ...m.sizes, stored: forged.length }, dumpVersionId: dumpPut.versionId ?? null });
  const manifestPut = await s3Client().putObject(bucket, manifestKey(m), Buffer.from(text), Buffer.byteLength(text));
  return { dumpVersion: dumpPut.versionId!, manifestVersion: manifestPut.versionId! };
}

async function listed(id: string): Promise<{ id: string; status: string; verified: boolean; alarms?: string[] }> {
  const result = await runCli(["list", "--json"], env);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { id: string; status: string; verified: boolean; alarms?: string[] }[]).find((e) => e.id === id)!;
}

beforeAll(async () => {
  await requireServices("postgres", "s3");
  source = await database(created, "dbb_ksrc", { fixture: true });
  await makeBucket(bucket, { objectLocking: true });
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl });
  delete env.NATS_URL;
});

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await removeBucket(bucket);
});

describe("a stolen backup key", () => {
  it("cannot get a dump and manifest written over a backup read in its place: status alarms, restore, verify and download refuse until told the recorded version, which restores the genuine data", async () => {
    const genuine = await createBackup(env);
    const forged = await forge(genuine);
    expect(forged.dumpVersion).not.toBe(genuine.dumpVersionId);

    const status = await runCli(["status"], env);
    expect(status.code).not.toBe(0);
    expect(status.stdout).toMatch(new RegExp(`have object versions their backup did not write.*${genuine.id}`));
    expectOneLineError(status, new RegExp(`backup ${genuine.id} has object versions its backup did not write`));
    expect(await listed(genuine.id)).toMatchObject({ status: "Completed", alarms: [expect.stringMatching(/manifest has 2 versions/), expect.stringMatching(/dump has 2 versions/)] });

    const target = await database(created, "dbb_ktgt");
    const before = await relationsSnapshot(target.name);
    const restore = (extra: string[]) => runCli(["restore", genuine.id, "--target", target.url, "--target-env", "staging", ...extra], env);
    let result = await restore([]);
    expect(result.code).toBe(4);
    expectOneLineError(result, new RegExp(`versions its backup did not write.*--dump-version ${genuine.dumpVersionId}`));
    result = await restore(["--dump-version", forged.dumpVersion]);
    expect(result.code).toBe(4);
    expectOneLineError(result, /is not the dump version backup .* manifest records/);
    expect(await relationsSnapshot(target.name)).toEqual(before);

    for (const args of [["verify", genuine.id, "--allow-source-server"], ["download", genuine.id, "/dev/null"]]) {
      const refused = await runCli(args, env);
      expect(refused.code, args[0]).toBe(4);
      expectOneLineError(refused, /versions its backup did not write/);
    }
    const download = await runCli(["download", genuine.id, "--dump-version", genuine.dumpVersionId!], env);
    expect(download.code, download.stderr).toBe(0);

    result = await restore(["--dump-version", genuine.dumpVersionId!]);
    expect(result.code, result.stderr).toBe(0);
    expect(await dataFingerprint(target.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source.name, APP_SCHEMAS));
    expect(await sql(target.name, "SELECT count(*)::int AS n FROM pmoves_core.content_items WHERE title LIKE 'FORGED%'")).toEqual([{ n: 0 }]);
  });

  it("cannot steer `restore latest` with a forged latest.json: latest is the newest backup its manifests name", async () => {
    const newest = await createBackup(env);
    await putObject(bucket, "supabase/latest.json", JSON.stringify({ id: "backup_20200101_000000", dump: "supabase/manual/elsewhere.sql.gz" }));
    const target = await database(created, "dbb_klatest");
    const result = await runCli(["restore", "latest", "--target", target.url, "--target-env", "staging"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain(newest.id);
    expect(await dataFingerprint(target.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source.name, APP_SCHEMAS));
  });

  it("cannot make a backup look proven: a drill's verdict counts only for the versions and checksum it names", async () => {
    const m = await createBackup(env);
    const [manifestVersion] = await versionIds(bucket, manifestKey(m));
    let at = Date.now();
    const record = (over: Partial<BackupManifest>, manifestVersionId: string | null = manifestVersion!) =>
      writeDrillRecord(bucket, { ...m, ...over }, { manifestVersionId, at: new Date((at += 1000)) });
    await record({ dumpVersionId: "someOtherVersion" });
    expect((await listed(m.id)).verified).toBe(false);
    await record({ sha256: "0".repeat(64) });
    expect((await listed(m.id)).verified).toBe(false);
    await record({}, "someOtherManifestVersion");
    expect((await listed(m.id)).verified).toBe(false);
    await record({}); // the control: a record for exactly these bytes does count
    expect((await listed(m.id)).verified).toBe(true);
  });

  it("cannot shorten a lock or delete a locked version, even with the bucket owner's key (no governance bypass)", async () => {
    const m = await createBackup(env);
    const until = await retainedUntil(bucket, m.key, m.dumpVersionId);
    expect(until!.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    await expect(
      s3Client().putObjectRetention(bucket, m.key, { mode: Minio.RETENTION_MODES.GOVERNANCE, retainUntilDate: new Date(Date.now() + 60_000).toISOString(), versionId: m.dumpVersionId! } as Minio.Retention),
    ).rejects.toMatchObject({ code: "AccessDenied" });
    await expect(s3Client().removeObject(bucket, m.key, { versionId: m.dumpVersionId! })).rejects.toMatchObject({ code: "AccessDenied" });
    expect((await retainedUntil(bucket, m.key, m.dumpVersionId))!.getTime()).toBe(until!.getTime());
  });

  it("cannot get lifecycle to remove the genuine version a later write made noncurrent", async () => {
    // A daily backup locked for 3 minutes, the bucket's rules with a 1-day (10-second) daily retention.
    const daily = await createBackup({ ...env, BACKUP_LOCK_SECONDS: "180" }, ["--type", "daily"]);
    const forged = zlib.gzipSync("SELECT 1;\n");
    const put = await s3Client().putObject(bucket, daily.key, forged, forged.length);
    await s3Client().setBucketLifecycle(bucket, toS3Lifecycle(lifecycleRules("supabase", { ...retentionRules(), daily: 1 })) as unknown as Minio.LifecycleConfig);
    // Lifecycle removes the forged (unlocked) version, which proves it ran over this key; the
    // genuine one, noncurrent since the forgery, is locked and stays.
    const deadline = Date.now() + 120_000;
    while ((await versionIds(bucket, daily.key)).includes(put.versionId!)) {
      if (Date.now() > deadline) throw new Error("lifecycle did not remove the forged version within 120 s");
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(await versionIds(bucket, daily.key)).toEqual([daily.dumpVersionId]);
    const target = await database(created, "dbb_klc");
    const result = await runCli(["restore", daily.id, "--target", target.url, "--target-env", "staging"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(await dataFingerprint(target.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source.name, APP_SCHEMAS));
  }, 200_000);
});

describe("one request id, two runs", () => {
  function requestContext(repo: S3Repository): JobContext {
    return { repo, prefix: "supabase", clock: () => new Date() } as unknown as JobContext;
  }
  const record = (requestId: string) => ({
    requestId,
    backupId: "backup_20250607_120000",
    target: "127.0.0.1:5432/x",
    targetEnvironment: "staging",
    approvedBy: null,
    reason: null,
    status: "running" as const,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    safetyBackup: null,
    error: null,
  });
  const settings = () => ({ kind: "s3" as const, endpoint: new URL(services.s3Endpoint), accessKey: services.s3AccessKey, secretKey: services.s3SecretKey, bucket });

  it("the run whose record is not the key's first version stops, whoever wrote just before it", async () => {
    const repo = new S3Repository(settings());
    await claimRequest(requestContext(repo), record("req-alone")); // the control: alone, it claims
    // Another run's claim lands between this run's check and its write.
    const raced = new S3Repository(settings());
    const put = raced.putBytes.bind(raced);
    raced.putBytes = async (key, body, type) => {
      await putObject(bucket, key, JSON.stringify(record("req-raced")));
      return put(key, body, type);
    };
    const error = await claimRequest(requestContext(raced), record("req-raced")).catch((e: unknown) => e);
    expect(isKind(error, "refused")).toBe(true);
    expect(String((error as Error).message)).toMatch(/restore request req-raced was claimed by another run at the same moment/);
  });

  it("two restore Jobs started together with one request id: exactly one restores", async () => {
    const m = await createBackup(env);
    const targets = [await database(created, "dbb_kreq1"), await database(created, "dbb_kreq2")];
    const runs = targets.map((t) => startCli(["restore", m.id, "--target", t.url, "--target-env", "staging", "--request-id", "req-twice"], env));
    const results = await Promise.all(runs.map((r) => r.done));
    expect(results.map((r) => r.code).sort()).toEqual([0, 3]);
    const loser = results.find((r) => r.code === 3)!;
    expectFailure(loser, /restore request req-twice (already ran|was claimed by another run)/);
    const filled = await Promise.all(targets.map(async (t) => (await sql(t.name, "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'pmoves_core'"))[0]!.n));
    expect(filled.sort()).toEqual([0, 1]);
  });
});
