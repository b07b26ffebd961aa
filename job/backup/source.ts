// One connection to the source for the length of a backup: its version, the scope resolved
// against its schemas (a scope that matches nothing is an error, not an empty backup), and an
// advisory lock so two runs of the same type never overlap (released if the run dies).
import pg from "pg";
import { SUPABASE_MANAGED_SCHEMAS, type BackupType } from "../core/catalog";
import { DbBackupError, usageError } from "../core/errors";
import type { BackupScope } from "../inventory";
import { connectPg, type PgConnection } from "../postgres/connection";

export interface ScopeRequest {
  schemas: string[];
  tables: string[];
  schemaOnly: boolean;
  dataOnly: boolean;
  noAcl: boolean;
}

export interface SourceSession {
  serverVersion: string;
  scope: BackupScope;
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
    const scope = await resolveScope(client, request);
    const exclusive = async <T>(fn: () => Promise<T>): Promise<T> => {
      await client.query("SELECT pg_advisory_lock(hashtext('db-backup'), hashtext('allocate-id'))");
      try {
        return await fn();
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext('db-backup'), hashtext('allocate-id'))");
      }
    };
    return { serverVersion: version, scope, exclusive, close: () => client.end().catch(() => undefined) };
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

async function resolveScope(client: pg.Client, request: ScopeRequest): Promise<BackupScope> {
  const base = { tables: request.tables, schemaOnly: request.schemaOnly, dataOnly: request.dataOnly, noAcl: request.noAcl, noOwner: true };
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
    return { ...base, schemas: request.schemas, excludedSchemas: [] };
  }
  const excluded = SUPABASE_MANAGED_SCHEMAS.map((p) => new RegExp("^" + p.replace(/\*/g, ".*") + "$"));
  const kept = existing.filter((s) => !excluded.some((re) => re.test(s)));
  if (kept.length === 0 && request.tables.length === 0) {
    throw usageError("the default scope matches no schema (only Supabase-managed ones exist): name one with --schema");
  }
  return { ...base, schemas: null, excludedSchemas: [...SUPABASE_MANAGED_SCHEMAS] };
}
