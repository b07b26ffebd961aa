// A Supabase backup restored into a target: which of the dump's entries the target needs. The
// app's schemas and every row come back; the platform's structure (its schemas, tables, functions,
// indexes, grants) is the target's own where it has the platform (a Supabase project), and is made
// from the backup only where it does not (plain PostgreSQL: local development, the drill's scratch
// database). The objects the app attached to platform tables (its triggers, its policies, an index
// it added) are made where the target lacks them. Extensions are the target's: the ones the backup's
// objects need must be there, or be made by the job when told (--create-extensions; a drill always).
// Rows load with the target's triggers off (replica mode, as the Supabase CLI loads data), so a
// trigger like handle_new_user never doubles what the dump brings.
import { SUPABASE_MANAGED_SCHEMAS } from "../core/catalog";
import type { GateCheck } from "../core/checks";
import type { BackupManifest } from "../inventory";
import { quoteIdent } from "../postgres/sql";
import { entrySchema, type AttachedObject, type ExtensionCheck, type ExtensionRecord, type PlatformContents, type PlatformTarget, type TocEntry } from "../postgres/supabase";

/** What a manifest records of a Supabase backup (absent: a plain PostgreSQL backup). */
export function recordedPlatform(manifest: BackupManifest | null): PlatformContents | null {
  return manifest?.contents?.platform ?? null;
}

/** The extensions the backup's objects need. */
export function neededExtensions(manifest: BackupManifest | null): ExtensionRecord[] {
  return (manifest?.contents?.extensions ?? []).filter((e) => e.needed);
}

const MANAGED = SUPABASE_MANAGED_SCHEMAS.map((p) => new RegExp("^" + p.replace(/\*/g, ".*") + "$"));
export const isPlatformSchema = (schema: string) => MANAGED.some((re) => re.test(schema));

/** Entries of the whole database the platform owns (Realtime's publication, its event triggers) or
 * the job handles itself (extensions): never sent from a Supabase backup. */
const DATABASE_LEVEL = new Set(["EXTENSION", "EVENT TRIGGER", "PUBLICATION", "PUBLICATION TABLE", "PUBLICATION TABLES IN SCHEMA", "SUBSCRIPTION"]);

function attachedKey(kind: string, schema: string, tag: string): string {
  return `${kind}\u0000${schema}\u0000${tag}`;
}

/** The tag pg_dump gives an attached object's entry: "<table> <name>" for triggers and policies. */
function keyOf(o: AttachedObject): string {
  return attachedKey(o.kind, o.schema, o.kind === "index" ? o.name : `${o.table} ${o.name}`);
}

const ENTRY_KINDS: Record<string, AttachedObject["kind"]> = { TRIGGER: "trigger", POLICY: "policy", INDEX: "index" };

export interface PlatformPlan {
  /** Platform schemas whose structure comes from the backup (the target lacks them). */
  madeSchemas: string[];
  /** Attached objects made (the target lacks them, or --clean replaces the app's). */
  madeAttached: AttachedObject[];
  /** The extensions the job makes first, inside the restore's transaction. */
  extensions: string[];
  /** What --clean runs after the app's schemas are dropped: the app's triggers and policies on
   * platform tables dropped, the tables the backup fills emptied. */
  clean: string[];
  /** After the dump: the app's tables back in the target's publications (Realtime). */
  postamble: string[];
  /** Whether one of the dump's entries is sent. */
  sends(entry: TocEntry): boolean;
}

