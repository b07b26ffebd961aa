// The one writer of manifests. A manifest is written once, when its backup has ended (completed or
// failed); the version the store returns is the one readers trust. Its lock is the caller's (it
// knows the backup's retention).
import type { BackupRepository } from "../core/repository";
import { serializeManifest, type BackupManifest } from "./manifest";

export async function writeManifest(repo: BackupRepository, key: string, manifest: BackupManifest): Promise<string | null> {
  const { verification: _never, ...written } = manifest;
  return (await repo.putBytes(key, serializeManifest(written as BackupManifest))).versionId;
}
