// What `--clean` runs inside the restore's transaction: before the dump, drop what the dump
// brings back (schemas, tables, or the rows of a data-only backup); after it, put the replaced
// tables back into the publications they belonged to (Supabase Realtime's among them), which a
// dump of a schema does not carry. It is refused before anything runs when something outside the
// backup depends on what it would drop (checks.ts).
import { quoteIdent, quoteLiteral } from "../postgres/sql";
import type { DumpContents } from "./contents";
import type { TargetInspection } from "./inspect";

/** The statements --clean runs before the dump, each sent alone. Schemas the dump does not create
 * itself (`public`: pg_dump never does) are made again, empty, as PostgreSQL makes them. */
export function cleanPreamble(inspection: TargetInspection, contents: DumpContents): string[] {
  const statements = ["SET LOCAL client_min_messages = warning"];
  const { footprint } = inspection;
  if (footprint.mode === "schemas") {
    for (const schema of inspection.existingSchemas) {
      statements.push(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      if (contents.createdSchemas.includes(schema)) continue;
      if (schema === "public") {
        statements.push(
          ...(inspection.serverVersionNum >= 150000
            ? ["CREATE SCHEMA public AUTHORIZATION pg_database_owner", "GRANT USAGE ON SCHEMA public TO PUBLIC"]
            : ["CREATE SCHEMA public", "GRANT ALL ON SCHEMA public TO PUBLIC"]),
          "COMMENT ON SCHEMA public IS 'standard public schema'",
        );
      } else {
        statements.push(`CREATE SCHEMA ${quoteIdent(schema)}`);
      }
    }
  } else if (footprint.mode === "tables") {
    for (const table of inspection.occupied) statements.push(`DROP TABLE IF EXISTS ${table} CASCADE`);
  } else if (inspection.occupied.length > 0) {
    statements.push(`TRUNCATE TABLE ${inspection.occupied.join(", ")}`);
  }
  return statements;
}

/** After the dump: each replaced table back in its publications, when the dump brought it back. */
export function cleanPostamble(inspection: TargetInspection): string[] {
  return inspection.publications.map(
    ({ publication, table }) =>
      `DO $dbbackup$ BEGIN IF to_regclass(${quoteLiteral(table)}) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = ${quoteLiteral(publication)} AND format('%I.%I', schemaname, tablename) = ${quoteLiteral(table)}) THEN ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLE ${table}; END IF; END $dbbackup$`,
  );
}
