// libpq tools get the connection URL without its password (which would show in `ps`); the
// password travels in PGPASSWORD in the child's environment only.
import pg from "pg";
import { redactUrl } from "../core/redact";

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

/** The URL for node-postgres, made to treat `sslmode` as libpq (pg_dump, psql) does: without
 * this, node-postgres takes require/verify-ca as verify-full and warns, so the job's own
 * connection and pg_dump's would disagree on the same URL. */
export function nodePgUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.searchParams.has("sslmode") && !parsed.searchParams.has("uselibpqcompat")) {
    parsed.searchParams.set("uselibpqcompat", "true");
  }
  return parsed.toString();
}

/**
 * A node-postgres client connected as libpq (pg_dump, psql) would connect with the same URL: the
 * sslmode default is libpq's (PGSSLMODE, else prefer: SSL when the server has it, unverified), and
 * prefer/allow fall back to a plain connection when the server has no SSL. Use this rather than
 * `new pg.Client(nodePgUrl(url))` so the job's own connection never disagrees with its tools'.
 */
export async function connectPg(url: string, config: Omit<pg.ClientConfig, "connectionString"> = {}): Promise<pg.Client> {
  const parsed = new URL(url);
  if (!parsed.searchParams.has("sslmode")) parsed.searchParams.set("sslmode", process.env.PGSSLMODE || "prefer");
  const attempt = async (u: string) => {
    const client = new pg.Client({ connectionTimeoutMillis: 15_000, application_name: "db-backup", ...config, connectionString: nodePgUrl(u) });
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  };
  try {
    return await attempt(parsed.toString());
  } catch (error) {
    const plain = withoutSsl(parsed.toString());
    if (plain && /does not support SSL/i.test((error as Error).message)) return attempt(plain);
    throw error;
  }
}

/** libpq's sslmode=prefer/allow fall back to a plain connection when the server has no SSL;
 * node-postgres cannot, so the caller retries with this URL. */
export function withoutSsl(url: string): string | null {
  const parsed = new URL(url);
  const mode = parsed.searchParams.get("sslmode");
  if (mode !== "prefer" && mode !== "allow") return null;
  parsed.searchParams.set("sslmode", "disable");
  return parsed.toString();
}

interface ServerAddress {
  host: string;
  port: string;
  database: string;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

function address(url: string): ServerAddress | null {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname.toLowerCase();
    return {
      host: LOOPBACK.has(host) ? "loopback" : host,
      port: parsed.port || "5432",
      // libpq's default database is the user's name.
      database: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || decodeURIComponent(parsed.username) || "postgres",
    };
  } catch {
    return null;
  }
}

/** Same server (host and port), whatever the database: "localhost" and 127.0.0.1 count as one. */
export function sameServer(a: string, b: string): boolean {
  const x = address(a);
  const y = address(b);
  return x !== null && y !== null && x.host === y.host && x.port === y.port;
}

/** Same database on the same server. */
export function sameDatabase(a: string, b: string): boolean {
  return sameServer(a, b) && address(a)!.database === address(b)!.database;
}
