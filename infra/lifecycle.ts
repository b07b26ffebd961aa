// Lifecycle (ILM) rules, generated from the catalog's retention table: retention is the bucket's
// job, not a script's. Pure functions; the storage component deploys them with @pulumi/minio, and
// the tests turn the very same rules into S3 lifecycle configuration for a real S3 server.
import { BACKUP_TYPES, EXPIRY_TAG, objectLayout, type BackupType } from "../job/core/catalog";

/** Days a version stays after it became noncurrent (lifecycle put a delete marker over it, or a
 * newer latest.sql.gz replaced it): a day to notice and undo an expiry before it is final. */
export const NONCURRENT_GRACE_DAYS = 1;

/** A rule exactly as `minio.IlmPolicy` takes it (terraform-provider-minio's `rule` block):
 * `filter` is a key prefix; `tags` AND-ed with it; `expiration` "<n>d" expires current versions
 * (a delete marker on a versioned bucket) and "DeleteMarker" removes expired delete markers. */
export interface IlmRule {
  id: string;
  status: "Enabled";
  filter: string;
  expiration?: string;
  noncurrentVersionExpirationDays?: number;
  tags?: Record<string, string>;
}

/**
 * The rules for one bucket. Per backup type:
 * - `<type>-expire`: current versions under the type's folder that carry the expiry tag expire
 *   after the type's retention, and the versions that expiry leaves noncurrent go after the grace
 *   days. Both match prefix AND tag, so a protected restore point (tag removed) never matches.
 * - `<type>-delete-markers`: removes delete markers left with no versions behind them. S3 refuses
 *   ExpiredObjectDeleteMarker together with a tag filter, hence a rule of its own; it only ever
 *   removes markers, never data.
 * And `latest-noncurrent`: each new latest.sql.gz leaves the previous one noncurrent; those go after
 * the grace days (the current latest.sql.gz never expires).
 *
 * `retention` comes validated (config.ts: whole days, at least MIN_RETENTION_DAYS); tests pass
 * short test retentions so a fast lifecycle clock can show the rules working.
 */
export function lifecycleRules(
  prefix: string,
  retention: Record<BackupType, number>,
  noncurrentDays: number = NONCURRENT_GRACE_DAYS,
): IlmRule[] {
  const rules: IlmRule[] = [];
  for (const type of BACKUP_TYPES) {
    const folder = objectLayout.typeFolder(prefix, type);
    rules.push({
      id: `${type}-expire`,
      status: "Enabled",
      filter: folder,
      tags: { [EXPIRY_TAG.key]: EXPIRY_TAG.value },
      expiration: `${retention[type]}d`,
      noncurrentVersionExpirationDays: noncurrentDays,
    });
    rules.push({ id: `${type}-delete-markers`, status: "Enabled", filter: folder, expiration: "DeleteMarker" });
  }
  rules.push({
    id: "latest-noncurrent",
    status: "Enabled",
    filter: objectLayout.latestKey(prefix),
    noncurrentVersionExpirationDays: noncurrentDays,
  });
  return rules;
}

// ---- The same rules as S3 lifecycle configuration ----------------------------------------------

export interface S3LifecycleRule {
  ID: string;
  Status: "Enabled";
  Filter: { Prefix: string } | { And: { Prefix: string; Tag: { Key: string; Value: string }[] } };
  Expiration?: { Days: number } | { ExpiredObjectDeleteMarker: true };
  NoncurrentVersionExpiration?: { NoncurrentDays: number };
}

/** What terraform-provider-minio sends for these rules (its createLifecycleRule): "<n>d" → Days,
 * "DeleteMarker" → ExpiredObjectDeleteMarker, tags → And{Prefix, Tag…}. The `minio` JS client
 * serialises this object to the S3 XML (root LifecycleConfiguration). */
export function toS3Lifecycle(rules: IlmRule[]): { Rule: S3LifecycleRule[] } {
  return {
    Rule: rules.map((rule) => {
      const tags = Object.entries(rule.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
      const s3: S3LifecycleRule = {
        ID: rule.id,
        Status: rule.status,
        Filter: tags.length > 0 ? { And: { Prefix: rule.filter, Tag: tags } } : { Prefix: rule.filter },
      };
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
