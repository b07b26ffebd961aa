// Backup ids: `<name>_YYYYMMDD_HHMMSS` in UTC (the seed's form), with `_2`, `_3`… when two land in
// the same second. Checked before any I/O, so a bad id never reaches a key or a shell.
import { usageError } from "./errors";

export const MAX_ID_LENGTH = 128;
export const BACKUP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
export const TAG_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Ids the list gives Supabase's own backups. BACKUP_NAME cannot contain "_", so no backup of ours
 * ever has this prefix. */
export const AUTO_ID_PREFIX = "supabase_auto_";

export function isAutoBackupId(id: string): boolean {
  return id.startsWith(AUTO_ID_PREFIX);
}

export function timestampPart(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return (
    `${p(date.getUTCFullYear(), 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}_` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`
  );
}

export async function newBackupId(name: string, now: Date, taken: (id: string) => Promise<boolean>): Promise<string> {
  const base = `${name}_${timestampPart(now)}`;
  for (let n = 1; n < 1000; n++) {
    const id = n === 1 ? base : `${base}_${n}`;
    if (!(await taken(id))) return id;
  }
  throw new Error(`could not find a free backup id for ${base}`);
}

/** Throws a one-line usage error naming what is wrong with `id`. */
export function validateBackupId(id: string, what = "backup id"): string {
  if (id.length === 0) throw usageError(`${what} is empty: give an id from \`db-backup list\``);
  if (id.length > MAX_ID_LENGTH) throw usageError(`${what} is ${id.length} characters long: at most ${MAX_ID_LENGTH}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) throw usageError(`${what} contains a control character: ids are letters, digits, _ and -`);
  if (id.includes("..")) throw usageError(`${what} "${id}" contains "..": ids are letters, digits, _ and -`);
  if (/[/\\]/.test(id)) throw usageError(`${what} "${id}" contains a path separator: ids are letters, digits, _ and -`);
  if (!BACKUP_ID_PATTERN.test(id)) throw usageError(`${what} "${id}" is not valid: ids are letters, digits, _ and - (e.g. backup_20250607_120000)`);
  return id;
}

/** When the id encodes its creation time (legacy `pmoves_YYYYMMDD_HHMMSS`), that time. */
export function timeFromId(id: string): Date | null {
  const m = /_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})(?:_\d+)?$/.exec(id);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  // Date.UTC rolls impossible dates over (Feb 31 → Mar 3); such an id encodes no time.
  const same = date.getUTCFullYear() === y && date.getUTCMonth() === mo! - 1 && date.getUTCDate() === d && date.getUTCHours() === h && date.getUTCMinutes() === mi && date.getUTCSeconds() === s;
  return same ? date : null;
}
