// The drill's scratch database: created for one run on VERIFY_DB_URL's server and always dropped.
// While a run uses it, the run holds a session advisory lock named after it on the server's
// maintenance database; a scratch database nobody holds is a leftover of a run that died (even one
// killed with SIGKILL) and the next drill drops it before it starts, so no copy of the customer's
// rows stays on the scratch server.
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { failure, oneLine } from "../core/errors";
import { timestampPart } from "../core/ids";
import { connectPg, displayDatabase, withDatabase } from "../postgres/connection";
import { quoteIdent } from "../postgres/sql";

export const SCRATCH_PREFIX = "dbbackup_verify_";
const LOCK_SQL = "hashtext('db-backup-verify'), hashtext($1)";

export function serverOf(url: string): string {
  return displayDatabase(url).replace(/\/[^/]*$/, "");
}

async function connectServer(serverUrl: string): Promise<pg.Client> {
  try {
    const client = await connectPg(serverUrl);
    client.on("error", () => undefined);
    return client;
  } catch (error) {
    throw failure(`cannot connect to the verification server ${serverOf(serverUrl)} (VERIFY_DB_URL): ${oneLine(error)}`, error);
  }
}

/** Drops scratch databases no running drill holds; returns their names. */
export async function dropLeftoverScratch(admin: pg.Client): Promise<string[]> {
  const names = (await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1`, [`${SCRATCH_PREFIX.replace(/_/g, "\\_")}%`])).rows.map((r) => r.datname);
  const dropped: string[] = [];
  for (const name of names) {
    if (!(await admin.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_SQL}) AS ok`, [name])).rows[0]!.ok) continue;
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      dropped.push(name);
    } finally {
      await admin.query(`SELECT pg_advisory_unlock(${LOCK_SQL})`, [name]);
    }
  }
  return dropped;
}

/**
 * Runs `fn` with a new scratch database's URL. The database is named for this run, held by this
 * run's advisory lock for as long as it exists, and dropped afterwards whatever happened.
 */
export async function withScratchDatabase<T>(serverUrl: string, now: Date, fn: (url: string, name: string) => Promise<T>, onLeftovers?: (names: string[]) => void): Promise<T> {
  const admin = await connectServer(serverUrl);
  const name = `${SCRATCH_PREFIX}${timestampPart(now)}_${randomBytes(3).toString("hex")}`;
  try {
    const leftovers = await dropLeftoverScratch(admin);
    if (leftovers.length > 0) onLeftovers?.(leftovers);
    await admin.query(`SELECT pg_advisory_lock(${LOCK_SQL})`, [name]);
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    try {
      return await fn(withDatabase(serverUrl, name), name);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(async () => {
        // The admin session may be what failed: drop it from a new one.
        const again = await connectServer(serverUrl);
        try {
          await again.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
        } finally {
          await again.end().catch(() => undefined);
        }
      });
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
}
