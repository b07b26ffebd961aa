// `db-backup verify` against the real PostgreSQL, S3 server and NATS: a good backup is restored
// into a scratch database that is always dropped, missing roles are created NOLOGIN, the verdict is
// recorded beside the backup (verifications/<id>/, the manifest is never rewritten) and published;
// a re-written dump (a row removed, its checksum recomputed) fails and is recorded as failed.
import { createHash } from "node:crypto";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupManifest } from "../../job/inventory/manifest";
import { VerificationRecordSchema, type VerificationRecord } from "../../job/inventory/verifications";
import { expectOneLineError, expectRefused } from "../helpers/assertions";
import { createBackup, readManifest, rewriteManifest } from "../helpers/backups";
import { jobEnv, runCli } from "../helpers/cli";
import { subscribeEvents } from "../helpers/nats";
import { database, dropDatabase, sql } from "../helpers/pg";
import { getObject, listKeys, makeBucket, putObject, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { bucketVersions } from "../helpers/snapshots";

const bucket = uniqueBucket("dbb-verify");
const created: string[] = [];
const role = `dbb_only_src_${process.pid}_${Date.now().toString(36)}`;
let env: Record<string, string>;
let events: Awaited<ReturnType<typeof subscribeEvents>>;
let withRole: BackupManifest;

function scratchName(stderr: string): string {
  const m = /scratch database (dbbackup_verify_\S+)/.exec(stderr);
  expect(m, stderr).not.toBeNull();
  return m![1]!;
}

/** The drills' records of a backup, oldest first. */
async function drillRecords(id: string): Promise<VerificationRecord[]> {
  const keys = await listKeys(bucket, `supabase/verifications/${id}/`);
  return Promise.all(keys.map(async (k) => VerificationRecordSchema.parse(JSON.parse((await getObject(bucket, k)).toString("utf8")))));
}

async function listed(id: string): Promise<{ id: string; verified: boolean; restorePoint?: boolean } | undefined> {
  const list = JSON.parse((await runCli(["list", "--json"], env)).stdout) as { id: string; verified: boolean; restorePoint?: boolean }[];
  return list.find((e) => e.id === id);
}

async function databaseExists(name: string): Promise<boolean> {
  return (await sql("postgres", "SELECT 1 FROM pg_database WHERE datname = $1", [name])).length > 0;
}

beforeAll(async () => {
  await requireServices("postgres", "s3", "nats");
  const source = await database(created, "dbb_vsrc", { fixture: true });
  await makeBucket(bucket);
  events = await subscribeEvents();
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl });
  // A role only the source's server had when the backup was taken.
  await sql(source.name, `CREATE ROLE ${role} NOLOGIN; GRANT SELECT ON pmoves_core.content_items TO ${role}`);
  withRole = await createBackup(env);
  await sql(source.name, `REVOKE ALL ON pmoves_core.content_items FROM ${role}; DROP ROLE ${role}`);
});

