// One connection to the source for the length of a backup: its version, its profile (a Supabase
// project, or plain PostgreSQL), the scope resolved against its schemas (a scope that matches
// nothing is an error, not an empty backup), what the backup will hold beyond rows (the platform's
// data tables, extensions, roles), and an advisory lock so two runs of the same type never overlap
// (released if the run dies).
import pg from "pg";
import { PLATFORM_DATA_SCHEMAS, PLATFORM_MIGRATION_TABLES, SUPABASE_MANAGED_SCHEMAS, type BackupProfile, type BackupType } from "../core/catalog";
import { DbBackupError, usageError } from "../core/errors";
import type { BackupScope } from "../inventory";
import { connectPg, type PgConnection } from "../postgres/connection";
import { readIdentity } from "../postgres/identity";
import { quoteIdent, readQuoted } from "../postgres/sql";
import { detectProfile, extensionRecords, platformContents, referencedRoles, type ExtensionRecord, type PlatformContents } from "../postgres/supabase";

export interface ScopeRequest {
  schemas: string[];
  tables: string[];
  schemaOnly: boolean;
  dataOnly: boolean;
  noAcl: boolean;
  /** supabase or postgres; undefined: detected from the source. */
  profile?: BackupProfile;
}

/** What a backup holds beyond its rows, read from the source's catalogs (recorded in the manifest). */
export interface SourceContents {
  platform?: PlatformContents;
  extensions?: ExtensionRecord[];
  roles?: string[];
}

