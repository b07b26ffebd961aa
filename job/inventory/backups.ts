// The backups in a repository, read from their manifests. Dumps without a manifest (the seed's old
// script wrote `pmoves_*.sql.gz` at the prefix root) are listed as legacy, never hidden.
import {
  BACKUP_TYPES,
  DUMP_EXTENSIONS,
  LATEST_NAME,
  MANIFEST_EXTENSION,
  backupTypes,
  objectLayout,
  type BackupType,
} from "../core/catalog";
import { DbBackupError, oneLine, usageError } from "../core/errors";
import { TAG_PATTERN, timeFromId, validateBackupId } from "../core/ids";
import { parseManifest, type BackupManifest } from "./manifest";
import type { BackupRepository, StoredObject } from "../store";

export type EntryStatus = "running" | "completed" | "failed" | "legacy" | "invalid";

export interface BackupEntry {
  id: string;
  type: BackupType | "legacy";
  status: EntryStatus;
  /** The dump's key (null for a failed backup, which stored no dump). */
  key: string | null;
  size: number;
  createdAt: Date;
  manifest: BackupManifest | null;
  /** Why a manifest could not be read. */
  problem?: string;
}

const DUMP_SUFFIXES = Object.values(DUMP_EXTENSIONS);

function dumpId(name: string): string | null {
  const suffix = DUMP_SUFFIXES.find((s) => name.endsWith(s));
  return suffix ? name.slice(0, -suffix.length) : null;
}

export async function listBackups(repo: BackupRepository, prefix: string): Promise<BackupEntry[]> {
  const objects: StoredObject[] = [];
  for await (const object of repo.list(prefix + "/")) objects.push(object);
  const manifests = objects.filter((o) => o.key.endsWith(MANIFEST_EXTENSION));
  const dumps = new Map(objects.filter((o) => dumpId(o.key) !== null).map((o) => [o.key, o]));
  const entries: BackupEntry[] = [];

  const loaded = await mapLimit(manifests, 8, async (object) => {
    try {
      return { object, manifest: parseManifest((await repo.getBytes(object.key)).toString("utf8"), object.key) };
    } catch (error) {
      return { object, problem: oneLine(error) };
    }
  });
  for (const { object, manifest, problem } of loaded) {
    const id = object.key.slice(object.key.lastIndexOf("/") + 1, -MANIFEST_EXTENSION.length);
    const folder = object.key.slice(prefix.length + 1, object.key.lastIndexOf("/"));
    const type = BACKUP_TYPES.find((t) => backupTypes[t].folder === folder);
    if (!manifest || !type) {
      entries.push({ id, type: type ?? "legacy", status: "invalid", key: null, size: 0, createdAt: object.lastModified, manifest: null, problem: problem ?? `unexpected folder ${folder}` });
      continue;
    }
    const dumpExists = manifest.status === "completed" && dumps.has(manifest.key);
    // A dump beside a failed or running manifest is that backup's (a run that died after its
    // upload), not a backup of its own: never listed as a second, "legacy" entry.
    dumps.delete(manifest.key);
    entries.push(entryFromManifest(manifest, dumpExists));
  }
  // Dumps nobody's manifest claims: legacy ones at the root, or orphans in a type folder.
  for (const object of dumps.values()) {
    if (object.key === objectLayout.latestKey(prefix)) continue;
    const name = object.key.slice(object.key.lastIndexOf("/") + 1);
    const id = dumpId(name)!;
    if (name === LATEST_NAME) continue;
    entries.push({ id, type: "legacy", status: "legacy", key: object.key, size: object.size, createdAt: timeFromId(id) ?? object.lastModified, manifest: null });
  }
  return entries.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
}

/** A completed manifest whose dump is gone is listed as invalid, never hidden. */
function entryFromManifest(manifest: BackupManifest, dumpExists: boolean): BackupEntry {
  const missing = manifest.status === "completed" && !dumpExists;
  return {
    id: manifest.id,
    type: manifest.type,
    status: missing ? "invalid" : manifest.status,
    key: manifest.status === "completed" ? manifest.key : null,
    size: manifest.sizes.stored,
    createdAt: new Date(manifest.startedAt),
    manifest,
    ...(missing ? { problem: `dump ${manifest.key} is missing` } : {}),
  };
}

/** Finds a backup by id (or, for pre-migration backups, by tag). Unknown ids are a usage error. */
export async function findBackup(repo: BackupRepository, prefix: string, idOrTag: string): Promise<BackupEntry> {
  validateBackupId(idOrTag);
  // Fast path: a manifest at one of the type folders.
  for (const type of BACKUP_TYPES) {
    const key = objectLayout.manifestKey(prefix, type, idOrTag);
    if (!(await repo.stat(key))) continue;
    const manifest = parseManifest((await repo.getBytes(key)).toString("utf8"), key);
    const dumpExists = manifest.status === "completed" && (await repo.stat(manifest.key)) !== null;
    return entryFromManifest(manifest, dumpExists);
  }
  const all = await listBackups(repo, prefix);
  const byId = all.find((e) => e.id === idOrTag);
  if (byId) return byId;
  if (TAG_PATTERN.test(idOrTag)) {
    const tagged = all.filter((e) => e.manifest?.tag === idOrTag && e.status === "completed");
    if (tagged.length > 0) return tagged[0]!;
  }
  throw usageError(`no backup with id or tag "${idOrTag}" in ${prefix}/: run \`db-backup list\` to see the ids`);
}

/** `base`, or `base_2`, `base_3`… when a completed backup already carries it. */
export async function unusedTag(repo: BackupRepository, prefix: string, base: string): Promise<string> {
  const used = new Set((await listBackups(repo, prefix)).filter((e) => e.status === "completed").map((e) => e.manifest?.tag));
  let tag = base;
  for (let n = 2; used.has(tag); n++) tag = `${base}_${n}`;
  return tag;
}

/** A backup that may be restored: completed with a manifest, or legacy with explicit consent. */
export function requireRestorable(entry: BackupEntry, allowUnverified: boolean): void {
  if (entry.status === "running") throw new DbBackupError("usage", `backup ${entry.id} has not finished (or its run died): choose a completed one from \`db-backup list\``);
  if (entry.status === "failed") throw new DbBackupError("usage", `backup ${entry.id} failed (${entry.manifest?.error ?? "no dump"}): choose another from \`db-backup list\``);
  if (entry.status === "invalid") throw new DbBackupError("integrity", `backup ${entry.id} cannot be trusted: ${entry.problem}`);
  if (entry.status === "legacy" && !allowUnverified) {
    throw new DbBackupError("refused", `backup ${entry.id} is a legacy dump without manifest or checksum: add --allow-unverified to restore it anyway`);
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return results;
}
