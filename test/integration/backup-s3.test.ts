// The whole slice against the real PostgreSQL, S3 server and NATS, run exactly as the container
// runs the bundle: create, list, status, download, restore — and the restored database is the
// source, schema, grants, policies, sequences and every row.
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackupManifestSchema } from "../../job/inventory/manifest";
import { jobEnv, runCli } from "../helpers/cli";
import { subscribeEvents } from "../helpers/nats";
import { APP_SCHEMAS, createDatabase, database, dataFingerprint, dropDatabase, loadFixture, schemaDump, sequenceState, sql, uniqueName } from "../helpers/pg";
import { getObject, listKeys, makeBucket, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices } from "../helpers/services";

const source = uniqueName("dbb_src");
const bucket = uniqueBucket("dbb-slice");
const created: string[] = [];
let env: Record<string, string>;
let events: Awaited<ReturnType<typeof subscribeEvents>>;
let manifest: ReturnType<typeof BackupManifestSchema.parse>;

function freshTarget(): Promise<{ name: string; url: string }> {
  return database(created, "dbb_tgt");
}

async function readManifest(key: string) {
  return BackupManifestSchema.parse(JSON.parse((await getObject(bucket, key)).toString("utf8")));
}

beforeAll(async () => {
  await requireServices("postgres", "s3", "nats");
  created.push(source);
  const url = await createDatabase(source);
  loadFixture(source);
  await makeBucket(bucket);
  events = await subscribeEvents();
  env = jobEnv(url, bucket, { BACKUP_ENV: "test" });
});

afterAll(async () => {
  await events?.close();
  for (const name of created) await dropDatabase(name);
  await removeBucket(bucket);
});

async function latestPointer(): Promise<Record<string, unknown>> {
  return JSON.parse((await getObject(bucket, "supabase/latest.json")).toString("utf8")) as Record<string, unknown>;
}

