// A database URL means one thing to every part of the job: it is read once, with libpq's rules
// (query parameters override the URL's parts, percent-encoded socket directories, the PG*
// environment as defaults), into the parameters both the job's own node-postgres sessions and the
// PostgreSQL tools connect with. The tools get those parameters as a conninfo string without any
// secret (what `ps` shows) and the password in PGPASSWORD, in an environment that holds nothing
// but their own connection's settings.
import { readFileSync, statSync } from "node:fs";
import os from "node:os";
import type { ConnectionOptions } from "node:tls";
import pg from "pg";
import { usageError } from "../core/errors";
import { redactUrl } from "../core/redact";

/** libpq keywords after parsing: host, port, dbname, user, password, sslmode, … */
export type ConnectionParams = Record<string, string>;

/** Keywords the job honours in its own sessions as the tools do. */
const SHARED_KEYWORDS = new Set([
  "host", "port", "dbname", "user", "password", "sslmode", "sslrootcert", "sslcert", "sslkey",
  "application_name", "fallback_application_name", "options", "connect_timeout", "channel_binding", "client_encoding",
]);
/** Keywords only the tools use, which change how, not where, they connect. */
const TOOL_ONLY_KEYWORDS = new Set([
  "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "gssencmode",
  "krbsrvname", "gsslib", "gssdelegation", "sslcompression", "sslsni", "sslcrl", "sslcrldir", "sslcertmode",
  "ssl_min_protocol_version", "ssl_max_protocol_version", "sslnegotiation", "require_auth", "requirepeer",
]);
/** The PG* variables libpq takes as defaults for what a URL leaves out. */
const ENV_DEFAULTS: Record<string, string> = {
  PGHOST: "host", PGPORT: "port", PGDATABASE: "dbname", PGUSER: "user", PGSSLMODE: "sslmode", PGSSLROOTCERT: "sslrootcert",
  PGSSLCERT: "sslcert", PGSSLKEY: "sslkey", PGAPPNAME: "application_name", PGCONNECT_TIMEOUT: "connect_timeout", PGOPTIONS: "options",
};
const SSL_MODES = new Set(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]);
/** libpq's compiled-in socket directory on Debian and in the job's image. */
const DEFAULT_SOCKET_DIR = "/var/run/postgresql";

/**
 * Reads a `postgres://` / `postgresql://` URL as libpq does (docs: "Connection URIs"):
 * `postgresql://[user[:password]@][host][:port][/dbname][?param=value&…]`, every part
 * percent-decoded, a host in brackets for IPv6, a host starting with `/` a socket directory, and
 * query parameters overriding the parts before them. Throws a usage error naming what is wrong.
 */
export function parseConnectionUrl(url: string, name = "the database URL", env: NodeJS.ProcessEnv = process.env): ConnectionParams {
  const m = /^postgres(?:ql)?:\/\/([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/.exec(url.trim());
  if (!m) throw usageError(`${name} is not a postgres:// URL: expected postgres://user:password@host:5432/database`);
  const [, authority = "", path, query] = m;
  const decode = (text: string, what: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw usageError(`${name} has a malformed percent-encoding in its ${what}`);
    }
  };
  const params: ConnectionParams = {};
  for (const [variable, keyword] of Object.entries(ENV_DEFAULTS)) {
    const value = env[variable];
    if (value !== undefined && value !== "") params[keyword] = value;
  }
  const at = authority.lastIndexOf("@");
  const userinfo = at === -1 ? null : authority.slice(0, at);
  const hostport = at === -1 ? authority : authority.slice(at + 1);
  if (userinfo !== null) {
    const colon = userinfo.indexOf(":");
    const user = decode(colon === -1 ? userinfo : userinfo.slice(0, colon), "user name");
    if (user) params.user = user;
    if (colon !== -1) params.password = decode(userinfo.slice(colon + 1), "password");
  }
  if (hostport.includes(",")) throw usageError(`${name} names several hosts: db-backup connects to one (give the primary's host)`);
  if (hostport) {
    const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostport);
    if (!hp) throw usageError(`${name} has a malformed host or port`);
    const host = decode(hp[1]!.replace(/^\[(.*)\]$/, "$1"), "host");
    if (host) params.host = host;
    if (hp[2]) params.port = hp[2];
  }
  if (path !== undefined && path !== "") params.dbname = decode(path, "database name");
  for (const pair of (query ?? "").split("&").filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq === -1) throw usageError(`${name} has a query parameter without a value ("${redactUrl(pair)}")`);
    let key = decode(pair.slice(0, eq), "query");
    const value = decode(pair.slice(eq + 1).replace(/\+/g, " "), "query");
    if (key === "ssl" && value === "true") key = "sslmode"; // JDBC's spelling, as libpq accepts it
    params[key] = key === "sslmode" && value === "true" ? "require" : value;
  }
  for (const key of Object.keys(params)) {
    if (!SHARED_KEYWORDS.has(key) && !TOOL_ONLY_KEYWORDS.has(key)) {
      throw usageError(`${name} has the parameter "${key}", which db-backup does not pass on (it connects to one host with: ${[...SHARED_KEYWORDS].filter((k) => k !== "password").join(", ")})`);
    }
  }
  if (params.sslmode && !SSL_MODES.has(params.sslmode)) throw usageError(`${name} has sslmode=${params.sslmode}: use disable, allow, prefer, require, verify-ca or verify-full`);
  if (params.port && !/^\d{1,5}$/.test(params.port)) throw usageError(`${name} has port "${params.port}", which is not a port number`);
  params.host ??= existsDir(DEFAULT_SOCKET_DIR) ? DEFAULT_SOCKET_DIR : "localhost";
  params.port ??= "5432";
  params.user ??= os.userInfo().username;
  params.dbname ??= params.user;
  params.sslmode ??= "prefer";
  return params;
}

function existsDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

export interface PgConnection {
  /** For the tools' --dbname: a conninfo string without any secret. */
  conninfo: string;
  /** The tools' whole environment: their connection's password and settings, PATH and locale. */
  env: NodeJS.ProcessEnv;
  /** For messages and manifests: host:port/database. */
  display: string;
}

/** What a tool (pg_dump, pg_restore) needs to connect: never the URL itself, never the job's own
 * environment (which holds the store's keys and other databases' URLs). */
export function pgConnection(url: string, base: NodeJS.ProcessEnv = process.env): PgConnection {
  const params = parseConnectionUrl(url);
  const { password, ...rest } = params;
  const conninfo = Object.entries({ connect_timeout: "15", application_name: "db-backup", ...rest })
    .map(([k, v]) => `${k}='${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`)
    .join(" ");
  const env: NodeJS.ProcessEnv = {};
  for (const key of ["PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "TMPDIR"]) if (base[key] !== undefined) env[key] = base[key];
  if (password !== undefined) env.PGPASSWORD = password;
  return { conninfo, env, display: displayParams(params) };
}

/** host:port/database, the way manifests and events name a database. */
export function displayDatabase(url: string): string {
  try {
    return displayParams(parseConnectionUrl(url));
  } catch {
    return redactUrl(url);
  }
}

function displayParams(params: ConnectionParams): string {
  return `${params.host}:${params.port}/${params.dbname}`;
}

/** A different database on the same server. */
export function withDatabase(url: string, database: string): string {
  const m = /^(postgres(?:ql)?:\/\/[^/?#]*)(?:\/[^?#]*)?(\?[^#]*)?$/.exec(url.trim());
  if (!m) throw usageError("not a postgres:// URL");
  const query = (m[2] ?? "").replace(/([?&])dbname=[^&]*&?/g, "$1").replace(/[?&]$/, "");
  return `${m[1]}/${encodeURIComponent(database)}${query}`;
}

/** The TLS options node-postgres needs to behave as libpq does with the same sslmode. */
function tlsOptions(params: ConnectionParams): ConnectionOptions {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (error) {
      throw usageError(`the database URL's ${what} ${file} cannot be read (${(error as NodeJS.ErrnoException).code})`);
    }
  };
  const options: ConnectionOptions = {};
  if (params.sslrootcert && params.sslrootcert !== "system") options.ca = read(params.sslrootcert, "sslrootcert");
  if (params.sslcert) options.cert = read(params.sslcert, "sslcert");
  if (params.sslkey) options.key = read(params.sslkey, "sslkey");
  switch (params.sslmode) {
    case "verify-full":
      break;
    case "verify-ca":
      if (!options.ca) throw usageError("sslmode=verify-ca needs sslrootcert=<the CA file> in the database URL");
      options.checkServerIdentity = () => undefined;
      break;
    case "require":
      // libpq: with a root CA file, require verifies the chain as verify-ca does.
      if (options.ca) options.checkServerIdentity = () => undefined;
      else options.rejectUnauthorized = false;
      break;
    default: // allow, prefer: encryption without verification
      options.rejectUnauthorized = false;
  }
  return options;
}

/** node-postgres settings for the same connection as the tools'. */
export function nodePgConfig(params: ConnectionParams, overrides: pg.ClientConfig = {}): pg.ClientConfig {
  return {
    host: params.host,
    port: Number(params.port),
    database: params.dbname,
    user: params.user,
    password: params.password,
    application_name: params.application_name ?? params.fallback_application_name ?? "db-backup",
    options: params.options,
    connectionTimeoutMillis: (Number(params.connect_timeout) || 15) * 1000,
    enableChannelBinding: params.channel_binding === "require",
    ssl: params.sslmode === "disable" ? false : tlsOptions(params),
    ...overrides,
  };
}

/**
 * A node-postgres client connected as libpq (pg_dump, pg_restore) would connect with the same URL:
 * prefer and allow fall back to a plain connection when the server has no SSL, which
 * node-postgres cannot do by itself.
 */
export async function connectPg(url: string, overrides: pg.ClientConfig = {}): Promise<pg.Client> {
  const params = parseConnectionUrl(url);
  const attempt = async (config: pg.ClientConfig) => {
    const client = new pg.Client(config);
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  };
  try {
    return await attempt(nodePgConfig(params, overrides));
  } catch (error) {
    if ((params.sslmode === "prefer" || params.sslmode === "allow") && /does not support SSL/i.test((error as Error).message)) {
      return attempt(nodePgConfig({ ...params, sslmode: "disable" }, overrides));
    }
    throw error;
  }
}

/** Same server (host and port) by the URLs' text, whatever the database: only a first look; the
 * production gate compares what the servers say (identity.ts). */
export function sameServer(a: string, b: string): boolean {
  try {
    const x = parseConnectionUrl(a);
    const y = parseConnectionUrl(b);
    const loopback = (h: string) => (["localhost", "127.0.0.1", "::1"].includes(h.toLowerCase()) ? "loopback" : h.toLowerCase());
    return loopback(x.host!) === loopback(y.host!) && x.port === y.port;
  } catch {
    return false;
  }
}
