// Overwrite protection: what a restore would replace in its target, looked up (read only) before
// anything is touched, and the SQL `--clean` runs inside the restore's own transaction to replace it,
// so a failed restore leaves the target as it was.
import pg from "pg";
import type { DumpContents } from "./contents";
import { parseQualifiedName, quoteIdentifier, splitQualifiedName } from "../postgres/sql";
import { failure, oneLine } from "../core/errors";
import type { BackupScope } from "../inventory";
import { connectPg } from "../postgres/connection";

/** What part of the target a dump replaces: whole schemas (a full or schema backup), single tables
 * (`--table`), or table contents (`--data-only`). */
export type OverwriteMode = "schemas" | "tables" | "data";

export interface RestoreFootprint {
  mode: OverwriteMode;
  schemas: string[];
  tables: string[];
}

export interface TargetInspection {
  footprint: RestoreFootprint;
  /** In-scope schemas the target already has. */
  existingSchemas: string[];
  /** In-scope tables (schemas/tables mode) or non-empty in-scope tables (data mode) already there. */
  occupied: string[];
  serverVersionNum: number;
}

/** Only exact (quoted) identifier paths ever reach SQL text. */
const isQualifiedName = (name: string) => parseQualifiedName(name, 0) === name;

export function restoreFootprint(contents: DumpContents, scope: BackupScope | null): RestoreFootprint {
  const tables = contents.tables.filter(isQualifiedName);
  if (scope?.dataOnly) return { mode: "data", schemas: [], tables };
  if (scope && scope.tables.length > 0) {
    // A schema-only --table dump counts no rows: its --table names are all there is.
    const named = scope.tables.filter((t) => !/[*?]/.test(t) && isQualifiedName(t));
    return { mode: "tables", schemas: [], tables: [...new Set([...tables, ...named])] };
  }
  const schemas = new Set<string>([...contents.createdSchemas, ...(scope?.schemas ?? [])]);
  for (const table of tables) {
    const parts = splitQualifiedName(table);
    if (parts) schemas.add(parts[0]);
  }
  return { mode: "schemas", schemas: [...schemas].sort(), tables };
}

export async function inspectTarget(url: string, display: string, footprint: RestoreFootprint): Promise<TargetInspection> {
  let client: pg.Client;
  try {
    client = await connectPg(url);
  } catch (error) {
    throw failure(`cannot connect to the target database ${display}: ${oneLine(error)}`, error);
  }
  try {
    const version = Number((await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]!.v);
    const existingSchemas = (
      await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[]) ORDER BY 1", [footprint.schemas])
    ).rows.map((r) => r.nspname);
    let occupied: string[] = [];
    if (footprint.mode === "schemas") {
      occupied = (
        await client.query<{ name: string }>(
          `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY 1`,
          [footprint.schemas],
        )
      ).rows.map((r) => r.name);
    } else {
      const existing = (
        await client.query<{ t: string }>("SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL", [footprint.tables])
      ).rows.map((r) => r.t);
      if (footprint.mode === "tables") occupied = existing;
      else {
        for (const table of existing) {
          const rows = await client.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ONLY ${table}) AS any`);
          if (rows.rows[0]?.any) occupied.push(table);
        }
      }
    }
    return { footprint, existingSchemas, occupied, serverVersionNum: version };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What `--clean` runs first, in the restore's transaction: drop what the dump brings back. Schemas
 * the dump does not create itself (`public`: pg_dump never does) are made again, empty, as
 * PostgreSQL makes them. */
export function cleanPreamble(inspection: TargetInspection, contents: DumpContents): string {
  const lines = ["SET client_min_messages = warning;"];
  const { footprint } = inspection;
  if (footprint.mode === "schemas") {
    for (const schema of inspection.existingSchemas) {
      lines.push(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE;`);
      if (contents.createdSchemas.includes(schema)) continue;
      if (schema === "public") {
        lines.push(
          inspection.serverVersionNum >= 150000
            ? "CREATE SCHEMA public AUTHORIZATION pg_database_owner; GRANT USAGE ON SCHEMA public TO PUBLIC;"
            : "CREATE SCHEMA public; GRANT ALL ON SCHEMA public TO PUBLIC;",
          "COMMENT ON SCHEMA public IS 'standard public schema';",
        );
      } else {
        lines.push(`CREATE SCHEMA ${quoteIdentifier(schema)};`);
      }
    }
  } else if (footprint.mode === "tables") {
    for (const table of inspection.occupied) lines.push(`DROP TABLE IF EXISTS ${table} CASCADE;`);
  } else if (inspection.occupied.length > 0) {
    lines.push(`TRUNCATE TABLE ${inspection.occupied.join(", ")};`);
  }
  return lines.join("\n") + "\n";
}

/** "pmoves_core.content_items, archon.settings and 10 more" */
export function describeTables(tables: string[], shown = 3): string {
  const head = tables.slice(0, shown).join(", ");
  return tables.length > shown ? `${head} and ${tables.length - shown} more` : head;
}
