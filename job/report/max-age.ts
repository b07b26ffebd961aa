// `status --max-age daily=26h,monthly=32d`: how old the newest successful backup of a type may be
// before status calls the backups stopped (exit 5).
import { BACKUP_TYPES, isBackupType, type BackupType } from "../core/catalog";
import { usageError } from "../core/errors";

export interface MaxAgeRule {
  type: BackupType;
  maxMs: number;
  /** As given, e.g. "26h", for messages. */
  spec: string;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

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
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}