export function platformPlan(platform: PlatformContents, target: PlatformTarget, options: { clean: boolean; createExtensions: ExtensionRecord[] }): PlatformPlan {
  const madeSchemas = platform.schemas.filter((s) => !target.presentSchemas.includes(s));
  const present = new Set(target.presentAttached.map(keyOf));
  // --clean replaces the app's triggers and policies; an index on a platform table may be the
  // platform's own, which is never dropped: it is made only where missing.
  const replaced = options.clean ? target.presentAttached.filter((o) => o.kind !== "index" && target.presentSchemas.includes(o.schema)) : [];
  const replacedKeys = new Set(replaced.map(keyOf));
  const madeAttached = platform.attached.filter((o) => madeSchemas.includes(o.schema) || !present.has(keyOf(o)) || replacedKeys.has(keyOf(o)));
  const made = new Set(madeAttached.map(keyOf));
  const recorded = new Set(platform.attached.map(keyOf));

  const extensions: string[] = [];
  for (const e of options.createExtensions) {
    extensions.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(e.schema)}`, `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e.name)} WITH SCHEMA ${quoteIdent(e.schema)}`);
  }
  const clean: string[] = [];
  if (options.clean) {
    for (const o of replaced) {
      clean.push(`DROP ${o.kind === "trigger" ? "TRIGGER" : "POLICY"} IF EXISTS ${quoteIdent(o.name)} ON ${quoteIdent(o.schema)}.${quoteIdent(o.table)}`);
    }
    // Every table the backup fills, in one statement, so their foreign keys to each other allow it;
    // nothing else is emptied (no CASCADE).
    if (target.presentTables.length > 0 && target.filledTables.length > 0) clean.push(`TRUNCATE TABLE ${target.presentTables.join(", ")}`);
  }

  // Table names were made by format('%I.%I') on the source; the publication's is quoted here.
  const postamble = (platform.publications ?? [])
    .filter((p) => target.publications.includes(p.publication))
    .map((p) => `ALTER PUBLICATION ${quoteIdent(p.publication)} ADD TABLE ONLY ${p.table}`);

  const sends = (entry: TocEntry): boolean => {
    if (DATABASE_LEVEL.has(entry.type) || (entry.type === "COMMENT" && entry.name.startsWith("EXTENSION "))) return false;
    const schema = entrySchema(entry);
    if (schema === null || !isPlatformSchema(schema)) return true;
    if (entry.type === "TABLE DATA" || entry.type === "SEQUENCE SET") return true;
    if (entry.type === "ACL" || entry.type === "DEFAULT ACL") return false;
    const kind = ENTRY_KINDS[entry.type];
    if (kind) {
      const key = attachedKey(kind, schema, entry.name);
      if (recorded.has(key)) return made.has(key);
    }
    return madeSchemas.includes(schema);
  };
  return { madeSchemas, madeAttached, extensions, clean, postamble, sends };
}

/** The checks a Supabase backup adds before anything is touched: the target's platform has every
 * table the backup fills, and the extensions its objects need are there (or will be made). */
export function platformChecks(target: PlatformTarget, extensions: ExtensionCheck, options: { createExtensions: boolean }): GateCheck[] {
  const checks: GateCheck[] = [];
  checks.push(
    target.missingTables.length === 0
      ? {
          check: "platform",
          ok: true,
          detail:
            target.presentSchemas.length > 0
              ? `the target's own platform (${target.presentSchemas.join(", ")}) takes the backup's data`
              : "the target has no Supabase platform: its structure is made from the backup",
        }
      : {
          check: "platform",
          ok: false,
          detail: `the target's platform lacks ${target.missingTables.join(", ")}, which the backup fills: its Supabase version is older than the source's; upgrade the project, or restore into a database without the platform`,
        },
  );
  // The job makes only trusted extensions: what a backup (a manifest anyone with the store's key
  // could write) names must never make the job install code that runs as a superuser.
  const blocked = extensions.missing.filter((m) => !options.createExtensions || !m.available || !m.trusted || m.installedIn !== null);
  if (extensions.missing.length === 0) {
    if (extensions.present.length > 0) checks.push({ check: "extensions", ok: true, detail: `present: ${extensions.present.map((e) => `${e.name} (${e.schema})`).join(", ")}` });
  } else if (blocked.length === 0) {
    checks.push({ check: "extensions", ok: true, detail: `made first (--create-extensions): ${extensions.missing.map((m) => `${m.extension.name} in ${m.extension.schema}`).join(", ")}` });
  } else {
    const first = blocked[0]!;
    const e = first.extension;
    const detail =
      first.installedIn !== null
        ? `the backup's objects use extension ${e.name} in schema ${e.schema}, but the target has it in ${first.installedIn}: move it (ALTER EXTENSION ${quoteIdent(e.name)} SET SCHEMA ${quoteIdent(e.schema)}) first`
        : !first.available
          ? `the backup's objects need extension ${e.name} (${e.version} on the source), which the target's server does not have installed: install its package on that server, then CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e.name)} WITH SCHEMA ${quoteIdent(e.schema)}`
          : options.createExtensions && !first.trusted
            ? `the backup's objects need extension ${e.name}, which is not a trusted extension: the job makes only trusted ones (what a backup names never makes it install code); run CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e.name)} WITH SCHEMA ${quoteIdent(e.schema)} there yourself`
            : `the backup's objects need extension ${e.name} in schema ${e.schema}, which the target lacks: run CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e.name)} WITH SCHEMA ${quoteIdent(e.schema)} there, or add --create-extensions`;
    checks.push({ check: "extensions", ok: false, detail: blocked.length > 1 ? `${detail} (and ${blocked.length - 1} more)` : detail });
  }
  return checks;
}

/** A Supabase backup into a database the job has just made (the drill's scratch database): the
 * platform's structure from the backup, every extension its objects need made first. */
export function scratchApply(manifest: BackupManifest | null): { preamble?: string[]; withoutTriggers?: boolean; sendsEntry?: (entry: TocEntry) => boolean } {
  const platform = recordedPlatform(manifest);
  if (!platform) return {};
  const empty: PlatformTarget = { presentSchemas: [], missingTables: [], presentTables: [], filledTables: [], presentAttached: [], publications: [] };
  const plan = platformPlan(platform, empty, { clean: false, createExtensions: neededExtensions(manifest) });
  return { preamble: plan.extensions, withoutTriggers: true, sendsEntry: plan.sends };
}
