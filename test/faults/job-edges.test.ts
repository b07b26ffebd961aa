// Edges of the job outside the restore itself, against the real PostgreSQL, S3 server and NATS:
// a function body that looks like a dump's data section (a COPY line, with and without its `\.`),
// a `latest.json` pointer that cannot be written, secrets kept out of pg_dump's command line and
// environment and out of a malformed NATS_URL's message, and settings that cannot work (BACKUP_DIR
// a file, or somewhere that cannot be created; stdout closed by its reader).
import { spawn } from "node:child_process";
import { promises as fs, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackupManifestSchema } from "../../job/inventory/manifest";
import { expectFailure, expectOneLineError } from "../helpers/assertions";
import { createBackup, verifyBackup } from "../helpers/backups";
import { BUNDLE, ROOT, baseEnv, jobEnv, runCli, startCli } from "../helpers/cli";
import { tempDir } from "../helpers/fault-servers";
import { database, dataFingerprint, dropDatabase, sql } from "../helpers/pg";
import { signal, waitForChild } from "../helpers/processes";
import { bucketVersions } from "../helpers/snapshots";
import { makeBucket, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";

const bucket = uniqueBucket("dbb-jedges");
const created: string[] = [];
const dirs: string[] = [];
let source: { name: string; url: string };
let env: Record<string, string>;

/** Function bodies holding what a dump's data section looks like, in string literals. */
const LOOKALIKE_SQL = `
  CREATE TABLE public.x (id int PRIMARY KEY);
  INSERT INTO public.x SELECT generate_series(1, 3);
  CREATE TABLE public.notes (id int PRIMARY KEY, body text);
  INSERT INTO public.notes SELECT g, 'note ' || g FROM generate_series(1, 7) g;
  CREATE FUNCTION public.copy_lookalike_closed() RETURNS text LANGUAGE sql IMMUTABLE AS $body$ SELECT '
--
-- Data for Name: x; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.x (id) FROM stdin;
101
102
\\.

'::text $body$;
  CREATE FUNCTION public.copy_lookalike_open() RETURNS text LANGUAGE plpgsql AS $body$
BEGIN
  RETURN '
-- Data for Name: notes; Type: TABLE DATA; Schema: public; Owner: -
COPY public.x (id) FROM stdin;
201
202
203
';
END
$body$;`;

async function localDir(): Promise<string> {
  const dir = await tempDir("dbb-jedges-");
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  await requireServices("postgres", "s3", "nats");
  await makeBucket(bucket);
  source = await database(created, "dbb_je_src", { sql: LOOKALIKE_SQL });
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl });
});

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
  await removeBucket(bucket);
});

describe("a function body that looks like a dump's data section", () => {
  it("create counts the real tables' rows, --schema-only succeeds, and the full backup restores and verifies", async () => {
    // The look-alikes are really in the source, as lines of their own.
    expect((await sql<{ t: string }>(source.name, "SELECT public.copy_lookalike_closed() AS t"))[0]!.t).toMatch(/^COPY public\.x \(id\) FROM stdin;\n101\n102\n\\\.$/m);
    const full = await createBackup(env);
    const real = await sql<{ x: number; notes: number }>(source.name, "SELECT (SELECT count(*) FROM public.x)::int AS x, (SELECT count(*) FROM public.notes)::int AS notes");
    expect(full.rowCounts).toEqual({ "public.x": real[0]!.x, "public.notes": real[0]!.notes });

    const schemaOnly = await runCli(["create", "--schema-only", "--json"], env);
    expect(schemaOnly.code, schemaOnly.stderr).toBe(0);
    expect(BackupManifestSchema.parse(JSON.parse(schemaOnly.stdout)).status).toBe("completed");

    const target = await database(created, "dbb_je_tgt");
    const restored = await runCli(["restore", full.id, "--target", target.url, "--target-env", "test"], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await dataFingerprint(target.name, ["public"])).toEqual(await dataFingerprint(source.name, ["public"]));
    const bodies = "SELECT public.copy_lookalike_closed() AS closed, public.copy_lookalike_open() AS open";
    expect(await sql(target.name, bodies)).toEqual(await sql(source.name, bodies));

    await verifyBackup(env, full.id);
  });
});

describe("latest cannot be updated", () => {
  it("the backup still succeeds with a warning, and list shows it once, completed, no legacy entry", async () => {
    const dir = await localDir();
    // What a full disk does to the pointer: it cannot be written.
    await fs.mkdir(path.join(dir, "supabase", "latest.json"), { recursive: true });
    const dirEnv = baseEnv({ SUPABASE_DB_URL: source.url, BACKUP_DIR: dir, NATS_URL: services.natsUrl });
    const made = await runCli(["create", "--json"], dirEnv);
    expect(made.code, made.stderr).toBe(0);
    const manifest = BackupManifestSchema.parse(JSON.parse(made.stdout));
    expect(manifest.status).toBe("completed");
    expect(made.stderr).toMatch(/warning: the backup is complete, but .*latest\.json could not be updated/);
    expect(made.stderr).not.toMatch(/^error/m);

    const listed = await runCli(["list", "--json"], dirEnv);
    expect(listed.code, listed.stderr).toBe(0);
    const entries = JSON.parse(listed.stdout) as { id: string; type: string; status: string }[];
    expect(entries.filter((e) => e.id === manifest.id)).toEqual([expect.objectContaining({ id: manifest.id, type: "manual", status: "Completed" })]);
    expect(entries.filter((e) => e.type === "legacy" || /legacy/i.test(e.status))).toEqual([]);
    expect(entries).toHaveLength(1);
  });
});

