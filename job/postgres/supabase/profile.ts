// Which kind of database a backup is taken of. A Supabase project is recognised by what its
// platform puts in every project database: GoTrue's tables (auth.users and its migration history,
// auth.schema_migrations) and the API roles PostgREST switches to (anon, authenticated,
// service_role). The roles alone are not enough: they are the cluster's, and any database on the
// same server would see them.
import type pg from "pg";
import type { BackupProfile } from "../../core/catalog";

export async function detectProfile(client: pg.Client): Promise<BackupProfile> {
  const { rows } = await client.query<{ supabase: boolean }>(
    `SELECT to_regclass('auth.users') IS NOT NULL
        AND to_regclass('auth.schema_migrations') IS NOT NULL
        AND (SELECT count(*) FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role')) = 3 AS supabase`,
  );
  return rows[0]?.supabase ? "supabase" : "postgres";
}
