// The production gate: which environment a restore target belongs to, and what a restore there
// needs. It fails safe: a target whose environment cannot be told is production.
import { isProductionEnvName } from "../core/catalog";
import { ENV } from "../core/settings";
import { sameDatabase } from "../postgres/connection";
import type { RestoreTarget } from "./target";

export interface TargetEnvironment {
  /** The environment's name when known (lowercase). */
  name: string | null;
  production: boolean;
  /** Why it is (or is not) production, for the dry run and messages. */
  reason: string;
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
  /** PRODUCTION_DB_URL. */
  productionUrl?: string;
  /** SUPABASE_DB_URL. */
  sourceUrl?: string;
}): TargetEnvironment {
  const { target, productionUrl, sourceUrl } = input;
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
