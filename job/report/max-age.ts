// `status --max-age daily=26h,monthly=32d`: how old the newest successful backup of a type may be
// before status calls the backups stopped (exit 5).
import { BACKUP_TYPES, isBackupType, type BackupType } from "../core/catalog";
import { usageError } from "../core/errors";
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, WEEK_MS } from "../core/time";

export interface MaxAgeRule {
  type: BackupType;
  maxMs: number;
  /** As given, e.g. "26h", for messages. */
  spec: string;
}

const UNIT_MS: Record<string, number> = { s: SECOND_MS, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS, w: WEEK_MS };

export function parseMaxAge(value: string): MaxAgeRule[] {
  const rules: MaxAgeRule[] = [];
  for (const part of value.split(",").map((p) => p.trim()).filter((p) => p.length > 0)) {
    const m = /^([a-z_]+)=(\d+)([smhdw])$/.exec(part);
    if (!m || !isBackupType(m[1]!)) {
      throw usageError(`--max-age "${part}" is invalid: use type=<number><s|m|h|d|w> pairs, e.g. daily=26h,monthly=32d (types: ${BACKUP_TYPES.join(", ")})`);
    }
    const maxMs = Number(m[2]) * UNIT_MS[m[3]!]!;
    if (maxMs <= 0) throw usageError(`--max-age "${part}" must be longer than zero`);
    rules.push({ type: m[1] as BackupType, maxMs, spec: `${m[2]}${m[3]}` });
  }
  if (rules.length === 0) throw usageError("--max-age is empty: give e.g. daily=26h,monthly=32d");
  return rules;
}

/** "30 h", "3 d", "45 min" */
export function formatAge(ms: number): string {
  if (ms < 2 * MINUTE_MS) return `${Math.round(ms / SECOND_MS)} s`;
  if (ms < 2 * HOUR_MS) return `${Math.round(ms / MINUTE_MS)} min`;
  if (ms < 2 * DAY_MS) return `${Math.round(ms / HOUR_MS)} h`;
  return `${Math.round(ms / DAY_MS)} d`;
}
