// What a restore target already has of what a Supabase backup brings: the platform's schemas (a
// Supabase project has them, plain PostgreSQL does not), the data tables the backup fills (missing
// from a platform that is older than the backup's, or already holding rows), the objects the backup
// attaches to them, and the extensions its objects need. Read only, before anything is written.
import type pg from "pg";
import type { AttachedObject, ExtensionRecord, PlatformContents } from "./source";

export interface PlatformTarget {
  /** The backup's platform schemas the target has: their structure is the target's own. */
  presentSchemas: string[];
  /** Tables the backup fills that a present schema lacks. */
  missingTables: string[];
  /** Tables the backup fills that the target has. */
  presentTables: string[];
  /** Of those, the ones holding rows. */
  filledTables: string[];
  /** Attached objects the target has. */
  presentAttached: AttachedObject[];
  /** The publications the backup's tables belonged to that the target has. */
  publications: string[];
}

export async function inspectPlatform(client: pg.Client, platform: PlatformContents): Promise<PlatformTarget> {
  const presentSchemas = (
    await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[]) ORDER BY 1", [platform.schemas])
  ).rows.map((r) => r.nspname);
  const tables = (
    await client.query<{ name: string; present: boolean; schema: string }>(
      "SELECT t AS name, to_regclass(t) IS NOT NULL AS present, (parse_ident(t))[1] AS schema FROM unnest($1::text[]) AS t",
      [platform.dataTables],
    )
  ).rows;
  const presentTables = tables.filter((t) => t.present).map((t) => t.name);
  const missingTables = tables.filter((t) => !t.present && presentSchemas.includes(t.schema)).map((t) => t.name);
  const filledTables: string[] = [];
  for (const table of presentTables) {
    // Each name was made by format('%I.%I') on the source and checked by to_regclass here.
    const { rows } = await client.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ONLY ${table}) AS any`);
    if (rows[0]?.any) filledTables.push(table);
  }
  const presentAttached: AttachedObject[] = [];
  for (const object of platform.attached) {
    if (await attachedExists(client, object)) presentAttached.push(object);
  }
  const wanted = [...new Set((platform.publications ?? []).map((p) => p.publication))];
  const publications = (await client.query<{ pubname: string }>("SELECT pubname FROM pg_publication WHERE pubname = ANY($1::text[]) ORDER BY 1", [wanted])).rows.map((r) => r.pubname);
  return { presentSchemas, missingTables, presentTables, filledTables, presentAttached, publications };
}

async function attachedExists(client: pg.Client, o: AttachedObject): Promise<boolean> {
  const sql =
    o.kind === "trigger"
      ? `SELECT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE n.nspname = $1 AND c.relname = $2 AND t.tgname = $3 AND NOT t.tgisinternal) AS found`
      : o.kind === "policy"
        ? `SELECT EXISTS (SELECT 1 FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE n.nspname = $1 AND c.relname = $2 AND p.polname = $3) AS found`
        : `SELECT EXISTS (SELECT 1 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
                           JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE n.nspname = $1 AND c.relname = $2 AND i.relname = $3) AS found`;
  return (await client.query<{ found: boolean }>(sql, [o.schema, o.table, o.name])).rows[0]?.found ?? false;
}

export interface ExtensionCheck {
  /** Needed extensions the target has, in the schema the backup's objects name them in. */
  present: ExtensionRecord[];
  /** Needed ones it lacks, with where they are instead (another schema), whether the server has
   * their package, and whether a role without superuser may make them (`trusted`). */
  missing: { extension: ExtensionRecord; installedIn: string | null; available: boolean; trusted: boolean }[];
}

export async function checkExtensions(client: pg.Client, needed: ExtensionRecord[]): Promise<ExtensionCheck> {
  if (needed.length === 0) return { present: [], missing: [] };
  const installed = new Map(
    (
      await client.query<{ name: string; schema: string }>(
        "SELECT e.extname AS name, n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = ANY($1::text[])",
        [needed.map((e) => e.name)],
      )
    ).rows.map((r) => [r.name, r.schema]),
  );
  const available = new Map(
    (
      await client.query<{ name: string; trusted: boolean }>(
        "SELECT name, bool_or(trusted) AS trusted FROM pg_available_extension_versions WHERE name = ANY($1::text[]) GROUP BY name",
        [needed.map((e) => e.name)],
      )
    ).rows.map((r) => [r.name, r.trusted]),
  );
  const present: ExtensionRecord[] = [];
  const missing: ExtensionCheck["missing"] = [];
  for (const extension of needed) {
    const schema = installed.get(extension.name);
    if (schema === extension.schema) present.push(extension);
    else missing.push({ extension, installedIn: schema ?? null, available: available.has(extension.name), trusted: available.get(extension.name) === true });
  }
  return { present, missing };
}
