// The backups in a store, read from the versions it holds. Each backup is what its writer wrote: the
// manifest's first version, and the dump version that manifest records. A key with versions written
// after those (what anyone holding the same key can add) is never read in their place; it raises an
// alarm, which `status` shows and `restore`/`verify` refuse until told which version to read. A
// backup lifecycle has expired (a delete marker over it) is gone from the list, unless its versions
// are still retained (a restore point the drill keeps). A dump without a manifest (the seed's old
// script wrote `pmoves_*.sql.gz` at the prefix root) is listed as legacy, never hidden.
import {
  BACKUP_TYPES,
  DUMP_EXTENSIONS,
  LATEST_NAME,
  LEGACY_LATEST_NAME,
  MANIFEST_EXTENSION,
  backupTypes,
  objectLayout,
  type BackupType,
} from "../core/catalog";
import { DbBackupError, oneLine, usageError } from "../core/errors";
import { TAG_PATTERN, timeFromId, validateBackupId } from "../core/ids";
import type { BackupRepository, ObjectVersion } from "../core/repository";
import { isFullBackup, parseManifest, type BackupManifest } from "./manifest";
import { newestRecordKeys, readVerification, verificationOf } from "./verifications";
import { readRunMarker } from "./runs";

export type EntryStatus = "running" | "completed" | "failed" | "legacy" | "invalid";

export interface BackupEntry {
  id: string;
  type: BackupType | "legacy";
  status: EntryStatus;
  /** The dump's key (null for a backup that stored no dump). */
  key: string | null;
  size: number;
  createdAt: Date;
  manifest: BackupManifest | null;
  /** The manifest version read: its first (null on a store without versions, or no manifest). */
  manifestVersionId: string | null;
  /** The dump version restore, verify and download read (null: the current one). */
  dumpVersionId: string | null;
  /** Versions of its keys that its writer did not write: never read, always said. */
  alarms: string[];
  /** Why a manifest could not be read. */
  problem?: string;
}

const DUMP_SUFFIXES = Object.values(DUMP_EXTENSIONS);

function dumpId(name: string): string | null {
  const suffix = DUMP_SUFFIXES.find((s) => name.endsWith(s));
  return suffix ? name.slice(0, -suffix.length) : null;
}

/** A key's versions: the ones with content, oldest first, and whether the newest is a delete marker. */
interface KeyVersions {
  live: ObjectVersion[];
  expired: boolean;
}

function byKey(versions: ObjectVersion[]): Map<string, KeyVersions> {
  const listed = new Map<string, ObjectVersion[]>();
  for (const v of versions) listed.set(v.key, [...(listed.get(v.key) ?? []), v]);
  const keys = new Map<string, KeyVersions>();
  for (const [key, all] of listed) {
    // S3 lists a key's versions newest first: reversed, then ordered by time (stable), oldest first.
    const ordered = [...all].reverse().sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime());
    const latest = all.find((v) => v.isLatest) ?? ordered[ordered.length - 1]!;
    keys.set(key, { live: ordered.filter((v) => !v.deleteMarker), expired: latest.deleteMarker });
  }
  return keys;
}

async function collect(iterable: AsyncIterable<ObjectVersion>): Promise<ObjectVersion[]> {
  const out: ObjectVersion[] = [];
  for await (const v of iterable) out.push(v);
  return out;
}

export async function listBackups(repo: BackupRepository, prefix: string, now = new Date()): Promise<BackupEntry[]> {
  return entriesFrom(repo, prefix, await collect(repo.listVersions(prefix + "/")), now);
}

