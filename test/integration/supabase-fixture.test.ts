// The Supabase-shaped fixtures themselves: a fresh project (platform only) and a project in use
// (platform + app + user data) have the shape restore tests rely on, load deterministically,
// and the platform's storage trigger is real (and stopped by session_replication_role = replica).
// Not tested, because no test does it: loading the project file a second time.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbUrl, dropDatabase, sequenceState, sql } from "../helpers/pg";
import { requireServices } from "../helpers/services";
import {
  MIGRATION_TABLES,
  PLATFORM_DATA_TABLES,
  PLATFORM_INDEXES,
  PLATFORM_TRIGGERS,
  PROJECT_APP_SCHEMAS,
  appAttachments,
  freshProject,
  migrationRows,
  platformStructure,
  projectFingerprint,
  supabaseProject,
} from "../helpers/supabase";

const created: string[] = [];
let project: string;
let fresh: string;

beforeAll(async () => {
  await requireServices("postgres");
  project = (await supabaseProject(created, "dbb_sbproj")).name;
  fresh = (await freshProject(created, "dbb_sbfresh")).name;
});

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

async function count(db: string, table: string): Promise<number> {
  const [row] = await sql<{ n: string }>(db, `SELECT count(*) AS n FROM ${table}`);
  return Number(row!.n);
}

/** Runs `body` on one connection inside a transaction that is always rolled back. */
async function inRolledBackTransaction(db: string, body: (c: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: dbUrl(db) });
  await client.connect();
  try {
    await client.query("BEGIN");
    await body(client);
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
    await client.end();
  }
}

