// The edges of a trusted restore, against the real PostgreSQL, S3 server and NATS: `--clean`
// never destroys what is not in the backup (a Supabase auth trigger calling a public function, a
// view, a column and a foreign key in other schemas) and puts replaced tables back into their
// publications; a restore stuck behind a session idle in a transaction gives up and names it; a
// non-superuser owner restores a table with FORCE ROW LEVEL SECURITY; a data-only backup loads
// without firing the target's triggers, and is never sent to a "verify first" dead end.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupManifest } from "../../job/inventory/manifest";
import { expectFailure, expectRefused } from "../helpers/assertions";
import { createBackup, verifyBackup } from "../helpers/backups";
import { jobEnv, runCli } from "../helpers/cli";
import { database, dataFingerprint, dbUrl, dropDatabase, sql, uniqueName } from "../helpers/pg";
import { makeBucket, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { bucketVersions, dbSnapshot } from "../helpers/snapshots";

const bucket = uniqueBucket("dbb-redges");
const created: string[] = [];
const owner = uniqueName("dbb_owner");
let env: Record<string, string>;
/** The app's database: public.profiles, public.handle_new_user(), an enum, and Supabase's auth. */
let app: { name: string; url: string };
let appBackup: BackupManifest;

/** The app schema as a Supabase project has it; auth.users and its trigger are the platform's. */
const APP_SQL = `
  CREATE TYPE public.plan AS ENUM ('free', 'pro');
  CREATE TABLE public.profiles (id uuid PRIMARY KEY, email text NOT NULL, plan public.plan NOT NULL DEFAULT 'free');
  CREATE TABLE public.channels (id int PRIMARY KEY, name text NOT NULL);
  CREATE FUNCTION public.handle_new_user() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $fn$
  BEGIN
    INSERT INTO public.profiles (id, email) VALUES (NEW.id, NEW.email);
    RETURN NEW;
  END $fn$;
  INSERT INTO public.profiles
    SELECT ('00000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'user' || g || '@example.com', (CASE WHEN g % 3 = 0 THEN 'pro' ELSE 'free' END)::public.plan
      FROM generate_series(1, 40) g;
  INSERT INTO public.channels SELECT g, 'channel ' || g FROM generate_series(1, 12) g;
  CREATE SCHEMA auth;
  CREATE TABLE auth.users (id uuid PRIMARY KEY, email text NOT NULL);
  CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();
  INSERT INTO auth.users VALUES ('00000000-0000-0000-0000-0000000000aa', 'signup@example.com');`;

/** What a target has outside the backup that depends on the backup's schema (public). */
const OUTSIDE_SQL = `
  CREATE SCHEMA auth;
  CREATE TABLE auth.users (id uuid PRIMARY KEY, email text NOT NULL);
  CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();
  INSERT INTO auth.users VALUES ('00000000-0000-0000-0000-0000000000bb', 'target-signup@example.com');
  CREATE SCHEMA reporting;
  CREATE VIEW reporting.channel_names AS SELECT id, name FROM public.channels;
  CREATE SCHEMA billing;
  CREATE TABLE billing.accounts (id int PRIMARY KEY, tier public.plan NOT NULL, profile_id uuid REFERENCES public.profiles (id));
  INSERT INTO billing.accounts VALUES (1, 'pro', '00000000-0000-0000-0000-000000000003'), (2, 'free', NULL);`;

/** A target holding the app as the backup has it (restored from it), changed a little. */
async function appTarget(prefix: string, extra = ""): Promise<{ name: string; url: string }> {
  const target = await database(created, prefix);
  const restored = await runCli(["restore", appBackup.id, "--target", target.url, "--target-env", "test"], env);
  expect(restored.code, restored.stderr).toBe(0);
  await sql(target.name, `UPDATE public.channels SET name = 'renamed in target' WHERE id < 4; DELETE FROM public.profiles WHERE id = '00000000-0000-0000-0000-000000000040'; ${extra}`);
  return target;
}

beforeAll(async () => {
  await requireServices("postgres", "s3", "nats");
  await makeBucket(bucket);
  app = await database(created, "dbb_re_app", { sql: APP_SQL });
  env = jobEnv(app.url, bucket, { VERIFY_DB_URL: services.pgUrl });
  appBackup = await createBackup(env);
  await verifyBackup(env, appBackup.id);
  // auth is Supabase's: not in the default scope, so not in the backup.
  expect(Object.keys(appBackup.rowCounts ?? {}).sort()).toEqual(["public.channels", "public.profiles"]);
});

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await sql("postgres", `DROP ROLE IF EXISTS ${owner}`).catch(() => undefined);
  await removeBucket(bucket);
});