/** The backups `versions` (a listing of the prefix, or of one backup's keys) describe. */
async function entriesFrom(repo: BackupRepository, prefix: string, versions: ObjectVersion[], now: Date): Promise<BackupEntry[]> {
  const keys = byKey(versions);
  const manifestKeys = [...keys.keys()].filter((k) => k.endsWith(MANIFEST_EXTENSION));
  const claimed = new Set<string>();
  const records = newestRecordKeys([...keys.keys()], prefix);

  const loaded = await mapLimit(manifestKeys, 8, (key) => loadManifest(repo, prefix, key, keys, records, now));
  const entries: BackupEntry[] = [];
  for (const l of loaded) {
    if (l === null) continue;
    if (l.entry.key) claimed.add(l.entry.key);
    if (l.dumpKey) claimed.add(l.dumpKey);
    entries.push(l.entry);
  }
  // Ids that have a manifest key at all, even one lifecycle expired: their run ended.
  const withManifest = new Set(manifestKeys.map((k) => k.slice(k.lastIndexOf("/") + 1, -MANIFEST_EXTENSION.length)));

  // A run that took an id and has no manifest yet: running, or dead (the next run of its type marks it failed).
  const runsFolder = objectLayout.runsFolder(prefix);
  for (const [key, kv] of keys) {
    if (!key.startsWith(runsFolder) || kv.live.length === 0 || kv.expired) continue;
    const id = key.slice(runsFolder.length, -".json".length);
    if (withManifest.has(id)) continue;
    const marker = await readRunMarker(repo, kv.live[0]!);
    if (!marker || marker.id !== id) continue;
    const dumpKey = objectLayout.dumpKey(prefix, marker.type, id, marker.format);
    claimed.add(dumpKey);
    entries.push({ id, type: marker.type, status: "running", key: null, size: 0, createdAt: new Date(marker.startedAt), manifest: null, manifestVersionId: null, dumpVersionId: null, alarms: [] });
  }

  // Dumps nobody claims: legacy ones at the root, or orphans in a type folder.
  for (const [key, kv] of keys) {
    if (claimed.has(key) || kv.live.length === 0 || kv.expired) continue;
    const name = key.slice(key.lastIndexOf("/") + 1);
    const id = dumpId(name);
    if (id === null || name === LEGACY_LATEST_NAME || name === LATEST_NAME) continue;
    const current = kv.live[kv.live.length - 1]!;
    entries.push({ id, type: "legacy", status: "legacy", key, size: current.size, createdAt: timeFromId(id) ?? current.lastModified, manifest: null, manifestVersionId: null, dumpVersionId: current.versionId, alarms: [] });
  }
  return entries.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
}

async function loadManifest(
  repo: BackupRepository,
  prefix: string,
  key: string,
  keys: Map<string, KeyVersions>,
  records: Map<string, string>,
  now: Date,
): Promise<{ entry: BackupEntry; dumpKey: string | null } | null> {
  const kv = keys.get(key)!;
  if (kv.live.length === 0) return null; // only delete markers: expired and purged
  const id = key.slice(key.lastIndexOf("/") + 1, -MANIFEST_EXTENSION.length);
  const folder = key.slice(prefix.length + 1, key.lastIndexOf("/"));
  const type = BACKUP_TYPES.find((t) => backupTypes[t].folder === folder);
  const first = kv.live[0]!;
  const invalid = (problem: string): { entry: BackupEntry; dumpKey: null } => ({
    entry: { id, type: type ?? "legacy", status: "invalid", key: null, size: 0, createdAt: first.lastModified, manifest: null, manifestVersionId: first.versionId, dumpVersionId: null, alarms: [], problem },
    dumpKey: null,
  });
  if (!type) return invalid(`unexpected folder ${folder}`);

  let manifest: BackupManifest;
  let read = first;
  try {
    manifest = parseManifest((await repo.getBytes(key, first.versionId)).toString("utf8"), key);
    // A manifest of schema 1 was rewritten in place by its own job: its newest version is its own.
    if (manifest.schemaVersion === 1 && kv.live.length > 1) {
      read = kv.live[kv.live.length - 1]!;
      manifest = parseManifest((await repo.getBytes(key, read.versionId)).toString("utf8"), key);
    }
  } catch (error) {
    return invalid(oneLine(error));
  }
  // Lifecycle expired it: gone, unless its versions are still retained (a restore point).
  if (kv.expired) {
    const until = await repo.retainedUntil(key, first.versionId);
    if (!until || until.getTime() <= now.getTime()) return null;
  }

  const alarms: string[] = [];
  if (manifest.schemaVersion !== 1 && kv.live.length > 1) {
    alarms.push(`its manifest has ${kv.live.length} versions: the first, written by the backup, is the one read`);
  }
  const dump = manifest.status === "completed" ? keys.get(manifest.key) : undefined;
  let dumpVersionId: string | null = null;
  let problem: string | undefined;
  if (manifest.status === "completed") {
    const live = dump?.live ?? [];
    if (manifest.schemaVersion === 1 || manifest.dumpVersionId === undefined) {
      const current = live[live.length - 1];
      if (!current) problem = `dump ${manifest.key} is missing`;
      else dumpVersionId = current.versionId;
    } else {
      dumpVersionId = manifest.dumpVersionId ?? null;
      const recorded = dumpVersionId === null ? live[live.length - 1] : live.find((v) => v.versionId === dumpVersionId);
      if (!recorded) problem = `dump ${manifest.key}${dumpVersionId ? ` (version ${dumpVersionId})` : ""} is missing`;
      if (live.length > 1) {
        alarms.push(`its dump has ${live.length} versions: version ${dumpVersionId ?? "?"}, the one its manifest records, is the one read`);
      }
    }
  }
  // Verified only by a drill's record for exactly the versions read. A manifest's own
  // `verification` (schema 1 wrote one) is never trusted: whoever can write a manifest could write
  // it. Backups from before records existed are verified again by the next drills.
  const recordKey = records.get(id);
  const record = recordKey ? await readVerification(repo, recordKey) : null;
  const verification = verificationOf(record?.manifestVersionId === (read.versionId ?? null) ? record : null, { ...manifest, dumpVersionId });
  const { verification: _unused, ...rest } = manifest;
  manifest = verification ? { ...rest, verification } : rest;
  const entry: BackupEntry = {
    id: manifest.id,
    type: manifest.type,
    status: problem ? "invalid" : manifest.status,
    key: manifest.status === "completed" ? manifest.key : null,
    size: manifest.sizes.stored,
    createdAt: new Date(manifest.startedAt),
    manifest,
    manifestVersionId: read.versionId,
    dumpVersionId,
    alarms,
    ...(problem ? { problem } : {}),
  };
  return { entry, dumpKey: manifest.key };
}

