// Bad input never reaches a key, a shell or SQL: unknown actions and flags, ids with / .. or of
// any length, malformed settings: each is one line naming what is wrong, exit 2, nothing written.
// Schema and table names with quotes, spaces, capitals and shell syntax go to pg_dump as argument
// values (never a shell) and are matched exactly.
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackupManifestSchema } from "../../job/inventory/manifest";
import { expectFailure } from "../helpers/assertions";
import { jobEnv, runCli } from "../helpers/cli";
import { createDatabase, dataFingerprint, dbUrl, dropDatabase, sql, uniqueName } from "../helpers/pg";
import { makeBucket, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { bucketDigests } from "../helpers/snapshots";

const source = uniqueName("dbb_fault_input");
const bucket = uniqueBucket("dbb-fault-input");
const created: string[] = [];
const pwned = path.join(os.tmpdir(), `dbb-pwned-${process.pid}`);
const SHELLY = `$(touch ${pwned}); touch ${pwned}`;
let env: Record<string, string>;
let goodId: string;

beforeAll(async () => {
  await requireServices("postgres", "s3");
  created.push(source);
  await createDatabase(source);
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  await sql(source, `
    CREATE SCHEMA ${q('we "ird')}; CREATE TABLE ${q('we "ird')}.${q("ta ble")} (id int PRIMARY KEY, v text);
    INSERT INTO ${q('we "ird')}.${q("ta ble")} SELECT g, 'it''s "quoted" ' || g FROM generate_series(1, 25) g;
    CREATE SCHEMA ${q("Mixed Case")}; CREATE TABLE ${q("Mixed Case")}.${q("Rows")} (id int); INSERT INTO ${q("Mixed Case")}.${q("Rows")} SELECT generate_series(1, 7);
    CREATE SCHEMA ${q(SHELLY)}; CREATE TABLE ${q(SHELLY)}.${q("x; DROP TABLE y")} (id int); INSERT INTO ${q(SHELLY)}.${q("x; DROP TABLE y")} VALUES (1), (2);
    CREATE SCHEMA plain; CREATE TABLE plain.t (id int); INSERT INTO plain.t VALUES (1);`);
  await makeBucket(bucket);
  env = jobEnv(dbUrl(source), bucket, { NATS_URL: undefined });
  const made = await runCli(["create", "--schema", "plain", "--json"], env);
  expect(made.code, made.stderr).toBe(0);
  goodId = BackupManifestSchema.parse(JSON.parse(made.stdout)).id;
});

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await removeBucket(bucket);
});

describe("bad arguments", () => {
  it("unknown actions and flags, bad choices and missing arguments: exit 2, one line, nothing written", async () => {
    const before = await bucketDigests(bucket);
    const cases: [string[], RegExp][] = [
      [["frobnicate"], /unknown command 'frobnicate'/],
      [["create", "--bogus"], /unknown option '--bogus'/],
      [["list", "--typo"], /unknown option '--typo'/],
      [["restore", goodId, "--target", "postgres://postgres@127.0.0.1:1/x", "--jobz", "2"], /unknown option '--jobz'/],
      [["create", "--type", "weekly"], /argument 'weekly' is invalid/],
      [["create", "--format", "tar"], /argument 'tar' is invalid/],
      [["create", "--compression-level", "11"], /--compression-level must be at most 9/],
      [["create", "--compression-level", "fast"], /--compression-level must be a number/],
      [["restore", goodId, "--target", "postgres://postgres@127.0.0.1:1/x", "--jobs", "-1"], /--jobs|unknown option '-1'/],
      [["restore"], /missing required argument 'backup_id'/],
      [["download"], /missing required argument 'backup_id'/],
      [["create", "--schema-only", "--data-only"], /--schema-only and --data-only exclude each other/],
      [["create", "--type", "pre_migration"], /pre_migration backup needs --tag/],
      [["create", "--type", "pre_migration", "--tag", "../etc"], /tag "\.\.\/etc" is invalid/],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCli(args, env);
      expect(result.code, args.join(" ")).toBe(2);
      expectFailure(result, pattern);
    }
    expect(await bucketDigests(bucket)).toEqual(before);
  });

  it("ids with /, .., a backslash, spaces, or too long are refused before any I/O by every action that takes one", async () => {
    const ids = ["a/b", "../../etc/passwd", "..", "a\\b", "with space", "x".repeat(129), "x".repeat(5000), "-rf"];
    const deadEnv = { ...env, MINIO_ENDPOINT: "http://127.0.0.1:1" }; // any I/O would fail differently
    for (const id of ids) {
      for (const args of [["restore", id, "--target", "postgres://postgres@127.0.0.1:1/x"], ["download", id, path.join(os.tmpdir(), "never")]]) {
        const result = await runCli(args, deadEnv);
        expect(result.code, `${args[0]} ${id.slice(0, 20)}`).toBe(2);
        expectFailure(result, /backup id|unknown option|too long|characters long/);
      }
    }
    // NUL cannot reach the job through argv (execve strings end at NUL); ids.test.ts covers it.
  });
});

