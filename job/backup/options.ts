// What `create` is asked to do (settings resolved by the caller).
import type { BackupType, DumpFormat } from "../core/catalog";
import type { ScopeRequest } from "./source";

export interface CreateOptions extends ScopeRequest {
  sourceUrl: string;
  type: BackupType;
  tag?: string;
  format: DumpFormat;
  compressionLevel: number;
  backupName: string;
  /** Seconds the backup's dump and manifest are locked for on a bucket with Object Lock: its
   * type's retention (BACKUP_LOCK_SECONDS overrides it, for tests). */
  lockSeconds: number;
  /** False for a restore's safety backup of its target: `latest.json` keeps naming the source's newest backup. */
  updateLatest?: boolean;
  json?: boolean;
}
