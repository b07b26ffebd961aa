// Which entries of a Supabase backup's dump a target needs (pure: the plan from what the backup
// recorded and what the target has), and pg_dump's table-of-contents headers as the plan reads them.
import { describe, expect, it } from "vitest";
import { platformChecks, platformPlan } from "../../../job/restore/platform";
import { entrySchema, tocEntryOf, type PlatformContents, type PlatformTarget, type TocEntry } from "../../../job/postgres/supabase";

const platform: PlatformContents = {
  schemas: ["auth", "storage"],
  dataTables: ["auth.users", "auth.identities", "storage.objects"],
  attached: [
    { kind: "trigger", schema: "auth", table: "users", name: "on_auth_user_created" },
    { kind: "policy", schema: "storage", table: "objects", name: "Avatar images are public" },
    { kind: "index", schema: "auth", table: "users", name: "users_username_idx" },
    { kind: "index", schema: "auth", table: "users", name: "users_email_partial_key" },
  ],
  publications: [{ publication: "supabase_realtime", table: "app.notes" }],
};

const project: PlatformTarget = {
  presentSchemas: ["auth", "storage"],
  missingTables: [],
  presentTables: ["auth.users", "auth.identities", "storage.objects"],
  filledTables: [],
  presentAttached: [{ kind: "index", schema: "auth", table: "users", name: "users_email_partial_key" }],
  publications: ["supabase_realtime"],
};
const plainTarget: PlatformTarget = { presentSchemas: [], missingTables: [], presentTables: [], filledTables: [], presentAttached: [], publications: [] };

const e = (type: string, schema: string | null, name: string): TocEntry => ({ type, schema, name });

describe("tocEntryOf", () => {
  it("reads pg_dump's headers: data, objects with spaces in their tag, a tablespace suffix, none", () => {
    expect(tocEntryOf("\n\n--\n-- Data for Name: users; Type: TABLE DATA; Schema: auth; Owner: -\n--\n\nCOPY auth.users (id) FROM stdin;")).toEqual(e("TABLE DATA", "auth", "users"));
    expect(tocEntryOf("--\n-- Name: objects Avatar images are public; Type: POLICY; Schema: storage; Owner: -\n--\n\nCREATE POLICY x ON storage.objects;")).toEqual(
      e("POLICY", "storage", "objects Avatar images are public"),
    );
    expect(tocEntryOf("--\n-- Name: t; Type: TABLE; Schema: app; Owner: -; Tablespace: fast\n--\nCREATE TABLE app.t ();")).toEqual(e("TABLE", "app", "t"));
    expect(tocEntryOf("--\n-- Name: auth; Type: SCHEMA; Schema: -; Owner: -\n--\nCREATE SCHEMA auth;")).toEqual(e("SCHEMA", null, "auth"));
    expect(tocEntryOf("\nALTER TABLE auth.users ENABLE ALWAYS TRIGGER x;")).toBeNull();
    // A header-like line after the statement has begun is the statement's text, not a header.
    expect(tocEntryOf("CREATE FUNCTION f() RETURNS int AS $$\n-- Name: users; Type: TABLE DATA; Schema: auth; Owner: -\nSELECT 1 $$ LANGUAGE sql;")).toBeNull();
  });

  it("knows which schema a schema's own entries are about", () => {
    expect(entrySchema(e("SCHEMA", null, "auth"))).toBe("auth");
    expect(entrySchema(e("ACL", null, "SCHEMA storage"))).toBe("storage");
    expect(entrySchema(e("COMMENT", null, 'SCHEMA "My Schema"'))).toBe("My Schema");
    expect(entrySchema(e("EXTENSION", null, "pgcrypto"))).toBeNull();
  });
});

