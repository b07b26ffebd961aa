// Which database a connection reached, as the server says it: the cluster's system identifier
// (fixed at initdb, the same on its physical replicas and copies) and the database's name. Two
// URLs spelled differently (127.1, a host name, a socket, ?dbname=, ?port=) reach the same
// database exactly when these agree, so the production gate compares these, never URL text.
import type pg from "pg";
import { usageError } from "../core/errors";
import { connectPg } from "./connection";

export interface DatabaseIdentity {
  /** pg_control_system().system_identifier, as text (it is a 64-bit number). */
  systemId: string;
  database: string;
}

/** `<system identifier>/<database>`, how settings and messages write an identity. */
export function formatIdentity(id: DatabaseIdentity): string {
  return `${id.systemId}/${id.database}`;
}

/** Reads `<system identifier>/<database>` (PRODUCTION_DB_ID). */
export function parseIdentity(text: string, name: string): DatabaseIdentity {
  const m = /^(\d{1,20})\/(.+)$/.exec(text.trim());
  if (!m) {
    throw usageError(
      `${name} "${text}" is not <system identifier>/<database>: read it on the production server with SELECT system_identifier FROM pg_control_system(); e.g. 7301234567890123456/postgres`,
    );
  }
  return { systemId: m[1]!, database: m[2]! };
}

export function sameIdentity(a: DatabaseIdentity, b: DatabaseIdentity): boolean {
  return a.systemId === b.systemId && a.database === b.database;
}

/** The identity of the database `client` is connected to. */
export async function readIdentity(client: pg.Client): Promise<DatabaseIdentity> {
  const row = (await client.query<{ system_id: string; database: string }>(
    "SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system_id, current_database() AS database",
  )).rows[0]!;
  return { systemId: row.system_id, database: row.database };
}

/** Connects, reads the identity, disconnects. */
export async function identityOf(url: string): Promise<DatabaseIdentity> {
  const client = await connectPg(url);
  try {
    return await readIdentity(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
