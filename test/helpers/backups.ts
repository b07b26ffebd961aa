// Backups made through the bundle (create, verify) and their manifests in the bucket: read, listed,
// and rewritten (e.g. to make a backup look older than it is).
import { expect } from "vitest";
import * as Minio from "minio";
import { BackupManifestSchema, type BackupManifest } from "../../job/inventory/manifest";
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

/** Rewrites a manifest (a new version), e.g. to make a backup look older than it is. */
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