describe("platformPlan", () => {
  it("into a project: the app and every row; the platform's structure, grants, extensions and publications are the target's", () => {
    const plan = platformPlan(platform, project, { clean: false, createExtensions: [] });
    expect(plan.madeSchemas).toEqual([]);
    const sent = (entry: TocEntry) => plan.sends(entry);
    expect(sent(e("TABLE", "public", "profiles"))).toBe(true);
    expect(sent(e("ACL", "public", "TABLE profiles"))).toBe(true);
    expect(sent(e("TABLE DATA", "auth", "users"))).toBe(true);
    expect(sent(e("SEQUENCE SET", "auth", "refresh_tokens_id_seq"))).toBe(true);
    expect(sent(e("TABLE", "auth", "users"))).toBe(false);
    expect(sent(e("SCHEMA", null, "auth"))).toBe(false);
    expect(sent(e("COMMENT", null, "SCHEMA auth"))).toBe(false);
    expect(sent(e("FUNCTION", "auth", "uid()"))).toBe(false);
    expect(sent(e("ACL", "auth", "TABLE users"))).toBe(false);
    expect(sent(e("CONSTRAINT", "auth", "users users_pkey"))).toBe(false);
    expect(sent(e("TRIGGER", "storage", "objects objects_insert_create_prefix"))).toBe(false); // the platform's own
    expect(sent(e("EXTENSION", null, "pgcrypto"))).toBe(false);
    expect(sent(e("COMMENT", null, "EXTENSION pgcrypto"))).toBe(false);
    expect(sent(e("PUBLICATION", null, "supabase_realtime"))).toBe(false);
    expect(sent(e("EVENT TRIGGER", null, "issue_pg_graphql_access"))).toBe(false);
    // The app's objects on platform tables, where the project lacks them.
    expect(sent(e("TRIGGER", "auth", "users on_auth_user_created"))).toBe(true);
    expect(sent(e("POLICY", "storage", "objects Avatar images are public"))).toBe(true);
    expect(sent(e("INDEX", "auth", "users_username_idx"))).toBe(true);
    expect(sent(e("INDEX", "auth", "users_email_partial_key"))).toBe(false); // the project has it
    expect(plan.postamble).toEqual(['ALTER PUBLICATION "supabase_realtime" ADD TABLE ONLY app.notes']);
    expect(plan.clean).toEqual([]);
  });

  it("into plain PostgreSQL: the platform's structure too (never its grants), and the extensions it is told to make", () => {
    const plan = platformPlan(platform, plainTarget, { clean: false, createExtensions: [{ name: "uuid-ossp", schema: "extensions", version: "1.1", needed: true }] });
    expect(plan.madeSchemas).toEqual(["auth", "storage"]);
    expect(plan.sends(e("TABLE", "auth", "users"))).toBe(true);
    expect(plan.sends(e("SCHEMA", null, "auth"))).toBe(true);
    expect(plan.sends(e("INDEX", "auth", "users_email_partial_key"))).toBe(true);
    expect(plan.sends(e("ACL", "auth", "TABLE users"))).toBe(false);
    expect(plan.extensions).toEqual(['CREATE SCHEMA IF NOT EXISTS "extensions"', 'CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA "extensions"']);
    expect(plan.postamble).toEqual([]); // no publication to join
  });

  it("with --clean: the app's triggers and policies replaced, the tables it fills emptied in one statement, the platform's indexes kept", () => {
    const filled: PlatformTarget = {
      ...project,
      filledTables: ["auth.users"],
      presentAttached: [...project.presentAttached, { kind: "trigger", schema: "auth", table: "users", name: "on_auth_user_created" }],
    };
    const plan = platformPlan(platform, filled, { clean: true, createExtensions: [] });
    expect(plan.clean).toEqual(['DROP TRIGGER IF EXISTS "on_auth_user_created" ON "auth"."users"', "TRUNCATE TABLE auth.users, auth.identities, storage.objects"]);
    expect(plan.sends(e("TRIGGER", "auth", "users on_auth_user_created"))).toBe(true);
    expect(plan.sends(e("INDEX", "auth", "users_email_partial_key"))).toBe(false);
  });
});

describe("platformChecks", () => {
  const none = { present: [], missing: [] };
  it("refuses a platform older than the backup's, naming the tables it lacks", () => {
    const [check] = platformChecks({ ...project, missingTables: ["auth.one_time_tokens"] }, none, { createExtensions: false });
    expect(check).toMatchObject({ check: "platform", ok: false, detail: expect.stringMatching(/lacks auth\.one_time_tokens, which the backup fills: its Supabase version is older/) });
  });

  it("names the CREATE EXTENSION a target needs, the package a server lacks, the schema an extension is in", () => {
    const ext = { name: "vector", schema: "extensions", version: "0.8.0", needed: true };
    const detail = (missing: { installedIn: string | null; available: boolean; trusted?: boolean }, createExtensions = false) =>
      platformChecks(project, { present: [], missing: [{ extension: ext, trusted: true, ...missing }] }, { createExtensions })[1]!;
    expect(detail({ installedIn: null, available: true })).toMatchObject({ ok: false, detail: expect.stringMatching(/run CREATE EXTENSION IF NOT EXISTS "vector" WITH SCHEMA "extensions" there, or add --create-extensions/) });
    expect(detail({ installedIn: null, available: true }, true)).toMatchObject({ ok: true, detail: "made first (--create-extensions): vector in extensions" });
    expect(detail({ installedIn: null, available: false }, true)).toMatchObject({ ok: false, detail: expect.stringMatching(/does not have installed: install its package/) });
    expect(detail({ installedIn: "public", available: true }, true)).toMatchObject({ ok: false, detail: expect.stringMatching(/has it in public: move it \(ALTER EXTENSION "vector" SET SCHEMA "extensions"\)/) });
    // What a backup names never makes the job install an untrusted extension (code run as a superuser).
    expect(detail({ installedIn: null, available: true, trusted: false }, true)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/is not a trusted extension: the job makes only trusted ones .*run CREATE EXTENSION IF NOT EXISTS "vector" WITH SCHEMA "extensions" there yourself/),
    });
  });
});