describe("names passed to pg_dump", () => {
  it("schemas and tables with quotes, spaces, capitals and shell syntax are dumped exactly and restored", async () => {
    const target = uniqueName("dbb_fault_input_t");
    created.push(target);
    await createDatabase(target);
    for (const [args, table, rows] of [
      [["--schema", 'we "ird'], '"we ""ird"."ta ble"', 25],
      [["--schema", "Mixed Case"], '"Mixed Case"."Rows"', 7],
      [["--schema", SHELLY], `"${SHELLY.replace(/"/g, '""')}"."x; DROP TABLE y"`, 2],
      [["--table", '"we ""ird"."ta ble"'], '"we ""ird"."ta ble"', 25],
    ] as [string[], string, number][]) {
      const result = await runCli(["create", ...args, "--json"], env);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
      const manifest = BackupManifestSchema.parse(JSON.parse(result.stdout));
      expect(manifest.rowCounts, args.join(" ")).toEqual({ [table]: rows });
    }
    expect(existsSync(pwned)).toBe(false);

    const all = await runCli(["create", "--schema", 'we "ird', "--schema", "Mixed Case", "--schema", SHELLY, "--json"], env);
    expect(all.code, all.stderr).toBe(0);
    const id = BackupManifestSchema.parse(JSON.parse(all.stdout)).id;
    const restored = await runCli(["restore", id, "--target", dbUrl(target), "--target-env", "test"], env);
    expect(restored.code, restored.stderr).toBe(0);
    const schemas = ['we "ird', "Mixed Case", SHELLY];
    expect(await dataFingerprint(target, schemas)).toEqual(await dataFingerprint(source, schemas));
    expect(Object.keys(await dataFingerprint(target, schemas))).toHaveLength(3);
    expect(existsSync(pwned)).toBe(false);
  });

  it("a schema or table that does not exist is an error, never an empty backup or an injection", async () => {
    let result = await runCli(["create", "--schema", "plain; DROP SCHEMA plain CASCADE"], env);
    expect(result.code).toBe(2);
    expectFailure(result, /schema "plain; DROP SCHEMA plain CASCADE" does not exist/);
    result = await runCli(["create", "--schema", "mixed case"], env); // names are exact: case matters
    expect(result.code).toBe(2);
    result = await runCli(["create", "--table", "plain.t'; DROP TABLE plain.t; --"], env);
    expect(result.code).toBe(2);
    expectFailure(result, /table "plain.t'; DROP TABLE plain.t; --" does not exist in the source database/);
    result = await runCli(["create", "--table", "plain.nope"], env); // an exact name: refused before an id is taken
    expect(result.code).toBe(2);
    expectFailure(result, /table "plain.nope" does not exist/);
    expect(await sql(source, "SELECT count(*)::int AS n FROM plain.t")).toEqual([{ n: 1 }]);
  });
});

describe("bad settings", () => {
  it("each malformed environment value is named in one line (exit 2) and nothing is written", async () => {
    const before = await bucketDigests(bucket);
    const cases: [Record<string, string>, string[], RegExp][] = [
      [{ BACKUP_COMPRESSION_LEVEL: "0" }, ["create"], /BACKUP_COMPRESSION_LEVEL must be at least 1/],
      [{ BACKUP_COMPRESSION_LEVEL: "10" }, ["create"], /BACKUP_COMPRESSION_LEVEL must be at most 9/],
      [{ BACKUP_COMPRESSION_LEVEL: "fast" }, ["create"], /BACKUP_COMPRESSION_LEVEL must be a number/],
      [{ BACKUP_PART_SIZE_MB: "4" }, ["create"], /BACKUP_PART_SIZE_MB must be at least 5/],
      [{ BACKUP_PART_SIZE_MB: "1e3x" }, ["list"], /BACKUP_PART_SIZE_MB must be a number/],
      [{ MINIO_ENDPOINT: "ftp://minio:21" }, ["list"], /MINIO_ENDPOINT must start with http:\/\/ or https:\/\//],
      [{ MINIO_ENDPOINT: "not a url" }, ["list"], /MINIO_ENDPOINT is not a URL/],
      [{ MINIO_ENDPOINT: `http://${services.s3AccessKey}:${services.s3SecretKey}@127.0.0.1:7480` }, ["list"], /MINIO_ENDPOINT must not carry credentials/],
      [{ MINIO_BUCKET: "Bad_Bucket" }, ["list"], /MINIO_BUCKET "Bad_Bucket" is not a valid bucket name/],
      [{ BACKUP_PREFIX: "../up" }, ["list"], /BACKUP_PREFIX "\.\.\/up" is invalid/],
      [{ BACKUP_NAME: "1st; rm" }, ["create"], /BACKUP_NAME "1st; rm" is invalid/],
      [{ BACKUP_LOCK_SECONDS: "-5" }, ["create"], /BACKUP_LOCK_SECONDS must be at least 1/],
      [{ SUPABASE_DB_URL: "garbage" }, ["create"], /SUPABASE_DB_URL is not a valid URL/],
      [{ SUPABASE_DB_URL: "mysql://root@db/x" }, ["create"], /SUPABASE_DB_URL must start with postgres:\/\//],
      [{ SUPABASE_DB_URL: "" }, ["create"], /SUPABASE_DB_URL is not set/],
      [{ NATS_URL: "http://nats:4222" }, ["create"], /NATS_URL "http:\/\/nats:4222\/?" is not a NATS server URL/],
      [{ MINIO_SECRET_KEY: "" }, ["list"], /MINIO_SECRET_KEY is not set/],
    ];
    for (const [extra, args, pattern] of cases) {
      const result = await runCli(args, { ...env, ...extra });
      expect(result.code, JSON.stringify(extra)).toBe(2);
      const line = expectFailure(result, pattern);
      expect(line).not.toContain(services.s3SecretKey);
    }
    expect(await bucketDigests(bucket)).toEqual(before);
  });
});
