// Manifests and inventory entries without a store: a complete, valid manifest to override, and
// the entries `listBackups` would make of manifests.
import type { BackupEntry } from "../../job/inventory/backups";
import type { BackupManifest } from "../../job/inventory/manifest";

/** A complete, valid manifest; tests override what they need. */
export function sampleManifest(overrides: Partial<BackupManifest> = {}): BackupManifest {
  return {
    schemaVersion: 2,
    id: "backup_20250607_120000",
    type: "manual",
    status: "completed",
    key: "supabase/manual/backup_20250607_120000.sql.gz",
    format: "plain",
    compression: "gzip",
    scope: {
      schemas: null,
      excludedSchemas: ["auth", "storage"],
      tables: [],
      schemaOnly: false,
      dataOnly: false,
      noAcl: false,
      noOwner: true,
    },
    sizes: { stored: 1234, dumped: 5678 },
    sha256: "a".repeat(64),
    rowCounts: { "public.items": 3, 'public."my table"': 0 },
    source: { database: "127.0.0.1:5432/postgres", serverVersion: "16.4", pgDumpVersion: "16.4" },
    options: { compressionLevel: 6 },
    startedAt: "2025-06-07T12:00:00.000Z",
    finishedAt: "2025-06-07T12:00:05.000Z",
    durationMs: 5000,
    toolVersion: "0.1.0",
    ...overrides,
  };
}

/** The entries `listBackups` would make of these manifests (dumps present), newest first. */
export function entriesOf(manifests: BackupManifest[]): BackupEntry[] {
  return manifests.map((m) => ({
    id: m.id,
    type: m.type,
    status: m.status,
    key: m.status === "completed" ? m.key : null,
    size: m.sizes.stored,
    createdAt: new Date(m.startedAt),
    manifest: m,
    manifestVersionId: null,
    dumpVersionId: null,
    alarms: [],
  }));
}
