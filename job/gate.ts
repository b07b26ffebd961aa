// The production gate: which environment a restore target belongs to, and what a restore there
// needs. It fails safe: a target whose environment cannot be told is production.
import { isProductionEnvName } from "./catalog";
import { ENV, nonEmpty, type Env } from "./config";
import type { RestoreTarget } from "./target";

export interface TargetEnvironment {
  /** The environment's name when known (lowercase). */
  name: string | null;
  production: boolean;
  /** Why it is (or is not) production, for the dry run and messages. */
  reason: string;
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

/**
 * Production when: the target's URL is PRODUCTION_DB_URL's database; or an environment name for it
 * (`--target-env`, or the name given as `--target`) is prod/production; or no name is known.
 * A target that is this run's own source database (SUPABASE_DB_URL) belongs to the run's
 * environment (BACKUP_ENV / --env).
 */
export function targetEnvironment(input: {
  target: RestoreTarget;
  targetEnvFlag?: string;
  runEnvironment?: string;
  env: Env;
}): TargetEnvironment {
  const { target, env } = input;
  const productionUrl = nonEmpty(env, ENV.productionDbUrl);
  const sourceUrl = nonEmpty(env, ENV.sourceDbUrl);
  const names = [input.targetEnvFlag, target.envName]
    .filter((n): n is string => n !== undefined && n.trim() !== "")
    .map((n) => n.trim().toLowerCase());
  if (names.length === 0 && input.runEnvironment && sourceUrl && sameDatabase(sourceUrl, target.url)) {
    names.push(input.runEnvironment.trim().toLowerCase());
  }
  const name = names[0] ?? null;
  if (productionUrl && sameDatabase(productionUrl, target.url)) {
    return { name, production: true, reason: `its URL is ${ENV.productionDbUrl}'s database` };
  }
  const productionName = names.find(isProductionEnvName);
  if (productionName) return { name: productionName, production: true, reason: `its environment is named "${productionName}"` };
  if (name === null) {
    return { name, production: true, reason: "its environment is unknown, which counts as production; name it with --target-env if it is not" };
  }
  return { name, production: false, reason: `its environment is "${name}"` };
}

/** One line of the gate: what was checked, whether it passed, and what it found or would allow it. */
export interface GateCheck {
  check: string;
  ok: boolean;
  detail: string;
}

/** The first failed check's detail is the refusal's one line. */
export function firstFailure(checks: GateCheck[]): GateCheck | undefined {
  return checks.find((c) => !c.ok);
}

export function renderChecks(checks: GateCheck[]): string {
  return checks.map((c) => `  ${c.ok ? "[ok]     " : "[refused]"} ${c.check}: ${c.detail}`).join("\n");
}

/** Empty values (`--approved-by ""`, as a Kubernetes template's `$(VAR)` gives) mean "not given". */
export function given(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}
