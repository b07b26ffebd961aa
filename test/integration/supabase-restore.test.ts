// A Supabase project, backed up by default and restored into a new project, as its users run it:
// through the bundle, against a fixture shaped like a real project (GoTrue's auth tables with users,
// identities and refresh tokens, storage with its prefix trigger, the handle_new_user trigger, RLS
// through auth.uid(), an app schema keyed by auth.users, extensions in schema `extensions`). The
// default backup holds the users; a new project gets every row back without --clean, nothing
// doubled by triggers (the storage trigger would make the load fail, handle_new_user would double
// the profiles), its own migration history and platform structure untouched; a drill on plain
// PostgreSQL passes; plain PostgreSQL gets the platform's structure from the backup.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackupManifestSchema, serializeManifest, type BackupManifest } from "../../job/inventory/manifest";
import { expectOneLineError, expectRefused } from "../helpers/assertions";
import { jobEnv, runCli } from "../helpers/cli";
import { database, dropDatabase, sequenceState, sql } from "../helpers/pg";
import { makeBucket, putObject, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { dbSnapshot } from "../helpers/snapshots";
import { MIGRATION_TABLES, PLATFORM_DATA_TABLES, appAttachments, freshProject, migrationRows, platformStructure, projectFingerprint, supabaseProject } from "../helpers/supabase";

const bucket = uniqueBucket("dbb-supabase");
const created: string[] = [];
let source: { name: string; url: string };
let env: Record<string, string>;
let backup: BackupManifest;

async function create(extra: string[] = [], extraEnv: Record<string, string> = {}): Promise<BackupManifest> {
  const result = await runCli(["create", "--json", ...extra], { ...env, ...extraEnv });
  expect(result.code, result.stderr).toBe(0);
  return BackupManifestSchema.parse(JSON.parse(result.stdout));
}

async function restore(id: string, target: string, extra: string[] = []) {
  return runCli(["restore", id, "--target", target, "--target-env", "staging", ...extra], env);
}

/** What a restore must bring back, and what it must leave as the target's own. */
async function expectSameProject(target: string): Promise<void> {
  expect(await projectFingerprint(target)).toEqual(await projectFingerprint(source.name));
  expect(await appAttachments(target)).toEqual(await appAttachments(source.name));
  const [counts] = await sql<{ users: number; profiles: number }>(target, "SELECT (SELECT count(*)::int FROM auth.users) AS users, (SELECT count(*)::int FROM public.profiles) AS profiles");
  expect(counts!.profiles).toBe(counts!.users); // handle_new_user did not fire during the load
}

beforeAll(async () => {
  await requireServices("postgres", "s3");
  source = await supabaseProject(created, "dbb_sbsrc");
  // The app's table in Realtime's publication: a project's own, restored into the new one's.
  await sql(source.name, "ALTER PUBLICATION supabase_realtime ADD TABLE app.notes");
  await makeBucket(bucket);
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl });
  delete env.NATS_URL;
  backup = await create();
});

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await removeBucket(bucket);
});