export interface SourceSession {
  serverVersion: string;
  /** The cluster's system identifier, when the server lets this role read it. */
  systemId: string | null;
  scope: BackupScope;
  contents: SourceContents;
  /** Runs `fn` while no other run against this database does (id allocation). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openSource(
  url: string,
  connection: PgConnection,
  type: BackupType,
  request: ScopeRequest,
): Promise<SourceSession> {
  if (request.schemaOnly && request.dataOnly) throw usageError("--schema-only and --data-only exclude each other: give one");
  const client = await connectSource(url, connection);
  client.on("error", () => undefined); // the lock connection dying ends the run's lock; pg_dump's exit reports it
  try {
    const locked = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext('db-backup'), hashtext($1)) AS ok", [type]);
    if (!locked.rows[0]?.ok) {
      throw new DbBackupError(
        "refused",
        `another \`db-backup create --type ${type}\` is running against ${connection.display}: wait for it to finish (its lock ends with its connection)`,
      );
    }
    const version = (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]!.server_version;
    const systemId = await readIdentity(client).then((id) => id.systemId, () => null);
    const { scope, contents } = await resolveScope(client, request);
    const exclusive = async <T>(fn: () => Promise<T>): Promise<T> => {
      await client.query("SELECT pg_advisory_lock(hashtext('db-backup'), hashtext('allocate-id'))");
      try {
        return await fn();
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext('db-backup'), hashtext('allocate-id'))");
      }
    };
    return { serverVersion: version, systemId, scope, contents, exclusive, close: () => client.end().catch(() => undefined) };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

async function connectSource(url: string, connection: PgConnection): Promise<pg.Client> {
  try {
    return await connectPg(url);
  } catch (error) {
    let why = (error as Error).message;
    // node-postgres says this when the server wants a password and the URL carries none.
    if (/client password must be a string|no password supplied/i.test(why)) {
      why = "the server asks for a password and the URL has none: use postgres://user:password@host/database";
    }
    throw new DbBackupError("failed", `cannot connect to the source database ${connection.display}: ${why}`);
  }
}

/** `--table` names without wildcards are exact: one that matches no relation is refused before
 * the backup takes an id (pg_dump's --strict-names would only say so after). Patterns with * or ?
 * are pg_dump's to match. Unquoted parts fold to lowercase, as in pg_dump's patterns. */
async function refuseMissingTables(client: pg.Client, tables: string[]): Promise<void> {
  const missing: string[] = [];
  for (const pattern of tables) {
    const parts = splitPattern(pattern);
    if (!parts || parts.some((p) => !p.quoted && /[*?]/.test(p.text))) continue;
    const names = parts.map((p) => (p.quoted ? p.text : p.text.toLowerCase()));
    // database.schema.table names the table in this database only, as pg_dump reads it.
    if (names.length === 3 && names.shift() !== (await client.query<{ db: string }>("SELECT current_database() AS db")).rows[0]!.db) {
      missing.push(pattern);
      continue;
    }
    const found = await client
      .query<{ found: boolean }>("SELECT to_regclass($1) IS NOT NULL AS found", [names.map(quoteIdent).join(".")])
      .then((r) => r.rows[0]!.found, () => false);
    if (!found) missing.push(pattern);
  }
  if (missing.length > 0) {
    throw usageError(`table ${missing.map((t) => `"${t}"`).join(", ")} does not exist in the source database (or is not visible to its user): check --table`);
  }
}

/** A pg_dump name pattern's dot-separated parts, quoted ones kept literal; null when malformed. */
function splitPattern(pattern: string): { text: string; quoted: boolean }[] | null {
  const parts: { text: string; quoted: boolean }[] = [];
  let i = 0;
  while (i <= pattern.length) {
    if (pattern[i] === '"') {
      const quoted = readQuoted(pattern, i, '"');
      if (!quoted) return null;
      parts.push({ text: quoted.value, quoted: true });
      i = quoted.end;
    } else {
      const dot = pattern.indexOf(".", i);
      const end = dot === -1 ? pattern.length : dot;
      parts.push({ text: pattern.slice(i, end), quoted: false });
      i = end;
    }
    if (i >= pattern.length) break;
    if (pattern[i] !== ".") return null;
    i++;
  }
  return parts.length >= 1 && parts.length <= 3 && parts.every((p) => p.quoted || p.text.length > 0) ? parts : null;
}

async function resolveScope(client: pg.Client, request: ScopeRequest): Promise<{ scope: BackupScope; contents: SourceContents }> {
  await refuseMissingTables(client, request.tables);
  const profile = request.profile ?? (await detectProfile(client));
  const base = { profile, tables: request.tables, schemaOnly: request.schemaOnly, dataOnly: request.dataOnly, noAcl: request.noAcl, noOwner: true };
  const existing = (
    await client.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1",
    )
  ).rows.map((r) => r.nspname);
  if (request.schemas.length > 0) {
    const missing = request.schemas.filter((s) => !existing.includes(s));
    if (missing.length > 0) {
      throw usageError(`schema ${missing.map((s) => `"${s}"`).join(", ")} does not exist in the source database: check --schema / BACKUP_SCHEMAS`);
    }
    const scope: BackupScope = { ...base, schemas: request.schemas, excludedSchemas: [] };
    return { scope, contents: request.tables.length > 0 ? {} : await recordedContents(client, request.schemas, request.noAcl) };
  }
  // The default scope: the app's schemas, every schema but the platform's. A Supabase project's
  // backup keeps the rows of the platform tables that hold its data too (their structure is the
  // platform's, restored only where a target lacks it), never the migration history.
  const keepsPlatformData = profile === "supabase";
  const excludedSchemas = SUPABASE_MANAGED_SCHEMAS.filter((s) => !(keepsPlatformData && (PLATFORM_DATA_SCHEMAS as readonly string[]).includes(s)));
  const managed = SUPABASE_MANAGED_SCHEMAS.map((p) => new RegExp("^" + p.replace(/\*/g, ".*") + "$"));
  const appSchemas = existing.filter((s) => !managed.some((re) => re.test(s)));
  if (appSchemas.length === 0 && request.tables.length === 0 && !keepsPlatformData) {
    throw usageError("the default scope matches no schema (only Supabase-managed ones exist): name one with --schema");
  }
  const scope: BackupScope = {
    ...base,
    schemas: null,
    excludedSchemas: [...excludedSchemas],
    ...(keepsPlatformData ? { excludedTableData: [...PLATFORM_MIGRATION_TABLES] } : {}),
  };
  if (request.tables.length > 0) return { scope, contents: {} };
  const contents = await recordedContents(client, appSchemas, request.noAcl);
  if (!keepsPlatformData) return { scope, contents };
  const platform = await platformContents(client, appSchemas);
  const withPlatform = [...appSchemas, ...platform.schemas];
  return {
    scope,
    contents: { ...contents, platform, extensions: await extensionRecords(client, withPlatform), roles: await referencedRoles(client, withPlatform, request.noAcl ? [] : appSchemas) },
  };
}

/** The extensions and roles of a backup of `schemas`. */
async function recordedContents(client: pg.Client, schemas: string[], noAcl: boolean): Promise<SourceContents> {
  return { extensions: await extensionRecords(client, schemas), roles: await referencedRoles(client, schemas, noAcl ? [] : schemas) };
}