afterAll(async () => {
  await events?.close();
  for (const name of created) await dropDatabase(name);
  await sql("postgres", `DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await removeBucket(bucket);
});

describe("verify", () => {
  it("refuses the source's own server unless --allow-source-server", async () => {
    const before = await bucketVersions(bucket);
    const result = await runCli(["verify", withRole.id], env);
    expectRefused(result, /VERIFY_DB_URL is on the source's server .*--allow-source-server/);
    expect(await bucketVersions(bucket)).toEqual(before);
  });

  it("restores a good backup into a scratch database it drops, creating missing roles NOLOGIN, and records the result", async () => {
    const result = await runCli(["verify", withRole.id, "--allow-source-server", "--json"], env);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { id: string; createdRoles: string[]; verification: { tables: number; rows: number }; restorePoints: string[] };
    expect(report.createdRoles).toEqual([role]);
    expect(await sql("postgres", "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", [role])).toEqual([{ rolcanlogin: false }]);
    const counts = withRole.rowCounts!;
    expect(report.verification).toMatchObject({ tables: Object.keys(counts).length, rows: Object.values(counts).reduce((a, b) => a + b, 0) });
    expect(report.restorePoints).toEqual([withRole.id]);
    expect(await databaseExists(scratchName(result.stderr))).toBe(false);

    // The manifest is as the backup wrote it; the verdict is a record of its own, for these bytes.
    expect(await readManifest(bucket, withRole)).toEqual(withRole);
    const [record, ...more] = await drillRecords(withRole.id);
    expect(more).toEqual([]);
    const { verifiedAt, ...verdict } = report.verification as typeof report.verification & { verifiedAt: string };
    expect(record).toMatchObject({ backupId: withRole.id, outcome: "passed", at: verifiedAt, sha256: withRole.sha256, dumpVersionId: withRole.dumpVersionId ?? null, ...verdict });
    const event = await events.waitFor((e) => e.subject === "backup.database.verified.v1" && e.data.path === `${bucket}/${withRole.key}`);
    expect(event.data).toMatchObject({ backup: withRole.id, tables: report.verification.tables, rows: report.verification.rows });
    // list and status show it verified.
    expect(await listed(withRole.id)).toMatchObject({ verified: true, restorePoint: true });
  });

  it("picks the newest unverified full backup by default; verifies a partial one only when asked, and says why a data-only one cannot be", async () => {
    const full = await createBackup(env, ["--format", "custom"]);
    const partial = await createBackup(env, ["--table", "pmoves_core.content_items", "--data-only"]);
    const result = await runCli(["verify", "--allow-source-server"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Verified ${full.id}: .* \\d+ tables, \\d+ rows match the archive's data`));
    expect((await drillRecords(full.id))[0]?.tables).toBeGreaterThan(5);

    const refused = await runCli(["verify", partial.id, "--allow-source-server"], env);
    expect(refused.code).toBe(2);
    expectOneLineError(refused, /holds only data: it needs what the rest of its database holds to load, so it cannot be verified on its own; restore it into a database that has that/);
    // A schema-only backup restores on its own: verified when asked, never a restore point.
    const schemaOnly = await createBackup(env, ["--schema-only"]);
    const drill = await runCli(["verify", schemaOnly.id, "--allow-source-server"], env);
    expect(drill.code, drill.stderr).toBe(0);
    expect(drill.stdout).toMatch(/a partial backup is never a restore point; it may now be restored with --clean/);
    expect(await listed(schemaOnly.id)).toMatchObject({ verified: true });
    const nothing = await runCli(["verify", "--allow-source-server"], env);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toMatch(/Nothing to verify/);
  });

  it("fails on a re-written dump with a row removed and its checksum recomputed, drops the scratch database, and withdraws the restore point", async () => {
    const victim = await createBackup(env);
    expect((await runCli(["verify", victim.id, "--allow-source-server"], env)).code).toBe(0);
    const lines = zlib.gunzipSync(await getObject(bucket, victim.key)).toString("utf8").split("\n");
    const copy = lines.findIndex((l) => l.startsWith("COPY pmoves_core.content_items "));
    lines.splice(copy + 1, 1);
    const rewritten = zlib.gzipSync(lines.join("\n"));
    await putObject(bucket, victim.key, rewritten);
    await rewriteManifest(bucket, victim, (m) => ({ ...m, sha256: createHash("sha256").update(rewritten).digest("hex"), sizes: { ...m.sizes, stored: rewritten.length } }));

    const result = await runCli(["verify", victim.id, "--allow-source-server"], env);
    expect(result.code).toBe(4);
    expectOneLineError(result, /row count mismatch for pmoves_core\.content_items: 401 restored, 402 in the manifest/);
    expect(await databaseExists(scratchName(result.stderr))).toBe(false);
    await events.waitFor((e) => e.subject === "backup.database.verify_failed.v1" && e.data.path === `${bucket}/${victim.key}`);
    expect((await drillRecords(victim.id)).map((r) => r.outcome)).toEqual(["passed", "failed"]);
    expect(await listed(victim.id)).toMatchObject({ verified: false });
  });

  it("fails on a dump whose bytes no longer match its checksum", async () => {
    const victim = await createBackup(env);
    const dump = Buffer.from(await getObject(bucket, victim.key));
    dump[Math.floor(dump.length / 2)]! ^= 0x01;
    await putObject(bucket, victim.key, dump);
    const result = await runCli(["verify", victim.id, "--allow-source-server"], env);
    expect(result.code).toBe(4);
    expectOneLineError(result, /checksum mismatch|corrupt/);
    expect(await databaseExists(scratchName(result.stderr))).toBe(false);
  });
});
