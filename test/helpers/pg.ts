// Real PostgreSQL databases for tests: created fresh, loaded from fixtures, compared exactly.
import { execFileSync } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { services } from "./services";

export const FIXTURE = path.resolve(__dirname, "../fixtures/supabase-like.sql");
/** The fixture's application schemas (besides Supabase's own: auth, storage, public). */
export const APP_SCHEMAS = ["pmoves_core", "archon"];

export function dbUrl(database: string): string {
  const url = new URL(services.pgUrl);
  url.pathname = "/" + database;
  return url.toString();
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
}

export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(database: string, text: string, values?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: dbUrl(database) });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function createDatabase(name: string): Promise<string> {
  await sql("postgres", `CREATE DATABASE "${name}"`);
  return dbUrl(name);
}

/** A fresh database (loaded with the fixture, or `sql`, or empty), its name remembered in
 * `created` for the file's cleanup. */
export async function database(created: string[], prefix: string, options: { fixture?: boolean; sql?: string } = {}): Promise<{ name: string; url: string }> {
  const name = uniqueName(prefix);
  created.push(name);
  const url = await createDatabase(name);
  if (options.fixture) loadFixture(name);
  if (options.sql) await sql(name, options.sql);
  return { name, url };
}

export async function dropDatabase(name: string): Promise<void> {
  await sql("postgres", `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

export function loadFixture(database: string, file = FIXTURE): void {
  execFileSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dbUrl(database), "-f", file], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, PGOPTIONS: "-c client_min_messages=warning" },
  });
}

/** Per-table md5 of all rows in a fixed order, for the given schemas. */
export async function dataFingerprint(database: string, schemas: string[]): Promise<Record<string, string>> {
  const rows = await sql<{ name: string; digest: string }>(
    database,
    `SELECT format('%I.%I', n.nspname, c.relname) AS name,
            md5(query_to_xml(format($q$SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM %I.%I x$q$, n.nspname, c.relname), false, false, '')::text) AS digest
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm') AND n.nspname = ANY($1) ORDER BY 1`,
    [schemas],
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.digest]));
}

/** The schema of the given schemas as pg_dump prints it, grants included. */
export function schemaDump(database: string, schemas: string[]): string {
  const args = ["--schema-only", "--no-owner", ...schemas.map((s) => `--schema=${s}`), `--dbname=${dbUrl(database)}`];
  return execFileSync("pg_dump", args, { encoding: "utf8" })
    .split("\n")
    .filter((l) => !l.startsWith("--") && !l.startsWith("\\restrict") && !l.startsWith("\\unrestrict") && l.trim() !== "")
    .join("\n");
}

/** Sequences' current state: last_value and is_called. */
export async function sequenceState(database: string): Promise<Record<string, string>> {
  const rows = await sql<{ name: string; state: string }>(
    database,
    `SELECT format('%I.%I', schemaname, sequencename) AS name, coalesce(last_value::text, 'null') AS state FROM pg_sequences ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.state]));
}
