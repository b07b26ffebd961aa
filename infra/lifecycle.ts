// Lifecycle (ILM) rules, generated from the catalog's retention table: retention is the bucket's
// job, not a script's. Pure functions; the storage component deploys them with @pulumi/minio, and
// the tests turn the very same rules into S3 lifecycle configuration for a real S3 server.
//
// No rule matches a tag any more: anyone with PutObjectTagging could have put a backup into or out
// of a rule. Protection comes from Object Lock instead: each version is locked for its type's
// retention when it is written, restore points have their retention extended, and lifecycle never
// removes a locked version (MinIO and Ceph RGW both skip them). Noncurrent versions are kept at
// least as long as the lock, so overwriting a backup (a new version over it) never shortens the
// original's life, even where a lock is missing.
import { BACKUP_TYPES, longestRetentionDays, objectLayout, type BackupType } from "../job/core/catalog";

/** Days a replaced pointer (latest.json, the legacy latest.sql.gz) stays after it became
 * noncurrent: it is a convenience for people with `mc`, never trusted by the job. */
export const NONCURRENT_GRACE_DAYS = 1;

/** A rule exactly as `minio.IlmPolicy` takes it (terraform-provider-minio's `rule` block):
 * `filter` is a key prefix; `expiration` "<n>d" expires current versions (a delete marker on a
 * versioned bucket) and "DeleteMarker" removes expired delete markers. */
export interface IlmRule {
  id: string;
  status: "Enabled";
  filter: string;
  expiration?: string;
  noncurrentVersionExpirationDays?: number;
}

/**
 * The rules for one bucket:
 * - per backup type, `<type>-expire`: current versions under the type's folder expire after the
 *   type's retention (a delete marker over them), and a version that became noncurrent (by that
 *   expiry, or by someone writing a new version over it) is removed the type's retention later,
 *   never before; `<type>-delete-markers` then removes the lone delete marker (S3 takes
 *   ExpiredObjectDeleteMarker only in a rule of its own; it only ever removes markers).
 * - `runs-expire`: run markers (the id a backup took) after the shortest retention.
 * - `verifications-expire`: drill verdicts after the longest retention (a verdict outlives the
 *   backup it speaks for).
 * - `latest-noncurrent` / `legacy-latest-noncurrent`: a replaced pointer after a day; the current
 *   one never expires.
 * - `requests/` has no rule: a request record is what stops a config-driven restore from running
 *   twice, so it must outlive every Job or config entry that could carry that request id. They are
 *   a few hundred bytes each, one per restore.
 *
 * `retention` comes validated (config.ts: whole days, at least MIN_RETENTION_DAYS); tests pass
 * short test retentions so a fast lifecycle clock can show the rules working.
 */
export function lifecycleRules(prefix: string, retention: Record<BackupType, number>): IlmRule[] {
  const rules: IlmRule[] = [];
  const expire = (id: string, filter: string, days: number) => {
    rules.push({ id: `${id}-expire`, status: "Enabled", filter, expiration: `${days}d`, noncurrentVersionExpirationDays: days });
    rules.push({ id: `${id}-delete-markers`, status: "Enabled", filter, expiration: "DeleteMarker" });
  };
  for (const type of BACKUP_TYPES) expire(type, objectLayout.typeFolder(prefix, type), retention[type]);
  expire("runs", objectLayout.runsFolder(prefix), Math.min(...Object.values(retention)));
  expire("verifications", objectLayout.verificationsFolder(prefix), longestRetentionDays(retention));
  rules.push({ id: "latest-noncurrent", status: "Enabled", filter: objectLayout.latestKey(prefix), noncurrentVersionExpirationDays: NONCURRENT_GRACE_DAYS });
  rules.push({
    id: "legacy-latest-noncurrent",
    status: "Enabled",
    filter: objectLayout.legacyLatestKey(prefix),
    noncurrentVersionExpirationDays: NONCURRENT_GRACE_DAYS,
  });
  return rules;
}

// ---- The same rules as S3 lifecycle configuration ----------------------------------------------

export interface S3LifecycleRule {
  ID: string;
  Status: "Enabled";
  Filter: { Prefix: string };
  Expiration?: { Days: number } | { ExpiredObjectDeleteMarker: true };
  NoncurrentVersionExpiration?: { NoncurrentDays: number };
}

/** What terraform-provider-minio sends for these rules (its createLifecycleRule): "<n>d" → Days,
 * "DeleteMarker" → ExpiredObjectDeleteMarker. The `minio` JS client serialises this object to the
 * S3 XML (root LifecycleConfiguration). */
export function toS3Lifecycle(rules: IlmRule[]): { Rule: S3LifecycleRule[] } {
  return {
    Rule: rules.map((rule) => {
      const s3: S3LifecycleRule = { ID: rule.id, Status: rule.status, Filter: { Prefix: rule.filter } };
      if (rule.expiration === "DeleteMarker") {
        s3.Expiration = { ExpiredObjectDeleteMarker: true };
      } else if (rule.expiration !== undefined) {
        const days = /^(\d+)d$/.exec(rule.expiration);
        if (!days) throw new Error(`rule ${rule.id}: expiration "${rule.expiration}" is neither "<n>d" nor "DeleteMarker"`);
        s3.Expiration = { Days: Number(days[1]) };
      }
      if (rule.noncurrentVersionExpirationDays !== undefined) {
        s3.NoncurrentVersionExpiration = { NoncurrentDays: rule.noncurrentVersionExpirationDays };
      }
      return s3;
    }),
  };
}
