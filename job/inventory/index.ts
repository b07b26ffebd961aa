// The inventory: what backups the store holds, read from the versions of their manifests (the
// schema and the one writer), the runs that took ids, and the drills' verdicts; found by id or
// tag, and downloaded with their SHA-256 checked.
export { findBackup, listBackups, requireKnownVersion, requireRestorable, unusedTag, type BackupEntry, type EntryStatus } from "./backups";
export { writeManifest } from "./manifest-writer";
export { downloadAction, type DownloadOptions } from "./download";
export { readRunMarker, writeRunMarker, RunMarkerSchema, type RunMarker } from "./runs";
export { readVerification, writeVerification, newestRecordKeys, verificationOf, type VerificationRecord } from "./verifications";
export {
  MANIFEST_SCHEMA_VERSION,
  isFullBackup,
  parseManifest,
  profileOf,
  standsAlone,
  type BackupManifest,
  type BackupScope,
  type Verification,
} from "./manifest";
