// Secrets and TLS, against servers that really check them: a PostgreSQL instance of this test's
// own with scram passwords and SSL required (the suite's shared server trusts every local
// connection, so a wrong password would pass there), a nats-server that requires a token, and
// the S3 server behind a TLS proxy with a certificate from a CA made here.
//
// Secrets: succeeding and failing runs of every action get a real database password, the S3
// secret key and the NATS token; stdout, stderr, the events received, every object's content,
// metadata and tags are scanned for them, and every connection string shown must be redacted.
import { connect } from "@nats-io/transport-node";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import * as Minio from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_SUBJECT_WILDCARD } from "../../job/core/catalog";
import { BackupManifestSchema } from "../../job/inventory/manifest";
import { expectFailure } from "../helpers/assertions";
import { jobEnv, runCli, type CliResult } from "../helpers/cli";
import { makeCerts, startNats, startOwnPostgres, startTlsProxy, tempDir, type NatsServer, type OwnPostgres } from "../helpers/fault-servers";
import { subscribeEvents } from "../helpers/nats";
import { createDatabase, dbUrl, dropDatabase, sql, uniqueName } from "../helpers/pg";
import { getObject, makeBucket, removeBucket, s3Client, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { bucketDigests, dbSnapshot } from "../helpers/snapshots";

const rand = () => randomBytes(6).toString("hex");
// Passwords with the characters that break naive URL handling (: @ / # ? & = %).
const SUPER_PASSWORD = `super-${rand()}`;
const DB_PASSWORD = `Db:pw@${rand()}/#?&=%`;
const TARGET_PASSWORD = `Tg:pw@${rand()}/%`;
const NATS_TOKEN = `nats-token-${rand()}`;
const WRONG_DB_PASSWORD = `wrong-db-${rand()}`;
const WRONG_S3_SECRET = `wrong-s3-secret-${rand()}`;
const WRONG_NATS_TOKEN = `wrong-nats-${rand()}`;
const SECRETS = [DB_PASSWORD, TARGET_PASSWORD, NATS_TOKEN, services.s3SecretKey, WRONG_DB_PASSWORD, WRONG_S3_SECRET, WRONG_NATS_TOKEN, SUPER_PASSWORD];

const bucket = uniqueBucket("dbb-fault-sec");
let own: OwnPostgres;
let nats: NatsServer;
let env: Record<string, string>;
const outputs: { what: string; result: CliResult }[] = [];
const received: string[] = [];
let closeSubscriber: () => Promise<void>;
let targets = 0;

/** Runs the job and keeps what it printed for the scan. */
async function run(what: string, args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli(args, { ...env, ...extra });
  outputs.push({ what, result });
  return result;
}

function newTarget(): string {
  const name = `staging_${++targets}`;
  own.psql(`CREATE DATABASE ${name} OWNER restorer`);
  return name;
}

beforeAll(async () => {
  await requireServices("s3", "postgres");
  own = await startOwnPostgres(SUPER_PASSWORD);
  const lit = (s: string) => "'" + s.replace(/'/g, "''") + "'";
  own.psql(`CREATE ROLE app LOGIN PASSWORD ${lit(DB_PASSWORD)}; CREATE ROLE restorer LOGIN PASSWORD ${lit(TARGET_PASSWORD)}; CREATE DATABASE appdb OWNER app;`);
  own.psql(`SET ROLE app; CREATE SCHEMA app; CREATE TABLE app.users (id int PRIMARY KEY, email text, note text);
    INSERT INTO app.users SELECT g, 'user' || g || '@example.com', 'row ' || g FROM generate_series(1, 200) g;
    CREATE TABLE public.settings (k text PRIMARY KEY, v text); INSERT INTO public.settings VALUES ('theme', 'dark');`, "appdb");
  nats = await startNats({ token: NATS_TOKEN });
  const nc = await connect({ servers: nats.url, token: NATS_TOKEN });
  const sub = nc.subscribe(EVENT_SUBJECT_WILDCARD);
  (async () => {
    for await (const m of sub) received.push(`${m.subject} ${m.string()}`);
  })().catch(() => undefined);
  await nc.flush();
  closeSubscriber = () => nc.drain();
  await makeBucket(bucket);
  env = jobEnv(own.url("app", DB_PASSWORD, "appdb", "sslmode=require"), bucket, { NATS_URL: nats.url, NATS_TOKEN });
}, 120_000);

afterAll(async () => {
  await closeSubscriber?.();
  await nats?.dispose();
  own?.stop();
  await removeBucket(bucket);
});

describe("secrets", () => {
  it("succeeding runs of every action", async () => {
    const a = await run("create", ["create", "--json"]);
    expect(a.code, a.stderr).toBe(0);
    const plain = BackupManifestSchema.parse(JSON.parse(a.stdout));
    expect(plain.notification).toMatchObject({ delivered: true });
    const b = await run("create custom", ["create", "--format", "custom", "--json"]);
    expect(b.code, b.stderr).toBe(0);
    const custom = BackupManifestSchema.parse(JSON.parse(b.stdout));
    // --db-url instead of the variable, and no sslmode: libpq's default (prefer) takes SSL here
    const c = await run("create --db-url", ["create", "--type", "daily", "--db-url", own.url("app", DB_PASSWORD, "appdb")], { SUPABASE_DB_URL: "" });
    expect(c.code, c.stderr).toBe(0);
    for (const args of [["list"], ["list", "--json"], ["status"], ["status", "--json"]]) {
      const r = await run(args.join(" "), args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    }
    const dir = await tempDir("dbb-fault-sec-dl-");
    const file = path.join(dir, "dump.sql.gz");
    expect((await run("download", ["download", plain.id, file])).code).toBe(0);
    const dumped = zlib.gunzipSync(await fs.readFile(file)).toString("utf8");
    expect(dumped).toContain("user200@example.com");
    outputs.push({ what: "downloaded dump", result: { code: 0, stdout: dumped, stderr: "" } });
    await fs.rm(dir, { recursive: true });
    expect((await run("download stdout", ["download", plain.id])).code).toBe(0);

    const staging = newTarget();
    const r1 = await run("restore --target staging", ["restore", plain.id, "--target", "staging"], { STAGING_DB_URL: own.url("restorer", TARGET_PASSWORD, staging, "sslmode=require") });
    expect(r1.code, r1.stderr).toBe(0);
    const second = newTarget();
    const r2 = await run("restore custom --jobs 2", ["restore", custom.id, "--target", own.url("restorer", TARGET_PASSWORD, second, "sslmode=require"), "--target-env", "test", "--jobs", "2"]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(own.psql("SELECT count(*) FROM app.users", second).trim()).toBe("200");
  });

  it("failing runs: wrong or missing passwords, a wrong S3 secret, a wrong NATS token, a failing pg_dump", async () => {
    const before = await bucketDigests(bucket);
    const failedBefore = received.filter((e) => e.startsWith("backup.database.failed.v1")).length;
    const wrongDb = await run("wrong db password", ["create"], { SUPABASE_DB_URL: own.url("app", WRONG_DB_PASSWORD, "appdb", "sslmode=require") });
    expect(wrongDb.code).toBe(1);
    expectFailure(wrongDb, /cannot connect to the source database 127\.0\.0\.1:\d+\/appdb: password authentication failed for user "app"/);
    const noPassword = await run("no db password", ["create"], { SUPABASE_DB_URL: own.url("app", null, "appdb", "sslmode=require") });
    expect(noPassword.code).toBe(1);
    expectFailure(noPassword, /cannot connect to the source database .*asks for a password and the URL has none/);
    const wrongS3 = await run("wrong s3 secret", ["create"], { MINIO_SECRET_KEY: WRONG_S3_SECRET });
    expect(wrongS3.code).toBe(1);
    expectFailure(wrongS3, /rejected the credentials|SignatureDoesNotMatch|AccessDenied/);
    // Refused before anything was written, each with a failed event (NATS is up).
    expect(await bucketDigests(bucket)).toEqual(before);
    await waitUntil(() => received.filter((e) => e.startsWith("backup.database.failed.v1")).length >= failedBefore + 3);
    expect(received.filter((e) => e.startsWith("backup.database.failed.v1")).slice(failedBefore).join("\n")).toMatch(/password authentication failed/);
    const wrongToken = await run("wrong nats token", ["create", "--json"], { NATS_TOKEN: WRONG_NATS_TOKEN });
    expect(wrongToken.code).toBe(0);
    expect(wrongToken.stderr).toMatch(/warning: event backup\.database\.completed\.v1 was not delivered: .*(Authorization|auth)/i);
    const badDump = await run("pg_dump fails", ["create", "--table", "app.nope_*"]);
    expect(badDump.code).toBe(1);
    expectFailure(badDump, /pg_dump failed/);
    const plainId = JSON.parse(wrongToken.stdout).id as string;
    const target = newTarget();
    const wrongTarget = await run("wrong target password", ["restore", plainId, "--target", own.url("restorer", WRONG_DB_PASSWORD, target, "sslmode=require"), "--target-env", "test"]);
    expect(wrongTarget.code).not.toBe(0);
    expectFailure(wrongTarget, /password authentication failed for user "restorer"/);
    // pg_dump's failure was published too (and all of them go through the scan below).
    await waitUntil(() => received.filter((e) => e.startsWith("backup.database.failed.v1")).length >= failedBefore + 4);
  });

  it("nothing the job wrote or published contains a secret, and connection strings are redacted", async () => {
    const haystacks: { where: string; text: string }[] = [];
    for (const { what, result } of outputs) haystacks.push({ where: `${what}: stdout`, text: result.stdout }, { where: `${what}: stderr`, text: result.stderr });
    for (const event of received) haystacks.push({ where: "event", text: event });
    const client = s3Client();
    for await (const item of client.listObjectsV2(bucket, "", true) as AsyncIterable<Minio.BucketItem>) {
      const key = item.name!;
      let body = await getObject(bucket, key);
      if (key.endsWith(".gz")) body = zlib.gunzipSync(body);
      haystacks.push({ where: key, text: body.toString("latin1") });
      const stat = await client.statObject(bucket, key);
      haystacks.push({ where: `${key} metadata`, text: JSON.stringify(stat.metaData) });
      haystacks.push({ where: `${key} tags`, text: JSON.stringify(await client.getObjectTagging(bucket, key)) });
    }
    expect(received.length).toBeGreaterThanOrEqual(5);
    expect(haystacks.some((h) => h.where.endsWith(".manifest.json"))).toBe(true);
    const forms = SECRETS.flatMap((s) => [s, encodeURIComponent(s)]);
    for (const { where, text } of haystacks) {
      for (const secret of forms) expect(text.includes(secret), `${where} contains a secret`).toBe(false);
      const unredacted = /postgres(?:ql)?:\/\/[^\s:@/]+:(?!\*\*\*@)[^\s@/]+@/.exec(text);
      expect(unredacted?.[0], `${where} shows a connection string with its password`).toBeUndefined();
    }
  });
});

describe("TLS", () => {
  it("sslmode in the database URL is honoured by the job and by pg_dump/psql alike", async () => {
    // verify-full against our CA: the whole backup and restore run encrypted (the server refuses
    // plain connections of these roles) and the certificate is checked.
    const ca = `sslmode=verify-full&sslrootcert=${encodeURIComponent(own.certs.caCert)}`;
    const made = await runCli(["create", "--json"], { ...env, SUPABASE_DB_URL: own.url("app", DB_PASSWORD, "appdb", ca) });
    expect(made.code, made.stderr).toBe(0);
    const id = BackupManifestSchema.parse(JSON.parse(made.stdout)).id;
    const target = newTarget();
    const restored = await runCli(["restore", id, "--target", own.url("restorer", TARGET_PASSWORD, target, ca), "--target-env", "test"], env);
    expect(restored.code, restored.stderr).toBe(0);

    // verify-full without the CA: refused (the server's certificate is not trusted).
    let result = await runCli(["create"], { ...env, SUPABASE_DB_URL: own.url("app", DB_PASSWORD, "appdb", "sslmode=verify-full") });
    expect(result.code).toBe(1);
    expectFailure(result, /cannot connect to the source database .*(certificate|self.signed|root cert)/i);
    // sslmode=disable where the server requires SSL: refused, saying so.
    result = await runCli(["create"], { ...env, SUPABASE_DB_URL: own.url("app", DB_PASSWORD, "appdb", "sslmode=disable") });
    expect(result.code).toBe(1);
    expectFailure(result, /no pg_hba\.conf entry .*no encryption/);

    // The suite's server has no SSL: require fails clearly, prefer falls back to a plain connection.
    const name = uniqueName("dbb_fault_tls");
    await createDatabase(name);
    try {
      await sql(name, "CREATE TABLE t (id int); INSERT INTO t VALUES (1)");
      result = await runCli(["create"], { ...env, SUPABASE_DB_URL: `${dbUrl(name)}?sslmode=require` });
      expect(result.code).toBe(1);
      expectFailure(result, /cannot connect to the source database .*does not support SSL/);
      result = await runCli(["create", "--json"], { ...env, SUPABASE_DB_URL: `${dbUrl(name)}?sslmode=prefer` });
      expect(result.code, result.stderr).toBe(0);
      const plainId = JSON.parse(result.stdout).id as string;
      const before = await dbSnapshot(name);
      result = await runCli(["restore", plainId, "--target", `${dbUrl(name)}?sslmode=require`, "--target-env", "test"], env);
      expect(result.code).not.toBe(0);
      expectFailure(result, /SSL/);
      expect(await dbSnapshot(name)).toEqual(before);
    } finally {
      await dropDatabase(name);
    }
  });

  it("an https S3 endpoint is verified against MINIO_CA_FILE", async () => {
    const dir = await tempDir("dbb-fault-tls-");
    const certs = makeCerts(dir);
    const other = makeCerts(await tempDir("dbb-fault-tls-other-"));
    const proxy = await startTlsProxy(certs, Number(new URL(services.s3Endpoint).port));
    const https = { MINIO_ENDPOINT: `https://127.0.0.1:${proxy.port}` };
    try {
      const made = await runCli(["create", "--json"], { ...env, ...https, MINIO_CA_FILE: certs.caCert });
      expect(made.code, made.stderr).toBe(0);
      const id = BackupManifestSchema.parse(JSON.parse(made.stdout)).id;
      const listed = await runCli(["list", "--json"], { ...env, ...https, MINIO_CA_FILE: certs.caCert });
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout).map((e: { id: string }) => e.id)).toContain(id);
      const target = newTarget();
      const restored = await runCli(["restore", id, "--target", own.url("restorer", TARGET_PASSWORD, target, "sslmode=require"), "--target-env", "test"], { ...env, ...https, MINIO_CA_FILE: certs.caCert });
      expect(restored.code, restored.stderr).toBe(0);

      for (const [what, extra, pattern, code] of [
        ["no CA", {}, /certificate is not trusted.*set MINIO_CA_FILE/, 1],
        ["another CA", { MINIO_CA_FILE: other.caCert }, /certificate is not trusted/, 1],
        ["missing CA file", { MINIO_CA_FILE: path.join(dir, "nope.pem") }, /MINIO_CA_FILE .*nope\.pem cannot be read/, 2],
        ["not a PEM", { MINIO_CA_FILE: path.join(dir, "ext.cnf") }, /MINIO_CA_FILE .* holds no PEM certificate/, 2],
      ] as [string, Record<string, string>, RegExp, number][]) {
        const result = await runCli(["list"], { ...env, ...https, ...extra });
        expect(result.code, what).toBe(code);
        expectFailure(result, pattern);
      }
    } finally {
      await proxy.close();
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rm(other.dir, { recursive: true, force: true });
    }
  });
});

async function waitUntil(pred: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

void subscribeEvents;