describe("create", () => {
  it("dumps the app schemas, uploads dump + manifest, points latest.json at it and publishes the event", async () => {
    const result = await runCli(["create", "--json"], env);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    manifest = BackupManifestSchema.parse(JSON.parse(result.stdout));
    expect(manifest.id).toMatch(/^backup_\d{8}_\d{6}(_\d+)?$/);
    expect(manifest.key).toBe(`supabase/manual/${manifest.id}.sql.gz`);
    expect(manifest.status).toBe("completed");
    expect(manifest.environment).toBe("test");

    const keys = await listKeys(bucket);
    expect(keys).toEqual(["supabase/latest.json", `supabase/manual/${manifest.id}.manifest.json`, manifest.key, `supabase/runs/${manifest.id}.json`].sort());
    const dump = await getObject(bucket, manifest.key);
    expect(createHash("sha256").update(dump).digest("hex")).toBe(manifest.sha256);
    expect(dump.length).toBe(manifest.sizes.stored);
    expect(await readManifest(`supabase/manual/${manifest.id}.manifest.json`)).toEqual(manifest);
    // The pointer names the backup (and how to restore it); it holds no dump to pipe into psql.
    expect(await latestPointer()).toMatchObject({ id: manifest.id, dump: manifest.key, sha256: manifest.sha256, restore: `db-backup restore ${manifest.id}` });

    // Row counts come from the dump, and equal the database's.
    const sqlText = zlib.gunzipSync(dump).toString("utf8");
    expect(manifest.sizes.dumped).toBe(Buffer.byteLength(sqlText));
    for (const [table, rows] of Object.entries(manifest.rowCounts!)) {
      const [{ n }] = await sql<{ n: string }>(source, `SELECT count(*) AS n FROM ONLY ${table}`);
      expect(Number(n), table).toBe(rows);
    }
    expect(manifest.rowCounts!["pmoves_core.content_items"]).toBe(402);
    expect(manifest.rowCounts!['archon."Odd ""Table"" name"']).toBe(3);
    // Supabase-managed schemas are not in the default scope; grants to anon/authenticated are.
    expect(sqlText).not.toMatch(/auth\.users|storage\.objects/);
    expect(sqlText).toMatch(/GRANT SELECT ON TABLE pmoves_core\.content_items TO anon/);

    // Matched by path: another test file's bucket may hold a backup with the same id (same second).
    const event = await events.waitFor((e) => e.subject === "backup.database.completed.v1" && e.data.path === `${bucket}/${manifest.key}`);
    expect(event.data).toMatchObject({
      backup: manifest.id,
      path: `${bucket}/${manifest.key}`,
      type: "manual",
      size: manifest.sizes.stored,
      sha256: manifest.sha256,
      environment: "test",
    });
    expect(manifest.notification).toMatchObject({ delivered: true });
  });

  it("keeps ids unique and sortable when two backups land in the same second", async () => {
    const [a, b] = await Promise.all([runCli(["create", "--type", "daily", "--json"], env), runCli(["create", "--type", "monthly", "--json"], env)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const ids = [JSON.parse(a.stdout).id, JSON.parse(b.stdout).id];
    expect(new Set(ids).size).toBe(2);
    expect(JSON.parse(a.stdout).key).toMatch(/^supabase\/daily\//);
    expect(JSON.parse(b.stdout).key).toMatch(/^supabase\/monthly\//);
  });
});

describe("list, status, download", () => {
  it("lists backups newest first as the seed's table, and as JSON", async () => {
    const table = await runCli(["list"], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^\| ID \| Type \| Size \| Created \| Status \|/m);
    expect(table.stdout).toContain(`| ${manifest.id} | Manual |`);
    const json = JSON.parse((await runCli(["list", "--json", "--type", "manual"], env)).stdout) as { id: string; type: string }[];
    expect(json.map((e) => e.type)).toEqual(json.map(() => "manual"));
    expect(json.map((e) => e.id)).toContain(manifest.id);
    const all = JSON.parse((await runCli(["list", "--json"], env)).stdout) as { createdAt: string }[];
    const times = all.map((e) => e.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it("reports status with the seed's sections", async () => {
    const status = await runCli(["status"], env);
    expect(status.code).toBe(0);
    for (const heading of ["## Backup Status", "### Latest Backups", "### Storage Summary", "**Total Backups:**", "**Total Size:**", "**Oldest Backup:**", "**Latest Backup:**", "### Point-in-Time Recovery"]) {
      expect(status.stdout).toContain(heading);
    }
  });

  it("downloads to a file and to stdout, verifying the checksum", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "dbb-dl-"));
    const file = path.join(dir, "backup.sql.gz");
    const result = await runCli(["download", manifest.id, file], env);
    expect(result.code).toBe(0);
    expect(createHash("sha256").update(await fs.readFile(file)).digest("hex")).toBe(manifest.sha256);
    const piped = await runCli(["download", manifest.id], { ...env });
    expect(piped.code).toBe(0);
    await fs.rm(dir, { recursive: true });
  });
});

describe("restore", () => {
  it("restores exactly: schema, grants, RLS policies, sequences and every row", async () => {
    const target = await freshTarget();
    const result = await runCli(["restore", manifest.id, "--target", target.url, "--target-env", "test"], env);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/row counts of \d+ tables match the manifest/);
    expect(await dataFingerprint(target.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source, APP_SCHEMAS));
    expect(schemaDump(target.name, APP_SCHEMAS)).toEqual(schemaDump(source, APP_SCHEMAS));
    const seq = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([k]) => APP_SCHEMAS.some((a) => k.startsWith(a))));
    expect(seq(await sequenceState(target.name))).toEqual(seq(await sequenceState(source)));
    await events.waitFor((e) => e.subject === "backup.database.restored.v1" && e.data.id === manifest.id);
  });

  it("resolves an environment name through <NAME>_DB_URL", async () => {
    const target = await freshTarget();
    const result = await runCli(["restore", manifest.id, "--target", "staging"], { ...env, STAGING_DB_URL: target.url });
    expect(result.code).toBe(0);
    expect(await dataFingerprint(target.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source, APP_SCHEMAS));
  });

  it("round-trips a custom-format backup through pg_restore, in parallel too", async () => {
    const made = await runCli(["create", "--format", "custom", "--json"], env);
    expect(made.code).toBe(0);
    const custom = BackupManifestSchema.parse(JSON.parse(made.stdout));
    expect(custom.key).toMatch(/\.dump$/);
    expect(await latestPointer()).toMatchObject({ id: custom.id, dump: custom.key }); // a full backup, whatever its format
    for (const jobs of ["1", "2"]) {
      const target = await freshTarget();
      const result = await runCli(["restore", custom.id, "--target", target.url, "--target-env", "test", "--jobs", jobs], env);
      expect(result.stderr).not.toMatch(/error/i);
      expect(result.code).toBe(0);
      expect(await dataFingerprint(target.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source, APP_SCHEMAS));
    }
  });

  it("takes partial backups (tables, data-only, schema-only) without moving latest", async () => {
    const latestBefore = await latestPointer();
    const partial = await runCli(["create", "--table", "pmoves_core.content_items", "--data-only", "--json"], env);
    expect(partial.code).toBe(0);
    const m = BackupManifestSchema.parse(JSON.parse(partial.stdout));
    expect(Object.keys(m.rowCounts!)).toEqual(["pmoves_core.content_items"]);
    const schemaOnly = await runCli(["create", "--schema", "archon", "--schema-only", "--json"], env);
    expect(schemaOnly.code).toBe(0);
    expect(BackupManifestSchema.parse(JSON.parse(schemaOnly.stdout)).rowCounts).toEqual({});
    expect(await latestPointer()).toEqual(latestBefore);
  });
});
