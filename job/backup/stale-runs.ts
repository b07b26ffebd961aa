// What a run that died leaves behind, cleaned by the next run of the same type: the multipart
// upload it could not abort (the store was down, or the process was killed) and its manifest stuck
// at "running". Called while the run holds the source's advisory lock for its type, so no other
// run of this type against this database is alive: a "running" manifest of the same database and
// type is a dead run's. Uploads of other databases are only touched once their manifest says
// "failed" or, without a manifest, once they are older than STALE_UPLOAD_MS.
import { DUMP_EXTENSIONS, MANIFEST_EXTENSION, objectLayout, type BackupType } from "../core/catalog";
import type { JobContext } from "../core/context";
import { oneLine } from "../core/errors";
import { parseManifest, writeManifest, type BackupManifest } from "../inventory";
import type { IncompleteUpload } from "../core/repository";
import { DAY_MS } from "../core/time";

/** An upload without any manifest is left alone for a day (S3 lifecycle rules usually abort them too). */
export const STALE_UPLOAD_MS = DAY_MS;

export interface StaleCleanup {
  abortedUploads: string[];
  failedManifests: string[];
}

export async function cleanStaleRuns(
  ctx: JobContext,
  type: BackupType,
  database: string,
  ownId: string,
): Promise<StaleCleanup> {
  const { repo, prefix, clock } = ctx;
  const folder = objectLayout.typeFolder(prefix, type);
  const manifests = new Map<string, BackupManifest | null>();
  const manifestOf = async (id: string): Promise<BackupManifest | null> => {
    if (!manifests.has(id)) {
      const key = objectLayout.manifestKey(prefix, type, id);
      let manifest: BackupManifest | null = null;
      try {
        if (await repo.stat(key)) manifest = parseManifest((await repo.getBytes(key)).toString("utf8"), key);
      } catch {
        manifest = null; // unreadable: treated as no manifest (left alone until stale)
      }
      manifests.set(id, manifest);
    }
    return manifests.get(id)!;
  };
  const deadRun = (m: BackupManifest | null) => m !== null && m.status === "running" && m.id !== ownId && m.source.database === database;

  const aborted: string[] = [];
  const uploads: IncompleteUpload[] = await repo.listIncompleteUploads(folder);
  for (const upload of uploads) {
    const name = upload.key.slice(folder.length);
    const ext = Object.values(DUMP_EXTENSIONS).find((e) => name.endsWith(e));
    const id = ext ? name.slice(0, -ext.length) : null;
    if (id === ownId) continue;
    const manifest = id !== null && !id.includes("/") ? await manifestOf(id) : null;
    const old = clock().getTime() - upload.initiated.getTime() > STALE_UPLOAD_MS;
    const abandoned = manifest ? manifest.status !== "running" || deadRun(manifest) : old;
    if (!abandoned) continue;
    await repo.abortIncompleteUpload(upload);
    aborted.push(upload.key);
  }

  // Manifests stuck at "running" by a dead run of this database and type become "failed". Only
  // manifests without a dump beside them can be "running" (a completed backup has its dump), so
  // only those are read.
  const failed: string[] = [];
  const keys = new Set<string>();
  for await (const object of repo.list(folder)) keys.add(object.key);
  for (const key of keys) {
    if (!key.endsWith(MANIFEST_EXTENSION)) continue;
    const id = key.slice(folder.length, -MANIFEST_EXTENSION.length);
    if (id === ownId || id.includes("/")) continue;
    if (Object.values(DUMP_EXTENSIONS).some((ext) => keys.has(folder + id + ext))) continue;
    const manifest = await manifestOf(id);
    if (!manifest || !deadRun(manifest)) continue;
    const finishedAt = clock();
    const marked: BackupManifest = {
      ...manifest,
      status: "failed",
      error: `the run stopped before finishing (killed, or the store was unreachable); found by ${ownId}`,
      finishedAt: finishedAt.toISOString(),
      durationMs: Math.max(0, finishedAt.getTime() - new Date(manifest.startedAt).getTime()),
    };
    try {
      await writeManifest(repo, key, marked);
      failed.push(manifest.id);
    } catch (error) {
      ctx.log.warn(`could not mark the dead run ${manifest.id} as failed: ${oneLine(error)}`);
    }
  }
  return { abortedUploads: aborted, failedManifests: failed };
}
