// libpq tools get the connection URL without its password (which would show in `ps`); the
// password travels in PGPASSWORD in the child's environment only.
import { redactUrl } from "./redact";

export interface PgConnection {
  /** For pg_dump --dbname / psql -d: the URL without password. */
  url: string;
  /** Environment for the child process. */
  env: NodeJS.ProcessEnv;
  /** For messages and manifests. */
  display: string;
}

export function pgConnection(url: string, extraEnv: NodeJS.ProcessEnv = process.env): PgConnection {
  const parsed = new URL(url);
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  parsed.password = "";
  const env: NodeJS.ProcessEnv = { ...extraEnv, PGCONNECT_TIMEOUT: extraEnv.PGCONNECT_TIMEOUT ?? "15", PGAPPNAME: "db-backup" };
  delete env.PGPASSWORD;
  if (password !== undefined) env.PGPASSWORD = password;
  return { url: parsed.toString(), env, display: displayDatabase(url) };
}

/** host:port/database, the way manifests and events name a database. */
export function displayDatabase(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}/${decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "postgres"}`;
  } catch {
    return redactUrl(url);
  }
}

/** A different database on the same server. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = "/" + encodeURIComponent(database);
  return parsed.toString();
}
