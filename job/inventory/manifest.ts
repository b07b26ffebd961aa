// The manifest written beside every dump: what was dumped, how, and how to prove it came back whole.
// Validated by this schema on write and on read; a manifest that does not parse is not trusted.
import { z } from "zod";
import { BACKUP_PROFILES, BACKUP_TYPES, type BackupProfile } from "../core/catalog";
import { integrityError } from "../core/errors";
import { BACKUP_ID_PATTERN, TAG_PATTERN } from "../core/ids";

/** 2: written once, with the version id of the dump it describes; its drills are recorded beside
 * it (verifications/), never in it. 1: rewritten in place (running, completed, verified). */
export const MANIFEST_SCHEMA_VERSION = 2 as const;


const isoDate = z.iso.datetime({ offset: true });

export const BackupScopeSchema = z.strictObject({
  /** How the source was treated (absent in older manifests: postgres). */
  profile: z.enum(BACKUP_PROFILES).optional(),
  /** Schemas dumped; null means every schema but `excludedSchemas`. */
  schemas: z.array(z.string()).nullable(),
  excludedSchemas: z.array(z.string()),
  /** Tables whose structure is dumped but not their rows (the platform's migration history). */
  excludedTableData: z.array(z.string()).optional(),
  tables: z.array(z.string()),
  schemaOnly: z.boolean(),
  dataOnly: z.boolean(),
  noAcl: z.boolean(),
  noOwner: z.boolean(),
});
export type BackupScope = z.infer<typeof BackupScopeSchema>;

export const VerificationSchema = z.strictObject({
  verifiedAt: isoDate,
  durationMs: z.number().int().nonnegative(),
  tables: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  server: z.string(),
});
export type Verification = z.infer<typeof VerificationSchema>;

export const NotificationSchema = z.strictObject({
  subject: z.string(),
  delivered: z.boolean(),
  via: z.enum(["jetstream", "core", "none"]),
  error: z.string().optional(),
});

/** What the dump holds, recorded as it was written (older manifests have none: the dump is read). */
export const AttachedObjectSchema = z.strictObject({
  kind: z.enum(["trigger", "policy", "index"]),
  schema: z.string(),
  table: z.string(),
  name: z.string(),
});

export const DumpContentsSchema = z.strictObject({
  /** Schemas a plain dump creates (CREATE SCHEMA), unquoted (a custom archive's table of contents
   * says it). */
  createdSchemas: z.array(z.string()).optional(),
  /** A Supabase backup: the platform tables whose rows it holds, and the objects on them a restore
   * creates where its target lacks them (postgres/supabase/source.ts). */
  platform: z
    .strictObject({
      schemas: z.array(z.string()),
      dataTables: z.array(z.string()),
      attached: z.array(AttachedObjectSchema),
      publications: z.array(z.strictObject({ publication: z.string(), table: z.string() })).optional(),
    })
    .optional(),
  /** The source's extensions; `needed`: the dumped objects use them. */
  extensions: z.array(z.strictObject({ name: z.string(), schema: z.string(), version: z.string(), needed: z.boolean() })).optional(),
  /** The roles the dump's grants and policies name. */
  roles: z.array(z.string()).optional(),
});
export type RecordedContents = z.infer<typeof DumpContentsSchema>;

export const BackupManifestSchema = z.strictObject({
  schemaVersion: z.union([z.literal(1), z.literal(MANIFEST_SCHEMA_VERSION)]),
  id: z.string().regex(BACKUP_ID_PATTERN),
  type: z.enum(BACKUP_TYPES),
  tag: z.string().regex(TAG_PATTERN).optional(),
  /** "running" is written when the id is taken, so two runs never pick the same id. */
  status: z.enum(["running", "completed", "failed"]),
  error: z.string().optional(),
  environment: z.string().optional(),
  key: z.string(),
  format: z.enum(["plain", "custom"]),
  compression: z.enum(["gzip", "pg_custom"]),
  scope: BackupScopeSchema,
  sizes: z.strictObject({
    /** Bytes of the stored object (what the SHA-256 covers). */
    stored: z.number().int().nonnegative(),
    /** Bytes pg_dump wrote before compression (plain format). */
    dumped: z.number().int().nonnegative().nullable(),
  }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  /** The dump's version, as the store returned it when the dump was written (null on a store
   * without versions): the one restore and verify read, whatever versions come later. */
  dumpVersionId: z.string().nullable().optional(),
  /** Rows per table ("schema"."table") counted from the dump stream; null when not countable. */
  rowCounts: z.record(z.string(), z.number().int().nonnegative()).nullable(),
  contents: DumpContentsSchema.optional(),
  source: z.strictObject({
    database: z.string(),
    /** The source cluster's system identifier (newer manifests): the drill refuses that server. */
    systemId: z.string().regex(/^\d{1,20}$/).optional(),
    serverVersion: z.string(),
    pgDumpVersion: z.string(),
  }),
  options: z.strictObject({ compressionLevel: z.number().int().min(0).max(9).nullable() }),
  startedAt: isoDate,
  finishedAt: isoDate,
  durationMs: z.number().int().nonnegative(),
  toolVersion: z.string(),
  notification: NotificationSchema.optional(),
  /** Written by schemaVersion 1 only; for 2 the inventory fills it from the drill's record. */
  verification: VerificationSchema.optional(),
});
export type BackupManifest = z.infer<typeof BackupManifestSchema>;

/** Validates a manifest before it is written; a bug here must never produce an untrusted file. */
export function serializeManifest(manifest: BackupManifest): string {
  const parsed = BackupManifestSchema.parse(manifest);
  return JSON.stringify(parsed, null, 2) + "\n";
}

/** Parses a stored manifest; anything that is not a valid manifest is an integrity error. */
export function parseManifest(text: string, key: string): BackupManifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw integrityError(`manifest ${key} is not valid JSON: the backup cannot be trusted`);
  }
  const result = BackupManifestSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw integrityError(
      `manifest ${key} is invalid (${issue?.path.join(".") || "root"}: ${issue?.message}): the backup cannot be trusted`,
    );
  }
  return result.data;
}

/** Whether the backup restores into an empty database: whole schemas (data, or structure only), not
 * single tables (--table) or only data (--data-only), which need the rest of their database. */
export function standsAlone(m: BackupManifest): boolean {
  return m.scope.tables.length === 0 && !m.scope.dataOnly;
}

/** A full backup is one that can become a restore point: every table, schema and data. */
export function isFullBackup(m: BackupManifest): boolean {
  return m.scope.tables.length === 0 && !m.scope.schemaOnly && !m.scope.dataOnly;
}

/** The profile a backup was taken with (older manifests: postgres). */
export function profileOf(m: BackupManifest): BackupProfile {
  return m.scope.profile ?? "postgres";
}
