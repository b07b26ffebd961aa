// A restore that waits for a lock on its target (`--clean` behind a session idle in a transaction)
// says who holds it while it waits, and gives up after the lock timeout naming them, instead of
// waiting silently forever. A second session to the target watches the restore's own.
import type pg from "pg";
import { oneLine } from "../core/errors";
import type { Logger } from "../core/context";
import { SECOND_MS } from "../core/time";
import { connectPg } from "../postgres/connection";

/** SQLSTATE lock_not_available: a statement's lock_timeout ran out. */
export const LOCK_TIMEOUT_SQLSTATE = "55P03";

export interface LockWatch {
  /** The restore's own backend pid, once its session is open. */
  watch(pid: number): void;
  /** The sessions it waited for most recently, described; when the wait was too short to be seen,
   * the other sessions holding locks in the target's database now. */
  blockers(): Promise<string[]>;
  stop(): Promise<void>;
}

export function watchLockWaits(url: string, log: Logger, everyMs = SECOND_MS / 4): LockWatch {
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;
  let last: string[] = [];
  let said = "";
  let busy = false;
  const poll = async (pid: number) => {
    if (busy) return;
    busy = true;
    try {
      client ??= await connectPg(url);
      const rows = (
        await client.query<SessionRow>(
          `SELECT pid, usename, application_name, state, to_char(coalesce(xact_start, backend_start) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS since
             FROM pg_stat_activity WHERE pid = ANY(pg_blocking_pids($1)) ORDER BY pid`,
          [pid],
        )
      ).rows;
      if (rows.length === 0) return;
      last = rows.map(describe);
      const now = last.join("; ");
      if (now !== said) log.warn(`the restore is waiting for a lock on the target held by ${now}`);
      said = now;
    } catch (error) {
      log.warn(`could not check the target for lock waits: ${oneLine(error)}`);
      if (timer) clearInterval(timer);
      timer = null;
    } finally {
      busy = false;
    }
  };
  return {
    watch(pid) {
      timer = setInterval(() => void poll(pid), everyMs);
      timer.unref();
    },
    blockers: async () => {
      if (last.length > 0) return last;
      try {
        client ??= await connectPg(url);
        return (
          await client.query<SessionRow>(
            `SELECT DISTINCT a.pid, a.usename, a.application_name, a.state,
                    to_char(coalesce(a.xact_start, a.backend_start) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS since
               FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE l.granted AND l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND a.pid <> pg_backend_pid() AND a.application_name <> 'db-backup' ORDER BY a.pid`,
          )
        ).rows.map(describe);
      } catch {
        return [];
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await client?.end().catch(() => undefined);
    },
  };
}

interface SessionRow {
  pid: number;
  usename: string | null;
  application_name: string;
  state: string | null;
  since: string | null;
}

const describe = (r: SessionRow) =>
  `pid ${r.pid} (user ${r.usename ?? "?"}${r.application_name ? `, application ${r.application_name}` : ""}, ${r.state ?? "unknown state"} since ${r.since} UTC)`;
