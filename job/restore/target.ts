// A restore target: a postgres:// URL, or an environment name resolved through <NAME>_DB_URL (the
// seed's STAGING_DB_URL). There is no default: never the source by accident.
import { TARGET_NAME_PATTERN, envVarForTarget, postgresUrl, type Env } from "../core/settings";
import { usageError } from "../core/errors";

export interface RestoreTarget {
  url: string;
  /** The environment name when the target was given as one. */
  envName?: string;
}

export function resolveTarget(target: string | undefined, env: Env): RestoreTarget {
  if (!target || target.trim() === "") {
    throw usageError("restore needs --target <postgres-url | env-name> (e.g. --target staging reads STAGING_DB_URL)");
  }
  const value = target.trim();
  if (value.includes("://")) return { url: postgresUrl(value, "--target") };
  if (!TARGET_NAME_PATTERN.test(value)) {
    throw usageError(`--target "${value}" is neither a postgres:// URL nor an environment name (letters, digits, _ and -)`);
  }
  const variable = envVarForTarget(value);
  const url = env[variable];
  if (!url || url.trim() === "") throw usageError(`--target ${value} needs ${variable} to be set to that environment's postgres:// URL`);
  return { url: postgresUrl(url, variable), envName: value.toLowerCase() };
}
