// Shared helpers for the unit tests (not a test file itself).
import { Writable } from "node:stream";
import type { BackupManifest } from "../../job/inventory/manifest";

/** A writable stream that keeps everything written to it, for calling the CLI in-process. */
export class Collector extends Writable {
  text = "";
  isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/** A small deterministic PRNG (mulberry32), so random chunkings are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A complete, valid manifest; tests override what they need. */
export function sampleManifest(overrides: Partial<BackupManifest> = {}): BackupManifest {
  return {
    schemaVersion: 1,
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