describe("secrets", () => {
  const PASSWORD = "QueryPw-5c1e7d9a";
  const OTHER = { STAGING_DB_URL: "postgres://stager:StagingPw-77aa@db.staging.internal:5432/app", NATS_TOKEN: "NatsTok-90b1c2", SUPABASE_ACCESS_TOKEN: "sbp_token_d4e5f6" };

  it("pg_dump never sees the password in its command line, nor the job's other variables in its environment", async () => {
    const big = await database(created, "dbb_je_big", { sql: "CREATE TABLE public.big (id int, body text); INSERT INTO public.big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 150000) g" });
    const url = `${big.url}?password=${PASSWORD}`; // trust auth ignores it
    const runEnv = jobEnv(url, bucket, OTHER);
    const run = startCli(["create"], runEnv);
    const dump = await waitForChild(run, "pg_dump", "--dbname");
    signal(dump, "SIGSTOP"); // frozen while it is read
    let cmdline: string;
    let environ: string;
    try {
      cmdline = readFileSync(`/proc/${dump}/cmdline`, "utf8");
      environ = readFileSync(`/proc/${dump}/environ`, "utf8");
    } finally {
      signal(dump, "SIGCONT");
    }
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);

    expect(cmdline).toMatch(/--dbname=/);
    expect(cmdline).not.toContain(PASSWORD);
    const variables = environ.split("\0").filter(Boolean);
    const names = variables.map((v) => v.slice(0, v.indexOf("=")));
    for (const name of names) expect(name).toMatch(/^(PG[A-Z_]*|PATH|HOME|TZ|TMPDIR|LANG|LANGUAGE|LC_[A-Z]+)$/);
    // The query parameter's password reaches pg_dump the one way that `ps` does not show.
    expect(variables).toContain(`PGPASSWORD=${PASSWORD}`);
    for (const secret of [services.s3SecretKey, services.s3AccessKey, ...Object.values(OTHER)]) expect(environ).not.toContain(secret);
    for (const name of Object.keys(runEnv).filter((n) => !["PATH", "HOME", "TZ"].includes(n))) expect(names).not.toContain(name);
    expect(`${result.stdout}${result.stderr}`).not.toContain(PASSWORD);
  });

  it("a malformed NATS_URL in token form: exit 2, and the token is never printed", async () => {
    const before = await bucketVersions(bucket);
    const result = await runCli(["create"], jobEnv(source.url, bucket, { NATS_URL: "nats://s3cr3ttoken@bad host:4222" }));
    expect(result.code, result.stderr).toBe(2);
    expectOneLineError(result, /NATS_URL .* is not a NATS server URL/);
    expect(`${result.stdout}${result.stderr}`).not.toContain("s3cr3ttoken");
    expect(await bucketVersions(bucket)).toEqual(before);
  });

  it("a malformed NATS_URL whose token holds a / or a space: exit 2, and the token is never printed", async () => {
    // Tokens are often base64 (with / and +); a pasted one may hold a space.
    const leaks: string[] = [];
    for (const [token, url] of [
      ["base64/T0ken+x", "nats://base64/T0ken+x@bad host:4222"],
      ["s3cr3t t0ken", "nats://s3cr3t t0ken@nats:4222"],
    ] as const) {
      const result = await runCli(["list"], jobEnv(source.url, bucket, { NATS_URL: url }));
      expect(result.code, result.stderr).toBe(2);
      expectOneLineError(result, /NATS_URL .* is not a NATS server URL/);
      const printed = `${result.stdout}${result.stderr}`;
      if (token.split(/[/ ]/).some((part) => printed.includes(part))) leaks.push(printed.trim());
    }
    expect(leaks).toEqual([]);
  });
});

describe("settings that cannot work", () => {
  it("BACKUP_DIR pointing at a file: exit 2, one line naming BACKUP_DIR", async () => {
    const file = path.join(await localDir(), "a-file");
    await fs.writeFile(file, "not a directory\n");
    for (const args of [["create"], ["list"]]) {
      const result = await runCli(args, baseEnv({ SUPABASE_DB_URL: source.url, BACKUP_DIR: file }), { timeoutMs: 20_000 });
      expect(result.code, result.stderr).toBe(2);
      expectFailure(result, new RegExp(`BACKUP_DIR ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} cannot be the backup directory`));
    }
    expect(readFileSync(file, "utf8")).toBe("not a directory\n");
  });

  it("BACKUP_DIR that cannot be created (under /proc): exit 2 promptly, one line naming it", async () => {
    const result = await runCli(["create"], baseEnv({ SUPABASE_DB_URL: source.url, BACKUP_DIR: "/proc/dbb-no-such/backups" }), { timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(2);
    expectFailure(result, /BACKUP_DIR \/proc\/dbb-no-such\/backups cannot be the backup directory/);
  });

  it("stdout closed by its reader (`status | head -c 10`): no stack trace", async () => {
    const child = spawn(process.execPath, [BUNDLE, "status"], { env, cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const [code, killed] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
    clearTimeout(timer);
    expect(killed, stderr).toBeNull();
    expect(stderr).not.toMatch(/EPIPE/);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toMatch(/node:internal|Uncaught/);
    expect(code).not.toBeNull();
  });
});
