// Databases shaped like REAL Supabase projects, split the way the platform splits them: what a
// newly created project holds (supabase-platform.sql: roles, auth/storage/realtime schemas,
// the services' migration rows) and what its owner adds (supabase-project.sql: the app's
// schemas, its triggers/policies/index on platform tables, and the user data that lives in
// the platform's tables). Plus the comparisons a backup/restore test needs.
import { readFileSync } from "node:fs";
import path from "node:path";
import { database, loadFixture, sql } from "./pg";

export const SUPABASE_PLATFORM_FIXTURE = path.resolve(__dirname, "../fixtures/supabase-platform.sql");
export const SUPABASE_PROJECT_FIXTURE = path.resolve(__dirname, "../fixtures/supabase-project.sql");

/** The schemas the platform creates and owns (their structure must survive a restore untouched). */
export const PLATFORM_SCHEMAS = ["auth", "storage", "realtime", "extensions"];

/** The platform tables that hold the project's user data once it is in use (all filled by the
 * project fixture; empty in a fresh project). */
export const PLATFORM_DATA_TABLES = [
  "auth.users",
  "auth.identities",
  "auth.sessions",
  "auth.refresh_tokens",
  "auth.mfa_amr_claims",
  "auth.one_time_tokens",
  "auth.audit_log_entries",
  "auth.instances",
  "storage.buckets",
  "storage.objects",
  "storage.prefixes",
];

/** The services' migration bookkeeping: a target project's own rows, never the backup's. */
export const MIGRATION_TABLES = ["auth.schema_migrations", "storage.migrations"];

/** The schemas the project's owner created (besides the platform's). */
export const PROJECT_APP_SCHEMAS = ["public", "app"];

/** A new database with the platform and the project loaded: a Supabase project in use. */
export async function supabaseProject(created: string[], prefix: string): Promise<{ name: string; url: string }> {
  const db = await database(created, prefix);
  loadFixture(db.name, SUPABASE_PLATFORM_FIXTURE);
  loadFixture(db.name, SUPABASE_PROJECT_FIXTURE);
  return db;
}

/** A new database with the platform only: what a newly created Supabase project is. */
export async function freshProject(created: string[], prefix: string): Promise<{ name: string; url: string }> {
  const db = await database(created, prefix);
  loadFixture(db.name, SUPABASE_PLATFORM_FIXTURE);
  return db;
}

/** Per-table md5 of all rows (in a fixed order) of every table in the app schemas and of the
 * platform data tables; not the migration tables. Keys are "schema.table". */
export async function projectFingerprint(db: string): Promise<Record<string, string>> {
  const rows = await sql<{ name: string; digest: string }>(
    db,
    `SELECT format('%I.%I', n.nspname, c.relname) AS name,
            md5(query_to_xml(format($q$SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM %I.%I x$q$, n.nspname, c.relname), false, false, '')::text) AS digest
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE (c.relkind IN ('r', 'm') AND n.nspname = ANY($1))
         OR (c.relkind IN ('r', 'p') AND format('%s.%s', n.nspname, c.relname) = ANY($2))
      ORDER BY 1`,
    [PROJECT_APP_SCHEMAS, PLATFORM_DATA_TABLES],
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.digest]));
}

/** Every row of each migration table, as text, in a fixed order. */
export async function migrationRows(db: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of MIGRATION_TABLES) {
    const rows = await sql<{ row: string }>(db, `SELECT x::text AS row FROM ${table} x ORDER BY 1`);
    out[table] = rows.map((r) => r.row);
  }
  return out;
}

// The platform fixture's own triggers and indexes, read from its text: anything else on a
// platform table (besides constraint indexes) was attached by the project.
const platformSql = readFileSync(SUPABASE_PLATFORM_FIXTURE, "utf8");
/** "schema.table.trigger" for every trigger the platform creates. */
export const PLATFORM_TRIGGERS: string[] = [...platformSql.matchAll(/^CREATE\s+TRIGGER\s+(\w+)\s[^;]*?\sON\s+(\w+)\.(\w+)\s/gim)]
  .map((m) => `${m[2]}.${m[3]}.${m[1]}`)
  .sort();
/** "schema.index" for every index the platform creates explicitly (constraint indexes aside). */
export const PLATFORM_INDEXES: string[] = [...platformSql.matchAll(/^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(\w+)\s+ON\s+(\w+)\./gim)]
  .map((m) => `${m[2]}.${m[1]}`)
  .sort();

/** The project's objects attached to platform tables, by name: its (non-internal) triggers on
 * auth/storage/... tables, every policy on them (the platform ships none), and its indexes on
 * them. Compare source and restored target with toEqual. */
export async function appAttachments(db: string): Promise<{ triggers: string[]; policies: string[]; indexes: string[] }> {
  const triggers = await sql<{ name: string }>(
    db,
    `SELECT format('%s.%s.%s', n.nspname, c.relname, t.tgname) AS name
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT t.tgisinternal AND n.nspname = ANY($1) ORDER BY 1`,
    [PLATFORM_SCHEMAS],
  );
  const policies = await sql<{ name: string }>(
    db,
    `SELECT format('%s.%s: %s', schemaname, tablename, policyname) AS name
       FROM pg_policies WHERE schemaname = ANY($1) ORDER BY 1`,
    [PLATFORM_SCHEMAS],
  );
  const indexes = await sql<{ name: string }>(
    db,
    `SELECT format('%s.%s', n.nspname, i.relname) AS name
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace
      WHERE n.nspname = ANY($1)
        AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid)
      ORDER BY 1`,
    [PLATFORM_SCHEMAS],
  );
  return {
    triggers: triggers.map((r) => r.name).filter((t) => !PLATFORM_TRIGGERS.includes(t)),
    policies: policies.map((r) => r.name),
    indexes: indexes.map((r) => r.name).filter((i) => !PLATFORM_INDEXES.includes(i)),
  };
}

/** The platform's relations (tables, indexes, sequences, views, types' relations), enum and
 * composite/domain types, functions and triggers in the platform schemas, each with its OID;
 * the project's attachments (appAttachments) left out. Equal before and after a restore into
 * a fresh project = the restore dropped and recreated nothing of the platform. */
export async function platformStructure(db: string): Promise<Record<string, number>> {
  const attached = await appAttachments(db);
  const rows = await sql<{ key: string; oid: number }>(
    db,
    `SELECT format('relation(%s) %s.%s', c.relkind, n.nspname, c.relname) AS key, c.oid::int8 AS oid
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind <> 't'
     UNION ALL
     SELECT format('type(%s) %s.%s', t.typtype, n.nspname, t.typname), t.oid::int8
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = ANY($1) AND t.typtype IN ('e', 'd', 'c') AND t.typelem = 0
        AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
     UNION ALL
     SELECT format('function %s.%s(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), p.oid::int8
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ANY($1)
     UNION ALL
     SELECT format('trigger %s.%s.%s', n.nspname, c.relname, t.tgname), t.oid::int8
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND NOT t.tgisinternal
      ORDER BY 1`,
    [PLATFORM_SCHEMAS],
  );
  const skip = new Set([
    ...attached.triggers.map((t) => `trigger ${t}`),
    ...attached.indexes.map((i) => `relation(i) ${i}`),
  ]);
  return Object.fromEntries(rows.filter((r) => !skip.has(r.key)).map((r) => [r.key, Number(r.oid)]));
}
