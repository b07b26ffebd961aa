// Backups made through the bundle (create, verify) and their manifests in the bucket: read, listed,
// rewritten (a later version: what a stolen key does), and backdated (a backup as the job would have
// written it days ago, for rules about age).
import { expect } from "vitest";
import * as Minio from "minio";
import { objectLayout } from "../../job/core/catalog";
import { timestampPart } from "../../job/core/ids";
import { BackupManifestSchema, serializeManifest, type BackupManifest } from "../../job/inventory/manifest";
import { VerificationRecordSchema } from "../../job/inventory/verifications";
import { runCli, type CliResult } from "./cli";
import { getObject, putObject, s3Client } from "./s3";

export async function createBackup(env: Record<string, string>, args: string[] = []): Promise<BackupManifest> {
  const result = await runCli(["create", "--json", ...args], env);
  expect(result.code, result.stderr).toBe(0);
  return BackupManifestSchema.parse(JSON.parse(result.stdout));
}

export async function verifyBackup(env: Record<string, string>, id: string): Promise<CliResult> {
  const result = await runCli(["verify", id, "--allow-source-server"], env);
  expect(result.code, result.stderr).toBe(0);
  return result;
}

export function manifestKey(m: BackupManifest, prefix = "supabase"): string {
  return `${prefix}/${m.type}/${m.id}.manifest.json`;
}

export async function readManifest(bucket: string, m: BackupManifest): Promise<BackupManifest> {
  return BackupManifestSchema.parse(JSON.parse((await getObject(bucket, manifestKey(m))).toString("utf8")));
}

/** Rewrites a manifest: a new version over the backup's own, as anyone holding the key can write. */
export async function rewriteManifest(bucket: string, m: BackupManifest, change: (m: BackupManifest) => BackupManifest): Promise<BackupManifest> {
  const next = change(await readManifest(bucket, m));
  await putObject(bucket, manifestKey(m), JSON.stringify(next, null, 2) + "\n");
  return next;
}

/** Every manifest in the bucket. */
export async function manifests(bucket: string): Promise<BackupManifest[]> {
  const out: BackupManifest[] = [];
  for await (const item of s3Client().listObjectsV2(bucket, "", true) as AsyncIterable<Minio.BucketItem>) {
    if (item.name?.endsWith(".manifest.json")) out.push(BackupManifestSchema.parse(JSON.parse((await getObject(bucket, item.name)).toString())));
  }
  return out;
}

let backdated = 0;

/**
 * A backup as the job would have written it `days` ago: `m`'s dump under an id of that time, then
 * its manifest recording the dump's version (both first versions), and, when `verified`, a drill's
 * passed record for exactly those versions. No lock: one taken that long ago would have run out.
 */
export async function backdatedBackup(bucket: string, m: BackupManifest, days: number, options: { verified?: boolean; prefix?: string } = {}): Promise<BackupManifest> {
  const prefix = options.prefix ?? "supabase";
  const at = new Date(Date.now() - days * 86_400_000 + ++backdated * 1000);
  const id = `backup_${timestampPart(at)}`;
  const key = objectLayout.dumpKey(prefix, m.type, id, m.format);
  const dump = await getObject(bucket, m.key);
  const dumpPut = await s3Client().putObject(bucket, key, dump, dump.length);
  const manifest: BackupManifest = {
    ...m,
    id,
    key,
    startedAt: at.toISOString(),
    finishedAt: at.toISOString(),
    dumpVersionId: dumpPut.versionId ?? null,
  };
  delete manifest.tag;
  const text = serializeManifest(manifest);
  const manifestPut = await s3Client().putObject(bucket, objectLayout.manifestKey(prefix, m.type, id), Buffer.from(text), Buffer.byteLength(text));
  if (options.verified) {
    await writeDrillRecord(bucket, manifest, { manifestVersionId: manifestPut.versionId ?? null, at: new Date(at.getTime() + 3_600_000), prefix });
  }
  return manifest;
}

/** What a passed drill writes for a backup's exact versions (verifications/<id>/<time>.json). */
export async function writeDrillRecord(
  bucket: string,
  m: BackupManifest,
  options: { manifestVersionId: string | null; at: Date; prefix?: string; outcome?: "passed" | "failed" },
): Promise<void> {
  const record = VerificationRecordSchema.parse({
    schemaVersion: 1,
    backupId: m.id,
    type: m.type,
    manifestVersionId: options.manifestVersionId,
    dumpVersionId: m.dumpVersionId ?? null,
    sha256: m.sha256,
    outcome: options.outcome ?? "passed",
    at: options.at.toISOString(),
    durationMs: 1000,
    tables: Object.keys(m.rowCounts ?? {}).length,
    rows: Object.values(m.rowCounts ?? {}).reduce((a, b) => a + b, 0),
    server: "verify.internal:5432",
  });
  await putObject(bucket, objectLayout.verificationKey(options.prefix ?? "supabase", m.id, record.at), JSON.stringify(record));
}

/** The versions of one key, newest first (delete markers left out). */
export async function versionIds(bucket: string, key: string): Promise<string[]> {
  const out: string[] = [];
  for await (const v of s3Client().listObjects(bucket, key, false, { IncludeVersion: true }) as AsyncIterable<{ name: string; versionId?: string; isDeleteMarker?: boolean }>) {
    if (v.name === key && !v.isDeleteMarker) out.push(v.versionId ?? "null");
  }
  return out;
}

/** Until when a version is retained (null: no retention). */
export async function retainedUntil(bucket: string, key: string, versionId?: string | null): Promise<Date | null> {
  const retention = await s3Client()
    .getObjectRetention(bucket, key, { versionId: versionId ?? "" } as never)
    .catch(() => null);
  return retention?.retainUntilDate ? new Date(retention.retainUntilDate) : null;
}
