// The id a backup run took: `runs/<id>.json`, written before the dump starts and never changed.
// A run that ends writes its manifest (completed or failed); a marker without a manifest is a run
// still going, or one that died (the next run of its type and database writes its failed manifest).
// Markers are claims, not evidence: nothing is restored or trusted because of one.
import type { z } from "zod";
import { objectLayout } from "../core/catalog";
import type { BackupRepository, ObjectVersion } from "../core/repository";
import { BackupManifestSchema } from "./manifest";

/** A marker holds what the backup's manifest will hold whatever its outcome, so a dead run's
 * failed manifest is written from it. */
export const RunMarkerSchema = BackupManifestSchema.omit({
  status: true,
  sizes: true,
  sha256: true,
  dumpVersionId: true,
  rowCounts: true,
  contents: true,
  finishedAt: true,
  durationMs: true,
  error: true,
  notification: true,
  verification: true,
});
export type RunMarker = z.infer<typeof RunMarkerSchema>;

export async function writeRunMarker(repo: BackupRepository, prefix: string, marker: RunMarker): Promise<void> {
  await repo.putBytes(objectLayout.runKey(prefix, marker.id), JSON.stringify(RunMarkerSchema.parse(marker), null, 2) + "\n", "application/json");
}

/** The marker a version holds, or null when it is not one (unreadable markers claim nothing). */
export async function readRunMarker(repo: BackupRepository, version: Pick<ObjectVersion, "key" | "versionId">): Promise<RunMarker | null> {
  try {
    const marker = RunMarkerSchema.parse(JSON.parse((await repo.getBytes(version.key, version.versionId)).toString("utf8")));
    // A marker names its own key: one copied under another id claims nothing.
    return version.key.endsWith(objectLayout.runKey("", marker.id)) ? marker : null;
  } catch {
    return null;
  }
}