describe("--clean keeps what is not in the backup", () => {
  it("refuses when a trigger, a view, a column or a foreign key elsewhere depends on the dump's schema, naming them, and changes nothing", async () => {
    const target = await appTarget("dbb_re_dep", OUTSIDE_SQL);
    const before = await dbSnapshot(target.name);
    const bucketBefore = await bucketVersions(bucket);
    const result = await runCli(["restore", appBackup.id, "--target", target.url, "--target-env", "test", "--clean"], env);
    expectRefused(result, new RegExp(`--clean would also drop what is not in backup ${appBackup.id}, because it depends on the dump's schemas \\(public\\)`));
    const line = result.stderr.split("\n").find((l) => l.startsWith("error"))!;
    expect(line).toMatch(/trigger on_auth_user_created on table auth\.users \(needs function (public\.)?handle_new_user\(\)\)/);
    expect(line).toMatch(/view reporting\.channel_names \(needs column id of table (public\.)?channels/);
    expect(line).toMatch(/column tier of table billing\.accounts \(needs type (public\.)?plan\)/);
    expect(line).toMatch(/constraint accounts_profile_id_fkey on table billing\.accounts/);
    expect(line).not.toMatch(/and \d+ more/);
    expect(await dbSnapshot(target.name)).toEqual(before);
    expect(await sql(target.name, "SELECT tgname FROM pg_trigger WHERE tgrelid = 'auth.users'::regclass AND NOT tgisinternal")).toEqual([{ tgname: "on_auth_user_created" }]);
    expect(await bucketVersions(bucket)).toEqual(bucketBefore);
  });

  it("control: the same target without them is cleaned and holds exactly the source's data", async () => {
    const target = await appTarget("dbb_re_ctl");
    expect(await dataFingerprint(target.name, ["public"])).not.toEqual(await dataFingerprint(app.name, ["public"]));
    const result = await runCli(["restore", appBackup.id, "--target", target.url, "--target-env", "test", "--clean"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(await dataFingerprint(target.name, ["public"])).toEqual(await dataFingerprint(app.name, ["public"]));
  });

  it("puts a replaced table back into the publication it belonged to", async () => {
    const pub = uniqueName("dbb_pub");
    const target = await appTarget("dbb_re_pub", `CREATE PUBLICATION ${pub} FOR TABLE public.profiles`);
    const result = await runCli(["restore", appBackup.id, "--target", target.url, "--target-env", "test", "--clean"], env);
    expect(result.code, result.stderr).toBe(0);
    expect(await dataFingerprint(target.name, ["public"])).toEqual(await dataFingerprint(app.name, ["public"]));
    expect(await sql(target.name, "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1", [pub])).toEqual([{ schemaname: "public", tablename: "profiles" }]);
  });
});

describe("a lock held on the target", () => {
  it("--clean behind a session idle in a transaction gives up after RESTORE_LOCK_TIMEOUT_SECONDS, naming the session's pid; nothing committed", async () => {
    const target = await appTarget("dbb_re_lock");
    const before = await dbSnapshot(target.name);
    const blocker = new pg.Client({ connectionString: target.url });
    await blocker.connect();
    try {
      const pid = (await blocker.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
      await blocker.query("BEGIN");
      await blocker.query("SELECT * FROM public.profiles");
      const result = await runCli(["restore", appBackup.id, "--target", target.url, "--target-env", "test", "--clean"], { ...env, RESTORE_LOCK_TIMEOUT_SECONDS: "2" }, { timeoutMs: 30_000 });
      expect(result.code, result.stderr).toBe(1);
      expectFailure(result, new RegExp(`waited 2 s for a lock .*held by pid ${pid}\\b.*nothing was committed`));
      await blocker.query("ROLLBACK");
    } finally {
      await blocker.end();
    }
    expect(await dbSnapshot(target.name)).toEqual(before);
  });
});

describe("row level security", () => {
  it("a non-superuser owner without BYPASSRLS restores a table with FORCE ROW LEVEL SECURITY: every row back", async () => {
    const source = await database(created, "dbb_re_rls", {
      sql: `CREATE TABLE public.secrets (id int PRIMARY KEY, owner_name text NOT NULL, body text);
            INSERT INTO public.secrets SELECT g, 'someone_else_' || (g % 4), 'secret ' || g FROM generate_series(1, 60) g;
            ALTER TABLE public.secrets ENABLE ROW LEVEL SECURITY;
            ALTER TABLE public.secrets FORCE ROW LEVEL SECURITY;
            CREATE POLICY own_rows ON public.secrets USING (owner_name = current_user);`,
    });
    const rlsEnv = jobEnv(source.url, bucket);
    const backup = await createBackup(rlsEnv);
    expect(backup.rowCounts).toEqual({ "public.secrets": 60 });
    await sql("postgres", `CREATE ROLE ${owner} LOGIN NOSUPERUSER NOBYPASSRLS`);
    const targetName = uniqueName("dbb_re_rlst");
    created.push(targetName);
    await sql("postgres", `CREATE DATABASE "${targetName}" OWNER ${owner}`);
    await sql(targetName, `ALTER SCHEMA public OWNER TO ${owner}`);
    const url = new URL(dbUrl(targetName));
    url.username = owner;
    const result = await runCli(["restore", backup.id, "--target", url.toString(), "--target-env", "test"], rlsEnv);
    expect(result.code, result.stderr).toBe(0);
    // Read as the superuser: every row, as in the source.
    expect(await dataFingerprint(targetName, ["public"])).toEqual(await dataFingerprint(source.name, ["public"]));
    expect(await sql(targetName, "SELECT relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'public.secrets'::regclass")).toEqual([
      { relrowsecurity: true, relforcerowsecurity: true, owner },
    ]);
    expect(await sql(targetName, "SELECT policyname FROM pg_policies WHERE tablename = 'secrets'")).toEqual([{ policyname: "own_rows" }]);
  });
});

describe("a data-only backup", () => {
  const SCHEMA = `
    CREATE TABLE public.items (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE public.audit (id bigserial PRIMARY KEY, item_id int NOT NULL, action text NOT NULL);
    CREATE FUNCTION public.audit_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO public.audit (item_id, action) VALUES (NEW.id, 'insert');
      RETURN NEW;
    END $fn$;
    CREATE TRIGGER items_audit AFTER INSERT ON public.items FOR EACH ROW EXECUTE FUNCTION public.audit_insert();`;
  let source: { name: string; url: string };
  let dataEnv: Record<string, string>;
  let dataOnly: BackupManifest;

  beforeAll(async () => {
    source = await database(created, "dbb_re_dsrc", { sql: `${SCHEMA} INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 25) g;` });
    dataEnv = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl });
    dataOnly = await createBackup(dataEnv, ["--data-only", "--table", "public.items", "--table", "public.audit"]);
    expect(dataOnly.rowCounts).toEqual({ "public.items": 25, "public.audit": 25 });
  });

  it("loads into a target with the schema without firing its triggers: the audit table is not doubled", async () => {
    const target = await database(created, "dbb_re_dtgt", { sql: SCHEMA });
    const result = await runCli(["restore", dataOnly.id, "--target", target.url, "--target-env", "test"], dataEnv);
    expect(result.code, result.stderr).toBe(0);
    expect(await dataFingerprint(target.name, ["public"])).toEqual(await dataFingerprint(source.name, ["public"]));
    expect(await sql(target.name, "SELECT count(*)::int AS n FROM public.audit")).toEqual([{ n: 25 }]);
    // The trigger is still there and fires for new rows.
    await sql(target.name, "INSERT INTO public.items VALUES (1000, 'after the restore')");
    expect(await sql(target.name, "SELECT count(*)::int AS n FROM public.audit WHERE item_id = 1000")).toEqual([{ n: 1 }]);
  });

  it("--clean of it (unverified) says it cannot be verified on its own and to empty the tables, not to verify first; verify says why (2)", async () => {
    const target = await database(created, "dbb_re_dcln", { sql: `${SCHEMA} INSERT INTO public.items VALUES (1, 'target row');` });
    const before = await dbSnapshot(target.name);
    const bucketBefore = await bucketVersions(bucket);
    const result = await runCli(["restore", dataOnly.id, "--target", target.url, "--target-env", "test", "--clean"], dataEnv);
    expectRefused(result, /a data-only backup cannot be verified on its own .*empty .*public\.(items|audit).* yourself and restore without --clean/);
    expect(result.stderr).not.toMatch(/db-backup verify|verify .* first/);
    expect(await dbSnapshot(target.name)).toEqual(before);

    const verify = await runCli(["verify", dataOnly.id, "--allow-source-server"], dataEnv);
    expect(verify.code, verify.stderr).toBe(2);
    expectFailure(verify, new RegExp(`backup ${dataOnly.id} holds only data: .*cannot be verified on its own; restore it into a database that has`));
    expect(await bucketVersions(bucket)).toEqual(bucketBefore);
  });
});
