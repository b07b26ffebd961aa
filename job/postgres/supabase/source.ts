// What a backup holds beyond its rows, read from the source's catalogs while it is dumped: the
// platform tables whose data it keeps and the objects on them a target may lack (a Supabase
// backup), the extensions its objects need, and the roles its grants and policies name. Recorded in
// the manifest, so a restore can check its target, and list/status can say what a backup holds.
import type pg from "pg";
import { PLATFORM_DATA_SCHEMAS, PLATFORM_MIGRATION_TABLES, SUPABASE_MANAGED_SCHEMAS } from "../../core/catalog";

/** An object on a platform table that a restore creates where the target lacks it. */
export interface AttachedObject {
  kind: "trigger" | "policy" | "index";
  schema: string;
  table: string;
  name: string;
}

export interface PlatformContents {
  /** The platform data schemas the source has (and the dump holds). */
  schemas: string[];
  /** Their tables whose rows the dump holds ("schema"."table", quoted as needed). */
  dataTables: string[];
  /** On those tables: the app's triggers (their function is not the platform's) and policies, and
   * the tables' indexes (a project already has the platform's own; one the app added it lacks). */
  attached: AttachedObject[];
  /** The app's tables in the platform's publications (Realtime's supabase_realtime): the dump does
   * not carry publications, a project has its own, and the restore adds the tables back to them. */
  publications?: { publication: string; table: string }[];
}

export interface ExtensionRecord {
  name: string;
  schema: string;
  version: string;
  /** Whether the dumped objects need it (a column type, a default, an index, a view use it). */
  needed: boolean;
}

/** The platform's own schemas, by exact name (the patterns of SUPABASE_MANAGED_SCHEMAS aside). */
const PLATFORM_SCHEMAS = SUPABASE_MANAGED_SCHEMAS.filter((s) => !s.includes("*"));

