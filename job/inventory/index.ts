// The inventory: what backups the store holds, read from their manifests (the schema and the one
// writer), found by id or tag, and downloaded with their SHA-256 checked.
export { findBackup, listBackups, requireRestorable, unusedTag, type BackupEntry, type EntryStatus } from "./backups";
export { writeManifest } from "./manifest-writer";
export { downloadAction, type DownloadOptions } from "./download";
export {
  MANIFEST_SCHEMA_VERSION,
  isFullBackup,
  parseManifest,
  standsAlone,
  type BackupManifest,
  type BackupScope,
  type Verification,
} from "./manifest";
