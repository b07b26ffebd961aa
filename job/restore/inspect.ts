// Overwrite protection: what a restore would replace in its target, looked up (read only) before
// anything is touched, and the SQL `--clean` runs inside the restore's own transaction to replace it,
// so a failed restore leaves the target as it was.
import pg from "pg";
import type { DumpContents } from "./contents";
import { parseQualifiedName, splitQualifiedName } from "../postgres/sql";
import { failure, oneLine } from "../core/errors";
import type { BackupScope } from "../inventory";
import { connectPg } from "../postgres/connection";
import { checkExtensions, inspectPlatform, type AttachedObject, type ExtensionCheck, type ExtensionRecord, type PlatformContents, type PlatformTarget } from "../postgres/supabase";
import { isPlatformSchema } from "./platform";

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
  /** Objects outside what --clean would drop that depend on it (and so would go with it). */
  dependents: string[];
  /** Publications the replaced tables belong to: --clean puts them back after the restore. */
  publications: { publication: string; table: string }[];
  /** A Supabase backup: what the target has of the platform (its filled data tables are in
   * `occupied` too). */
  platform?: PlatformTarget;
  /** The extensions the backup's objects need, as the target has them. */
  extensions?: ExtensionCheck;
}

/** What a Supabase backup brings besides its app: read from its manifest. */
export interface PlatformInput {
  platform: PlatformContents | null;
  neededExtensions: ExtensionRecord[];
}

/** Only exact (quoted) identifier paths ever reach SQL text. */
const isQualifiedName = (name: string) => parseQualifiedName(name, 0) === name;

export function restoreFootprint(contents: DumpContents, scope: BackupScope | null, platform: PlatformContents | null = null): RestoreFootprint {
  // A Supabase backup's platform tables are judged by their rows (inspectTarget), never by the
  // schemas a project always has.
  const onPlatform = (table: string) => platform !== null && isPlatformSchema(splitQualifiedName(table)?.[0] ?? "");
  const tables = contents.tables.filter(isQualifiedName).filter((t) => !onPlatform(t));
  if (scope?.dataOnly) return { mode: "data", schemas: [], tables };
  if (scope && scope.tables.length > 0) {
    // A schema-only --table dump counts no rows: its --table names are all there is.
    const named = scope.tables.filter((t) => !/[*?]/.test(t) && isQualifiedName(t));
    return { mode: "tables", schemas: [], tables: [...new Set([...tables, ...named])] };
  }
  const schemas = new Set<string>([...contents.createdSchemas, ...(scope?.schemas ?? [])].filter((s) => platform === null || !isPlatformSchema(s)));
  for (const table of tables) {
    const parts = splitQualifiedName(table);
    if (parts) schemas.add(parts[0]);
  }
  return { mode: "schemas", schemas: [...schemas].sort(), tables };
}

export async function inspectTarget(url: string, display: string, footprint: RestoreFootprint, input: PlatformInput = { platform: null, neededExtensions: [] }): Promise<TargetInspection> {
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
    const roots = footprint.mode === "schemas" ? { schemas: existingSchemas, tables: [] } : footprint.mode === "tables" ? { schemas: [], tables: occupied } : null;
    // The app's own objects on platform tables go with its schemas, and the backup makes them again.
    const dependents = roots ? await outsideDependents(client, roots, input.platform?.attached ?? []) : [];
    const publications = roots ? await publicationMemberships(client, roots) : [];
    const inspection: TargetInspection = { footprint, existingSchemas, occupied, serverVersionNum: version, dependents, publications };
    if (input.platform) {
      inspection.platform = await inspectPlatform(client, input.platform);
      inspection.occupied = [...occupied, ...inspection.platform.filledTables];
    }
    if (input.neededExtensions.length > 0) inspection.extensions = await checkExtensions(client, input.neededExtensions);
    return inspection;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What dropping `roots` with CASCADE would take along that is not part of them, as the server's
 * catalogs say (pg_depend): a column whose type lives in a dropped schema, a foreign key, view or
 * trigger elsewhere that uses a dropped table or function. Everything inside the roots (their
 * objects, the triggers, constraints and indexes of their tables, the extensions installed in
 * them) goes on purpose; casts go with their types; publication memberships are put back. */
const OUTSIDE_DEPENDENTS_SQL = `
WITH RECURSIVE inside(classid, objid) AS (
    SELECT 'pg_namespace'::regclass::oid, n.oid FROM pg_namespace n WHERE n.nspname = ANY($1::text[])
  UNION
    SELECT 'pg_class'::regclass::oid, c.oid FROM pg_class c WHERE c.oid = ANY($2::regclass[])
  UNION
    SELECT d.classid, d.objid FROM pg_depend d JOIN inside i ON d.refclassid = i.classid AND d.refobjid = i.objid
     WHERE d.deptype IN ('a', 'i', 'e') OR (d.deptype = 'n' AND i.classid = 'pg_namespace'::regclass::oid)
)
SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid) AS dependent,
       pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) AS needs
  FROM pg_depend d JOIN inside i ON d.refclassid = i.classid AND d.refobjid = i.objid
 WHERE d.deptype IN ('n', 'P', 'S')
   AND NOT EXISTS (SELECT 1 FROM inside j WHERE j.classid = d.classid AND j.objid = d.objid)
   AND d.classid NOT IN ('pg_publication_rel'::regclass, 'pg_cast'::regclass)
   AND NOT (d.classid = 'pg_trigger'::regclass AND EXISTS (
         SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE t.oid = d.objid AND format('%s.%s.%s', n.nspname, c.relname, t.tgname) = ANY($3::text[])))
   AND NOT (d.classid = 'pg_policy'::regclass AND EXISTS (
         SELECT 1 FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE p.oid = d.objid AND format('%s.%s.%s', n.nspname, c.relname, p.polname) = ANY($3::text[])))
 ORDER BY 1, 2`;

async function outsideDependents(client: pg.Client, roots: { schemas: string[]; tables: string[] }, attached: AttachedObject[]): Promise<string[]> {
  if (roots.schemas.length === 0 && roots.tables.length === 0) return [];
  const remade = attached.filter((o) => o.kind !== "index").map((o) => `${o.schema}.${o.table}.${o.name}`);
  const rows = (await client.query<{ dependent: string; needs: string }>(OUTSIDE_DEPENDENTS_SQL, [roots.schemas, roots.tables, remade])).rows;
  const byDependent = new Map<string, string[]>();
  for (const r of rows) byDependent.set(r.dependent, [...(byDependent.get(r.dependent) ?? []), r.needs]);
  return [...byDependent].map(([dependent, needs]) => `${dependent} (needs ${needs.join(", ")})`);
}

async function publicationMemberships(client: pg.Client, roots: { schemas: string[]; tables: string[] }): Promise<{ publication: string; table: string }[]> {
  return (
    await client.query<{ publication: string; table: string }>(
      `SELECT p.pubname AS publication, format('%I.%I', n.nspname, c.relname) AS table
         FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
         JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY($1::text[]) OR c.oid = ANY($2::regclass[]) ORDER BY 1, 2`,
      [roots.schemas, roots.tables],
    )
  ).rows;
}

/** "pmoves_core.content_items, archon.settings and 10 more" */
export function describeTables(tables: string[], shown = 3): string {
  const head = tables.slice(0, shown).join(", ");
  return tables.length > shown ? `${head} and ${tables.length - shown} more` : head;
}
