// A drill's verdict on a backup, recorded beside it (verifications/<id>/<time>.json), never in its
// manifest: the manifest is written once, and the folder is writable by the drill's key only
// (infra/policies.ts), so a stolen backup key cannot make a backup look proven. A verdict counts
// for the exact bytes it proved: the manifest version and dump version it names, and their SHA-256.
import { z } from "zod";
import { objectLayout, type BackupType } from "../core/catalog";
import type { BackupRepository } from "../core/repository";
import type { Verification } from "./manifest";

const isoDate = z.iso.datetime({ offset: true });

export const VerificationRecordSchema = z.strictObject({
  schemaVersion: z.literal(1),
  backupId: z.string(),
  type: z.string(),
  manifestVersionId: z.string().nullable(),
  dumpVersionId: z.string().nullable(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  outcome: z.enum(["passed", "failed"]),
  at: isoDate,
  durationMs: z.number().int().nonnegative(),
  tables: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  server: z.string(),
  /** Why a drill failed. */
  reason: z.string().optional(),
});
export type VerificationRecord = z.infer<typeof VerificationRecordSchema>;

export async function writeVerification(repo: BackupRepository, prefix: string, record: VerificationRecord): Promise<void> {
  await repo.putBytes(objectLayout.verificationKey(prefix, record.backupId, record.at), JSON.stringify(VerificationRecordSchema.parse(record), null, 2) + "\n");
}

/** The backup ids a listing of verifications/ names, each with the key of its newest record. */
export function newestRecordKeys(keys: string[], prefix: string): Map<string, string> {
  const folder = objectLayout.verificationsFolder(prefix);
  const newest = new Map<string, string>();
  for (const key of keys) {
    if (!key.startsWith(folder) || !key.endsWith(".json")) continue;
    const id = key.slice(folder.length, key.lastIndexOf("/"));
    if (!id || id.includes("/")) continue;
    const current = newest.get(id);
    if (current === undefined || key > current) newest.set(id, key); // the file names are times
  }
  return newest;
}

export async function readVerification(repo: BackupRepository, key: string): Promise<VerificationRecord | null> {
  try {
    return VerificationRecordSchema.parse(JSON.parse((await repo.getBytes(key)).toString("utf8")));
  } catch {
    return null; // unreadable: no verdict
  }
}

/** The verification a passed record gives the backup it names, when it proved these exact bytes. */
export function verificationOf(record: VerificationRecord | null, backup: { sha256: string | null; dumpVersionId?: string | null; type: BackupType }): Verification | undefined {
  if (!record || record.outcome !== "passed" || record.sha256 !== backup.sha256) return undefined;
  if ((record.dumpVersionId ?? null) !== (backup.dumpVersionId ?? null)) return undefined;
  return { verifiedAt: record.at, durationMs: record.durationMs, tables: record.tables, rows: record.rows, server: record.server };
}
