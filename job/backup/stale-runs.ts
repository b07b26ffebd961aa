// What a run that died leaves behind, cleaned by the next run of the same type: the multipart
// upload it could not abort (the store was down, or the process was killed) and its run marker
// without a manifest. Called while the run holds the source's advisory lock for its type, so no
// other run of this type against this database is alive: a marker of the same database and type
// without a manifest is a dead run's, and gets its one manifest, "failed" (any dump it stored stays
// unread, and lifecycle takes it). Uploads of other databases are only touched once their run has a
// manifest or, without marker or manifest, once they are older than STALE_UPLOAD_MS.
import { DUMP_EXTENSIONS, MANIFEST_EXTENSION, objectLayout, type BackupType } from "../core/catalog";
import type { JobContext } from "../core/context";
import { oneLine } from "../core/errors";
import { parseManifest, readRunMarker, writeManifest, type BackupManifest, type RunMarker } from "../inventory";
import type { IncompleteUpload } from "../core/repository";
import { DAY_MS, SECOND_MS } from "../core/time";

/** An upload without any manifest is left alone for a day (S3 lifecycle rules usually abort them too). */
export const STALE_UPLOAD_MS = DAY_MS;

export interface StaleCleanup {
  abortedUploads: string[];
  failedManifests: string[];
}

export async function cleanStaleRuns(
  ctx: JobContext,
  settings: { type: BackupType; database: string; ownId: string; lockSeconds: number },
): Promise<StaleCleanup> {
  const { repo, prefix, clock } = ctx;
  const { type, database, ownId } = settings;
  const folder = objectLayout.typeFolder(prefix, type);
  const current = new Set<string>();
  for await (const object of repo.list(folder)) current.add(object.key);
  const hasManifest = (id: string) => current.has(objectLayout.manifestKey(prefix, type, id));

  const runs = new Map<string, RunMarker>();
  for await (const object of repo.list(objectLayout.runsFolder(prefix))) {
    const marker = await readRunMarker(repo, { key: object.key, versionId: null });
    if (marker && marker.type === type) runs.set(marker.id, marker);
  }
  // Manifests older versions of db-backup wrote at "running" and rewrote at the end (schema 1):
  // only those without a dump beside them can still say "running".
  const runningV1 = new Map<string, BackupManifest>();
  for (const key of current) {
    if (!key.endsWith(MANIFEST_EXTENSION)) continue;
    const id = key.slice(folder.length, -MANIFEST_EXTENSION.length);
    if (Object.values(DUMP_EXTENSIONS).some((ext) => current.has(folder + id + ext))) continue;
    const manifest = await readManifest(ctx, key);
    if (manifest?.schemaVersion === 1 && manifest.status === "running") runningV1.set(id, manifest);
  }
  const ours = (id: string) => id !== ownId && (runs.get(id)?.source.database ?? runningV1.get(id)?.source.database) === database;
  /** A run of this type and database that is not alive (we hold the lock) and never ended. */
  const deadRun = (id: string) => ours(id) && (runningV1.has(id) || (runs.has(id) && !hasManifest(id)));

  const aborted: string[] = [];
  const uploads: IncompleteUpload[] = await repo.listIncompleteUploads(folder);
  for (const upload of uploads) {
    const name = upload.key.slice(folder.length);
    const ext = Object.values(DUMP_EXTENSIONS).find((e) => name.endsWith(e));
    const id = ext ? name.slice(0, -ext.length) : null;
    if (id === null || id === ownId || id.includes("/")) {
      if (id !== ownId && clock().getTime() - upload.initiated.getTime() > STALE_UPLOAD_MS) await abort(upload);
      continue;
    }
    const ended = hasManifest(id) && !runningV1.has(id);
    const unclaimed = !hasManifest(id) && !runs.has(id) && clock().getTime() - upload.initiated.getTime() > STALE_UPLOAD_MS;
    if (ended || deadRun(id) || unclaimed) await abort(upload);
  }
  async function abort(upload: IncompleteUpload): Promise<void> {
    await repo.abortIncompleteUpload(upload);
    aborted.push(upload.key);
  }

  const failed: string[] = [];
  for (const id of new Set([...runs.keys(), ...runningV1.keys()])) {
    if (!deadRun(id)) continue;
    const base = runningV1.get(id) ?? runs.get(id)!;
    const key = objectLayout.manifestKey(prefix, type, id);
    const finishedAt = clock();
    const manifest: BackupManifest = {
      ...base,
      status: "failed",
      error: `the run stopped before finishing (killed, or the store was unreachable); found by ${ownId}`,
      sizes: { stored: 0, dumped: null },
      sha256: null,
      rowCounts: null,
      finishedAt: finishedAt.toISOString(),
      durationMs: Math.max(0, finishedAt.getTime() - new Date(base.startedAt).getTime()),
    };
    try {
      const versionId = await writeManifest(repo, key, manifest);
      await repo.lockUntil(key, new Date(clock().getTime() + settings.lockSeconds * SECOND_MS), versionId);
      failed.push(id);
    } catch (error) {
      ctx.log.warn(`could not mark the dead run ${id} as failed: ${oneLine(error)}`);
    }
  }
  return { abortedUploads: aborted, failedManifests: failed };
}

async function readManifest(ctx: JobContext, key: string): Promise<BackupManifest | null> {
  try {
    return parseManifest((await ctx.repo.getBytes(key)).toString("utf8"), key);
  } catch {
    return null; // unreadable: claims nothing
  }
}