describe("a Supabase project's default backup", () => {
  it("is recognised as one and holds the users: the platform's data tables (never its migration history), the app's objects on them, the extensions and roles", () => {
    expect(backup.scope.profile).toBe("supabase");
    for (const table of PLATFORM_DATA_TABLES) expect(backup.rowCounts, table).toHaveProperty([table]);
    expect(backup.rowCounts!["auth.users"]).toBe(30);
    for (const table of MIGRATION_TABLES) expect(backup.rowCounts).not.toHaveProperty([table]);
    const platform = backup.contents!.platform!;
    expect(platform.schemas).toEqual(["auth", "storage"]);
    expect(platform.dataTables).toEqual([...PLATFORM_DATA_TABLES].sort());
    expect(platform.attached).toEqual(
      expect.arrayContaining([
        { kind: "trigger", schema: "auth", table: "users", name: "on_auth_user_created" },
        { kind: "index", schema: "auth", table: "users", name: "users_username_idx" },
        { kind: "policy", schema: "storage", table: "objects", name: "Avatar images are publicly accessible." },
      ]),
    );
    // The platform's own trigger on storage.objects is the platform's: never attached.
    expect(platform.attached.filter((o) => o.kind === "trigger")).toEqual([{ kind: "trigger", schema: "auth", table: "users", name: "on_auth_user_created" }]);
    expect(platform.publications).toEqual([{ publication: "supabase_realtime", table: "app.notes" }]);
    expect(backup.contents!.extensions).toContainEqual({ name: "uuid-ossp", schema: "extensions", version: expect.any(String), needed: true });
    expect(backup.contents!.roles).toEqual(expect.arrayContaining(["anon", "authenticated", "service_role"]));
  });

  it("says so in list and status: the profile and what it holds", async () => {
    const list = await runCli(["list", "--json"], env);
    expect(list.code, list.stderr).toBe(0);
    const row = (JSON.parse(list.stdout) as { id: string; profile: string; holds: Record<string, string[]> }[]).find((r) => r.id === backup.id)!;
    expect(row.profile).toBe("supabase");
    expect(row.holds.schemas).toEqual(["app", "public"]);
    expect(row.holds.platformTables).toEqual([...PLATFORM_DATA_TABLES].sort());
    expect(row.holds.extensions).toEqual(["uuid-ossp (extensions)"]);
    const status = await runCli(["status"], env);
    expect(status.stdout).toMatch(new RegExp(`\\| ${backup.id} \\|.*\\| supabase · 2 schemas · ${PLATFORM_DATA_TABLES.length} platform tables · \\d+ roles · 1 extension \\|`));
  });

  it("restores into a new project without --clean: every row, the app's trigger, policies and index, its Realtime tables; nothing doubled; the project's migrations, structure and sequences its own", async () => {
    const project = await freshProject(created, "dbb_sbnew");
    const migrations = await migrationRows(project.name);
    const structure = await platformStructure(project.name);
    const result = await restore(backup.id, project.url);
    expect(result.code, result.stderr).toBe(0);
    await expectSameProject(project.name);
    expect(await migrationRows(project.name)).toEqual(migrations);
    expect(await platformStructure(project.name)).toEqual(structure); // nothing of the platform dropped and made again
    expect(await sql(project.name, "SELECT tablename FROM pg_publication_tables WHERE pubname = 'supabase_realtime'")).toEqual([{ tablename: "notes" }]);
    // Sequences continue past the data: the next note, token and audit entry get fresh ids.
    const sequences = await sequenceState(source.name);
    expect(await sequenceState(project.name)).toMatchObject(Object.fromEntries(Object.entries(sequences).filter(([name]) => /^(app|auth)\./.test(name))));
    const [note] = await sql<{ id: string }>(project.name, "INSERT INTO app.notes (owner, body) SELECT id, 'after the restore' FROM auth.users LIMIT 1 RETURNING id");
    const [max] = await sql<{ id: string }>(source.name, "SELECT max(id) AS id FROM app.notes");
    expect(Number(note!.id)).toBeGreaterThan(Number(max!.id));
    // A user who signs up now gets a profile: the app's trigger is live again.
    await sql(project.name, "INSERT INTO auth.users (instance_id, id, aud, role, email, raw_user_meta_data) VALUES ('00000000-0000-0000-0000-000000000000', '99999999-9999-4999-8999-999999999999', 'authenticated', 'authenticated', 'new@example.com', '{\"full_name\": \"New\"}')");
    expect(await sql(project.name, "SELECT count(*)::int AS n FROM public.profiles WHERE id = '99999999-9999-4999-8999-999999999999'")).toEqual([{ n: 1 }]);
  });

  it("refuses a second restore over the data without --clean; after a drill on a plain server, --clean replaces the app and the data and leaves the platform's structure", async () => {
    const project = await freshProject(created, "dbb_sbclean");
    const structure = await platformStructure(project.name);
    const migrations = await migrationRows(project.name);
    expect((await restore(backup.id, project.url)).code).toBe(0);
    // Changed since: a user gone, a note edited.
    await sql(project.name, "DELETE FROM auth.users WHERE id = (SELECT id FROM auth.users ORDER BY id LIMIT 1); UPDATE app.notes SET body = 'changed'");
    const before = await dbSnapshot(project.name);
    const again = await restore(backup.id, project.url);
    expectRefused(again, /already holds tables in the dump's schemas \(app, public\): .*, and rows in the platform tables the backup fills: auth\..*; add --clean/);
    expect(await dbSnapshot(project.name)).toEqual(before);

    // The drill: into a scratch database on a plain PostgreSQL server, platform made from the backup.
    const drill = await runCli(["verify", backup.id, "--allow-source-server"], env);
    expect(drill.code, drill.stderr).toBe(0);
    expect(drill.stdout).toMatch(new RegExp(`^Verified ${backup.id}: .* ${Object.keys(backup.rowCounts!).length} tables`));
    const listed = JSON.parse((await runCli(["list", "--json"], env)).stdout) as { id: string; verified: boolean }[];
    expect(listed.find((e) => e.id === backup.id)?.verified).toBe(true);

    const clean = await restore(backup.id, project.url, ["--clean"]);
    expect(clean.code, clean.stderr).toBe(0);
    await expectSameProject(project.name);
    expect(await platformStructure(project.name)).toEqual(structure);
    expect(await migrationRows(project.name)).toEqual(migrations);
  });

  it("into plain PostgreSQL: refused until the extensions its objects need are there (or --create-extensions); then the platform's structure comes from the backup", async () => {
    const plain = await database(created, "dbb_sbplain");
    const before = await dbSnapshot(plain.name);
    const refused = await restore(backup.id, plain.url);
    expectRefused(refused, /the backup's objects need extension uuid-ossp in schema extensions, which the target lacks: run CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA "extensions" there, or add --create-extensions/);
    expect(await dbSnapshot(plain.name)).toEqual(before);
    const result = await restore(backup.id, plain.url, ["--create-extensions"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/the target has no Supabase platform: making auth, storage from the backup/);
    await expectSameProject(plain.name);
    expect(await sql(plain.name, "SELECT count(*)::int AS n FROM auth.schema_migrations")).toEqual([{ n: 0 }]); // the structure, not the history
  });

  it("a drill whose server lacks an extension the backup needs says so before it starts (not as the backup's fault)", async () => {
    // A backup of a project using PostGIS, which this server does not have: its manifest says so.
    const withPostgis = await create();
    const key = `supabase/manual/${withPostgis.id}.manifest.json`;
    const extensions = [...withPostgis.contents!.extensions!, { name: "postgis", schema: "extensions", version: "3.5.0", needed: true }];
    await putObject(bucket, key, serializeManifest({ ...withPostgis, contents: { ...withPostgis.contents!, extensions } }));
    const drill = await runCli(["verify", withPostgis.id, "--allow-source-server"], env);
    expect(drill.code).toBe(1);
    expectOneLineError(drill, /the verification server .* lacks extension postgis, which the backup's objects need: install its package there/);
  });

  it("never installs an untrusted extension a backup names (code that runs as a superuser): restore and drill both refuse, saying how to make it", async () => {
    // A manifest anyone holding the store's key could write, asking for file_fdw (which reads
    // server files and runs programs), available on this server but not trusted.
    const forged = await create();
    const key = `supabase/manual/${forged.id}.manifest.json`;
    const extensions = [...forged.contents!.extensions!, { name: "file_fdw", schema: "extensions", version: "1.0", needed: true }];
    await putObject(bucket, key, serializeManifest({ ...forged, contents: { ...forged.contents!, extensions } }));
    const plain = await database(created, "dbb_sbuntrusted");
    const before = await dbSnapshot(plain.name);
    expectRefused(await restore(forged.id, plain.url, ["--create-extensions"]), /extension file_fdw, which is not a trusted extension: the job makes only trusted ones/);
    expect(await dbSnapshot(plain.name)).toEqual(before);
    const drill = await runCli(["verify", forged.id, "--allow-source-server"], env);
    expect(drill.code).toBe(1);
    expectOneLineError(drill, /extension file_fdw, which is not a trusted extension and which the drill does not make: create it in template1 on the verification server/);
    expect(await sql("postgres", "SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'dbbackup_verify_%' AND datname NOT IN (SELECT datname FROM pg_stat_activity WHERE datname IS NOT NULL)")).toEqual([{ n: 0 }]);
  });

  it("in custom format restores the same way (one transaction; --jobs > 1 refused)", async () => {
    const custom = await create(["--format", "custom"]);
    expect(custom.contents?.platform?.dataTables).toEqual([...PLATFORM_DATA_TABLES].sort());
    const project = await freshProject(created, "dbb_sbcustom");
    expectRefused(await restore(custom.id, project.url, ["--jobs", "2"]), /a Supabase backup restores in one transaction .*: use --jobs 1/);
    const result = await restore(custom.id, project.url);
    expect(result.code, result.stderr).toBe(0);
    await expectSameProject(project.name);
  });

  it("as plain PostgreSQL (BACKUP_PROFILE=postgres, the default before): no users, so a new project cannot take it", async () => {
    const appOnly = await create([], { BACKUP_PROFILE: "postgres" });
    expect(appOnly.scope.profile).toBe("postgres");
    expect(appOnly.rowCounts).not.toHaveProperty(["auth.users"]);
    const project = await freshProject(created, "dbb_sbapponly");
    const result = await restore(appOnly.id, project.url);
    expect(result.code).toBe(1);
    expectOneLineError(result, /violates foreign key constraint "(notes_owner_fkey|profiles_id_fkey)".*; nothing was committed/);
    const bad = await runCli(["create"], { ...env, BACKUP_PROFILE: "firebase" });
    expect(bad.code).toBe(2);
    expectOneLineError(bad, /BACKUP_PROFILE "firebase" is not a profile: use supabase or postgres/);
  });
});