describe("supabase fixtures", () => {
  it("a project in use: users with profiles, identities, sessions, tokens, storage objects with their prefixes, app rows", async () => {
    const users = await count(project, "auth.users");
    expect(users).toBe(30);
    expect(await count(project, "public.profiles")).toBe(users);
    expect(await count(project, "auth.identities")).toBe(users);
    expect(await count(project, "auth.sessions")).toBe(35);
    expect(await count(project, "auth.refresh_tokens")).toBe(105);
    expect(await count(project, "storage.objects")).toBe(53);
    expect(await count(project, "app.notes")).toBe(87);
    for (const table of [...PLATFORM_DATA_TABLES, "public.profiles", "app.notes"]) {
      expect(await count(project, table), table).toBeGreaterThan(0);
    }
    // The prefixes are exactly the folders of the objects: the platform trigger made them.
    const [prefixes] = await sql<{ missing: string; extra: string; n: string }>(
      project,
      `WITH expected AS (
         SELECT DISTINCT bucket_id, unnest(storage.get_prefixes(name)) AS name FROM storage.objects)
       SELECT (SELECT count(*) FROM expected e WHERE NOT EXISTS (SELECT FROM storage.prefixes p WHERE p.bucket_id = e.bucket_id AND p.name = e.name)) AS missing,
              (SELECT count(*) FROM storage.prefixes p WHERE NOT EXISTS (SELECT FROM expected e WHERE p.bucket_id = e.bucket_id AND p.name = e.name)) AS extra,
              (SELECT count(*) FROM storage.prefixes) AS n`,
    );
    expect(prefixes).toEqual({ missing: "0", extra: "0", n: "61" });
    // One phone user without email, one SSO user sharing user 1's email.
    expect(await sql(project, `SELECT phone, is_sso_user FROM auth.users WHERE email IS NULL OR is_sso_user ORDER BY phone NULLS LAST`)).toEqual([
      { phone: "15550100029", is_sso_user: false },
      { phone: null, is_sso_user: true },
    ]);
    // Sequences where the inserts left them.
    const seq = await sequenceState(project);
    expect(seq["app.notes_id_seq"]).toBe("87");
    expect(seq["auth.refresh_tokens_id_seq"]).toBe("105");
    expect(Object.keys(await projectFingerprint(project)).sort()).toEqual(
      [...PLATFORM_DATA_TABLES, "public.profiles", "app.notes"].sort(),
    );
  });

  it("a fresh project: the platform's migration rows and nothing else; the project adds no migration rows", async () => {
    const freshRows = await migrationRows(fresh);
    expect(freshRows["auth.schema_migrations"]).toHaveLength(67);
    expect(freshRows["storage.migrations"]).toHaveLength(44);
    expect(await migrationRows(project)).toEqual(freshRows);
    for (const table of PLATFORM_DATA_TABLES) expect(await count(fresh, table), table).toBe(0);
    const appTables = await sql(fresh, `SELECT relname FROM pg_class WHERE relnamespace::regnamespace::text = ANY($1) AND relkind IN ('r', 'p')`, [PROJECT_APP_SCHEMAS]);
    expect(appTables).toEqual([]);
    expect(MIGRATION_TABLES.every((t) => !PLATFORM_DATA_TABLES.includes(t))).toBe(true);
  });

  it("the project's attachments on platform tables are found by name, and the platform's structure is the same in both", async () => {
    expect(await appAttachments(fresh)).toEqual({ triggers: [], policies: [], indexes: [] });
    expect(await appAttachments(project)).toEqual({
      triggers: ["auth.users.on_auth_user_created"],
      policies: [
        "storage.objects: Anyone can upload an avatar.",
        "storage.objects: Avatar images are publicly accessible.",
        "storage.objects: Users can read their own files.",
        "storage.objects: Users can upload their own files.",
      ],
      indexes: ["auth.users_username_idx"],
    });
    expect(PLATFORM_TRIGGERS).toContain("storage.objects.objects_insert_create_prefix");
    expect(PLATFORM_INDEXES).toContain("auth.users_email_partial_key");
    const freshStructure = await platformStructure(fresh);
    expect(Object.keys(await platformStructure(project))).toEqual(Object.keys(freshStructure));
    expect(freshStructure["relation(r) auth.users"]).toBeGreaterThan(0);
    expect(freshStructure["trigger storage.objects.objects_insert_create_prefix"]).toBeGreaterThan(0);
    expect(freshStructure["function auth.uid()"]).toBeGreaterThan(0);
  });

  it("loads deterministically: a second project has the same data", async () => {
    const again = (await supabaseProject(created, "dbb_sbproj2")).name;
    expect(await projectFingerprint(again)).toEqual(await projectFingerprint(project));
    expect(await sequenceState(again)).toEqual(await sequenceState(project));
  });

  it("the platform trigger fills storage.prefixes, so a later load of prefix rows collides; replica mode stops it", async () => {
    await inRolledBackTransaction(fresh, async (c) => {
      await c.query(`INSERT INTO storage.buckets (id, name) VALUES ('b', 'b')`);
      await c.query(`INSERT INTO storage.objects (bucket_id, name) VALUES ('b', 'u1/docs/a.txt')`);
      const made = await c.query(`SELECT name, level FROM storage.prefixes ORDER BY name`);
      expect(made.rows).toEqual([
        { name: "u1", level: 1 },
        { name: "u1/docs", level: 2 },
      ]);
      // What a data restore without replica mode does next: load the backed-up prefix rows.
      await c.query("SAVEPOINT copy_prefixes");
      await expect(c.query(`INSERT INTO storage.prefixes (bucket_id, name) VALUES ('b', 'u1')`)).rejects.toMatchObject({
        code: "23505",
        constraint: "prefixes_pkey",
      });
      await c.query("ROLLBACK TO SAVEPOINT copy_prefixes");
      await c.query("SET LOCAL session_replication_role = replica");
      await c.query(`INSERT INTO storage.objects (bucket_id, name, level) VALUES ('b', 'u2/x/b.txt', 3)`);
      await c.query(`INSERT INTO storage.prefixes (bucket_id, name) VALUES ('b', 'u2'), ('b', 'u2/x')`);
      expect((await c.query(`SELECT count(*)::int AS n FROM storage.prefixes`)).rows[0].n).toBe(4);
    });
    // The app's trigger on auth.users likewise: it fires on a plain insert, not in replica mode.
    await inRolledBackTransaction(project, async (c) => {
      const before = Number((await c.query(`SELECT count(*) AS n FROM public.profiles`)).rows[0].n);
      await c.query(`INSERT INTO auth.users (id, email, raw_user_meta_data) VALUES ('00000000-0000-4000-8000-00000000aaaa', 'new@example.com', '{"full_name": "New"}')`);
      await c.query("SET LOCAL session_replication_role = replica");
      await c.query(`INSERT INTO auth.users (id, email) VALUES ('00000000-0000-4000-8000-00000000bbbb', 'quiet@example.com')`);
      const after = Number((await c.query(`SELECT count(*) AS n FROM public.profiles`)).rows[0].n);
      expect(after).toBe(before + 1);
    });
  });

  it("RLS through auth.uid(): a signed-in user sees their own notes and files, anon only public avatars", async () => {
    await inRolledBackTransaction(project, async (c) => {
      const [user] = (await c.query(`SELECT id FROM auth.users WHERE email = 'ada@example.com' AND NOT is_sso_user`)).rows;
      await c.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: user.id, role: "authenticated" })]);
      await c.query("SET LOCAL ROLE authenticated");
      const seen = await c.query(
        `SELECT auth.uid()::text AS uid, (SELECT count(*)::int FROM app.notes) AS notes,
                (SELECT count(*)::int FROM storage.objects WHERE bucket_id = 'user-files') AS files`,
      );
      expect(seen.rows[0]).toEqual({ uid: user.id, notes: 3, files: 3 });
      await c.query("RESET ROLE");
      await c.query("SET LOCAL ROLE anon");
      const anon = await c.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE bucket_id <> 'avatars')::int AS private FROM storage.objects`);
      expect(anon.rows[0]).toEqual({ n: 29, private: 0 });
    });
  });
});
