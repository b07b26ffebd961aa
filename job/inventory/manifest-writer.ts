// The one writer of manifests: every version is validated by the schema, written, and tagged for
// expiry like its dump, so lifecycle removes both together.
import { EXPIRY_TAG } from "../core/catalog";
import type { BackupRepository } from "../core/repository";
import { serializeManifest, type BackupManifest } from "./manifest";

export async function writeManifest(repo: BackupRepository, key: string, manifest: BackupManifest): Promise<void> {
  await repo.putBytes(key, serializeManifest(manifest));
  await repo.setTags(key, { [EXPIRY_TAG.key]: EXPIRY_TAG.value });
}