/** Finds a backup by id, by `latest` (the newest completed full backup) or, for pre-migration
 * backups, by tag. Unknown ids are a usage error. */
export async function findBackup(repo: BackupRepository, prefix: string, idOrTag: string, now = new Date()): Promise<BackupEntry> {
  validateBackupId(idOrTag);
  if (idOrTag === "latest") {
    const newest = (await listBackups(repo, prefix, now)).find((e) => e.status === "completed" && e.manifest && isFullBackup(e.manifest));
    if (newest) return newest;
    throw usageError(`there is no completed full backup in ${prefix}/ for "latest": run \`db-backup list\``);
  }
  // Fast path: only this id's keys (its manifest in any type folder, its run, its drills).
  const versions: ObjectVersion[] = [];
  for (const type of BACKUP_TYPES) versions.push(...(await collect(repo.listVersions(`${objectLayout.typeFolder(prefix, type)}${idOrTag}.`))));
  if (versions.some((v) => v.key.endsWith(MANIFEST_EXTENSION))) {
    versions.push(...(await collect(repo.listVersions(`${objectLayout.verificationsFolder(prefix)}${idOrTag}/`))));
    const found = (await entriesFrom(repo, prefix, versions, now)).find((e) => e.id === idOrTag);
    if (found) return found;
  }
  const all = await listBackups(repo, prefix, now);
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

/** A backup that may be restored: completed with a manifest, or legacy with explicit consent; one
 * whose keys hold versions its writer did not write only when told which dump version to read. */
export function requireRestorable(entry: BackupEntry, allowUnverified: boolean, version?: string): void {
  if (entry.status === "running") throw new DbBackupError("usage", `backup ${entry.id} has not finished (or its run died): choose a completed one from \`db-backup list\``);
  if (entry.status === "failed") throw new DbBackupError("usage", `backup ${entry.id} failed (${entry.manifest?.error ?? "no dump"}): choose another from \`db-backup list\``);
  if (entry.status === "invalid") throw new DbBackupError("integrity", `backup ${entry.id} cannot be trusted: ${entry.problem}`);
  if (entry.status === "legacy" && !allowUnverified) {
    throw new DbBackupError("refused", `backup ${entry.id} is a legacy dump without manifest or checksum: add --allow-unverified to restore it anyway`);
  }
  requireKnownVersion(entry, version);
}

/** Refuses a backup with alarms unless `version` names the dump version its writer recorded. */
export function requireKnownVersion(entry: BackupEntry, version?: string): void {
  if (entry.alarms.length === 0) {
    if (version !== undefined && version !== entry.dumpVersionId) {
      throw usageError(`--dump-version ${version} is not backup ${entry.id}'s dump version (${entry.dumpVersionId ?? "none recorded"})`);
    }
    return;
  }
  if (version === undefined) {
    throw new DbBackupError(
      "integrity",
      `backup ${entry.id} has object versions its backup did not write (${entry.alarms.join("; ")}): someone holding the store's key wrote them; check the bucket, then add --dump-version ${entry.dumpVersionId} to read the version the manifest records`,
    );
  }
  if (version !== entry.dumpVersionId) {
    throw new DbBackupError("integrity", `--dump-version ${version} is not the dump version backup ${entry.id}'s manifest records (${entry.dumpVersionId}): only that one is trusted`);
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
