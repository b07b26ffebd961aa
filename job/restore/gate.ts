// The production gate: which environment a restore target belongs to, and so what a restore there
// needs. Production is recognised by what the servers say, not by URL text: the target's identity
// (system identifier and database) is compared with production's (PRODUCTION_DB_ID, or read from
// PRODUCTION_DB_URL) and with this run's own source's (SUPABASE_DB_URL). It fails safe: a target
// whose environment cannot be told, or that cannot be compared with production, is production.
import { isProductionEnvName } from "../core/catalog";
import { ENV } from "../core/settings";
import { formatIdentity, identityOf, parseIdentity, sameIdentity, type DatabaseIdentity } from "../postgres/identity";
import { oneLine } from "../core/errors";
import type { RestoreTarget } from "./target";

export interface TargetEnvironment {
  /** The environment's name when known (lowercase). */
  name: string | null;
  production: boolean;
  /** Why it is (or is not) production, for the dry run and messages. */
  reason: string;
}

/** An identity read from a server, or why it could not be. */
export type Identified = { identity: DatabaseIdentity } | { error: string };

/** What the gate compares: the target's identity, production's and this run's source's. */
export interface GateIdentities {
  target: Identified;
  /** Absent when neither PRODUCTION_DB_ID nor PRODUCTION_DB_URL is set. */
  production?: Identified & { setting: string };
  /** Absent when SUPABASE_DB_URL is not set. */
  source?: Identified;
}

const identify = async (url: string): Promise<Identified> => {
  try {
    return { identity: await identityOf(url) };
  } catch (error) {
    return { error: oneLine(error) };
  }
};

/** Reads the identities the gate needs; nothing is written anywhere. */
export async function identifyForGate(input: { targetUrl: string; productionId?: string; productionUrl?: string; sourceUrl?: string }): Promise<GateIdentities> {
  const production = input.productionId
    ? { identity: parseIdentity(input.productionId, ENV.productionDbId), setting: ENV.productionDbId }
    : input.productionUrl
      ? { ...(await identify(input.productionUrl)), setting: ENV.productionDbUrl }
      : undefined;
  return {
    target: await identify(input.targetUrl),
    production,
    source: input.sourceUrl ? await identify(input.sourceUrl) : undefined,
  };
}

/**
 * Production when any of these holds:
 * - the target is production's database (same identity), or production's identity cannot be read;
 * - the target is this run's own source (same identity as SUPABASE_DB_URL) and this run's
 *   environment (BACKUP_ENV / --env) is production or unknown, whatever --target-env says; or the
 *   source cannot be compared while this run is production's;
 * - an environment name for it (`--target-env`, or the name given as `--target`) is prod/production;
 * - no environment name is known.
 */
export function targetEnvironment(input: { target: RestoreTarget; targetEnvFlag?: string; runEnvironment?: string; identities: GateIdentities }): TargetEnvironment {
  const { target, identities } = input;
  const t = "identity" in identities.target ? identities.target.identity : null;
  const run = input.runEnvironment?.trim().toLowerCase() || null;
  const names = [input.targetEnvFlag, target.envName].filter((n): n is string => n !== undefined && n.trim() !== "").map((n) => n.trim().toLowerCase());

  const production = identities.production;
  if (production) {
    if (!("identity" in production)) {
      return { name: names[0] ?? null, production: true, reason: `${production.setting} cannot be reached to compare (${production.error}), which counts as production` };
    }
    if (!t) {
      return { name: names[0] ?? null, production: true, reason: `the target's identity cannot be read (${(identities.target as { error: string }).error}), so it cannot be told from production` };
    }
    if (sameIdentity(t, production.identity)) {
      return { name: names[0] ?? null, production: true, reason: `it is ${production.setting}'s database (${formatIdentity(t)}), however its URL is written` };
    }
  }

  const source = identities.source;
  if (source) {
    const runIsProduction = run === null || isProductionEnvName(run);
    if ("identity" in source && t && sameIdentity(t, source.identity)) {
      if (runIsProduction) {
        return { name: run, production: true, reason: `it is this run's own source database (${ENV.sourceDbUrl}, ${formatIdentity(t)}) and this run's environment is ${run ? `"${run}"` : "unknown"}` };
      }
      return { name: run, production: false, reason: `it is this run's own source database, in this run's environment "${run}"` };
    }
    if (!("identity" in source) && run !== null && isProductionEnvName(run)) {
      return { name: names[0] ?? null, production: true, reason: `${ENV.sourceDbUrl} (this production run's source) cannot be reached to compare (${source.error}), which counts as production` };
    }
  }

  const name = names[0] ?? null;
  const productionName = names.find(isProductionEnvName);
  if (productionName) return { name: productionName, production: true, reason: `its environment is named "${productionName}"` };
  if (name === null) {
    return { name, production: true, reason: "its environment is unknown, which counts as production; name it with --target-env if it is not" };
  }
  return { name, production: false, reason: `its environment is "${name}"` };
}