export async function platformContents(client: pg.Client, appSchemas: string[]): Promise<PlatformContents> {
  const schemas = (
    await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[]) ORDER BY 1", [[...PLATFORM_DATA_SCHEMAS]])
  ).rows.map((r) => r.nspname);
  // What pg_dump dumps the rows of: the schemas' own tables, and the configuration tables of the
  // extensions that own a schema (cron.job, …), never the migration history.
  const dataTables = (
    await client.query<{ name: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY($1::text[]) AND c.relkind = 'r'
          AND format('%s.%s', n.nspname, c.relname) <> ALL($2::text[])
          AND (NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
               OR EXISTS (SELECT 1 FROM pg_extension e WHERE c.oid = ANY (e.extconfig)))
        ORDER BY 1`,
      [schemas, [...PLATFORM_MIGRATION_TABLES]],
    )
  ).rows.map((r) => r.name);
  const attached = (
    await client.query<AttachedObject>(
      `WITH data_tables AS (SELECT unnest($1::text[])::regclass AS oid)
       SELECT 'trigger' AS kind, n.nspname AS schema, c.relname AS table, t.tgname AS name
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace fn ON fn.oid = p.pronamespace
        WHERE NOT t.tgisinternal AND c.oid IN (SELECT oid FROM data_tables) AND fn.nspname <> ALL($2::text[])
       UNION ALL
       SELECT 'policy', n.nspname, c.relname, pol.polname
         FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid IN (SELECT oid FROM data_tables)
       UNION ALL
       SELECT 'index', n.nspname, c.relname, i.relname
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid IN (SELECT oid FROM data_tables) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = c.oid)
        ORDER BY 1, 2, 3, 4`,
      [dataTables, PLATFORM_SCHEMAS],
    )
  ).rows;
  const publications = (
    await client.query<{ publication: string; table: string }>(
      `SELECT p.pubname AS publication, format('%I.%I', n.nspname, c.relname) AS table
         FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
         JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY($1::text[]) ORDER BY 1, 2`,
      [appSchemas],
    )
  ).rows;
  return { schemas, dataTables, attached, ...(publications.length > 0 ? { publications } : {}) };
}

/** Every extension of the source (but plpgsql), and whether an object in `schemas` needs it: it
 * depends on one of the extension's objects (a type, a function in a default or an index), or the
 * dump holds the rows of one of its configuration tables. */
export async function extensionRecords(client: pg.Client, schemas: string[]): Promise<ExtensionRecord[]> {
  return (
    await client.query<ExtensionRecord>(
      `WITH dumped AS (SELECT oid FROM pg_namespace WHERE nspname = ANY($1::text[])),
       objs(classid, objid) AS (
           SELECT 'pg_class'::regclass, c.oid FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM dumped)
         UNION ALL SELECT 'pg_type'::regclass, t.oid FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM dumped)
         UNION ALL SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM dumped)
         UNION ALL SELECT 'pg_attrdef'::regclass, a.oid FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid WHERE c.relnamespace IN (SELECT oid FROM dumped)
         UNION ALL SELECT 'pg_constraint'::regclass, k.oid FROM pg_constraint k WHERE k.connamespace IN (SELECT oid FROM dumped)
         UNION ALL SELECT 'pg_rewrite'::regclass, r.oid FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE c.relnamespace IN (SELECT oid FROM dumped)
         UNION ALL SELECT 'pg_trigger'::regclass, t.oid FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace IN (SELECT oid FROM dumped)
         UNION ALL SELECT 'pg_policy'::regclass, p.oid FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace IN (SELECT oid FROM dumped)
       ),
       own AS (
         SELECT o.* FROM objs o
          WHERE NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = o.classid AND x.objid = o.objid AND x.deptype = 'e')
       ),
       needed AS (
           SELECT m.refobjid AS ext FROM own o
             JOIN pg_depend d ON d.classid = o.classid AND d.objid = o.objid
             JOIN pg_depend m ON m.classid = d.refclassid AND m.objid = d.refobjid AND m.refclassid = 'pg_extension'::regclass AND m.deptype = 'e'
         UNION
           SELECT e.oid FROM pg_extension e
            WHERE EXISTS (SELECT 1 FROM unnest(e.extconfig) AS k(oid) JOIN pg_class c ON c.oid = k.oid WHERE c.relnamespace IN (SELECT oid FROM dumped))
       )
       SELECT e.extname AS name, n.nspname AS schema, e.extversion AS version, e.oid IN (SELECT ext FROM needed) AS needed
         FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname <> 'plpgsql'
        ORDER BY 1`,
      [schemas],
    )
  ).rows;
}

/** The roles the dump's grants (on `aclSchemas`' objects, unless there are none) and policies (on
 * `schemas`' tables) name: the roles a target needs for them. */
export async function referencedRoles(client: pg.Client, schemas: string[], aclSchemas: string[]): Promise<string[]> {
  return (
    await client.query<{ rolname: string }>(
      `WITH acl_schemas AS (SELECT oid FROM pg_namespace WHERE nspname = ANY($2::text[])),
       acls(acl) AS (
           SELECT nspacl FROM pg_namespace WHERE oid IN (SELECT oid FROM acl_schemas)
         UNION ALL SELECT relacl FROM pg_class WHERE relnamespace IN (SELECT oid FROM acl_schemas)
         UNION ALL SELECT proacl FROM pg_proc WHERE pronamespace IN (SELECT oid FROM acl_schemas)
         UNION ALL SELECT typacl FROM pg_type WHERE typnamespace IN (SELECT oid FROM acl_schemas)
       ),
       named(role) AS (
           -- An owner's own privileges (grantor = grantee) name no role a target needs.
           SELECT a.grantee FROM acls, aclexplode(acls.acl) AS a WHERE acls.acl IS NOT NULL AND a.grantor <> a.grantee
         UNION
           SELECT unnest(p.polroles) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY($1::text[])
       )
       SELECT DISTINCT r.rolname FROM named JOIN pg_roles r ON r.oid = named.role ORDER BY 1`,
      [schemas, aclSchemas],
    )
  ).rows.map((r) => r.rolname);
}
