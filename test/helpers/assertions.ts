// What a refusal or a failure asserts: one line naming the reason on stderr, the exit code, and
// after a failed create, nothing that claims success and no upload left behind.
import { expect } from "vitest";
import { BackupManifestSchema, type BackupManifest } from "../../job/inventory/manifest";
import { type CliResult } from "./cli";
import { getObject, incompleteUploads } from "./s3";
import { bucketDigests } from "./snapshots";

/** Exactly one `error…` line on stderr, matching `pattern`; returns it. */
export function expectOneLineError(result: Pick<CliResult, "stderr">, pattern: RegExp): string {
  const errors = result.stderr.split("\n").filter((l) => l.startsWith("error"));
  expect(errors, result.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
  return errors[0]!;
}

/** A failure: a non-zero exit and one error line matching `pattern`; returns the line. */
export function expectFailure(result: Pick<CliResult, "stderr" | "code">, pattern: RegExp): string {
  expect(result.code, result.stderr).not.toBe(0);
  return expectOneLineError(result, pattern);
}

/** A refusal: exit 3 and one error line matching `pattern`. */
export function expectRefused(result: CliResult, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(3);
  expectOneLineError(result, pattern);
}

/**
 * After a failed create: the objects that were there before are byte-identical (latest.json too),
 * each new backup is a failed manifest or (with `allowRunning`, when the store died before the
 * manifest could be written) only the run marker that took its id; no new dump exists and no
 * multipart upload is left. Returns the new backups' ids and states.
 */
export async function expectFailedCreateLeftNothing(
  bucket: string,
  before: Record<string, string>,
  options: { allowRunning?: boolean; uploadsLeft?: boolean } = {},
): Promise<{ id: string; status: "failed" | "running"; manifest?: BackupManifest }[]> {
  const after = await bucketDigests(bucket);
  for (const [key, sha] of Object.entries(before)) expect(after[key], `${key} changed or vanished`).toBe(sha);
  const added = Object.keys(after).filter((k) => !(k in before));
  const runs = new Set<string>();
  const failed = new Map<string, BackupManifest>();
  for (const key of added) {
    const run = /\/runs\/([^/]+)\.json$/.exec(key);
    if (run) {
      runs.add(run[1]!);
      continue;
    }
    expect(key, "a failed run stored something other than its run marker and manifest").toMatch(/\.manifest\.json$/);
    const m = BackupManifestSchema.parse(JSON.parse((await getObject(bucket, key)).toString()));
    expect(m.status, `${key} is ${m.status}`).toBe("failed");
    failed.set(m.id, m);
  }
  for (const id of failed.keys()) expect(runs.has(id), `failed backup ${id} has no run marker`).toBe(true);
  const left = [...runs].filter((id) => !failed.has(id));
  if (!options.allowRunning) expect(left, "runs without a manifest").toEqual([]);
  if (!options.uploadsLeft) expect(await incompleteUploads(bucket)).toEqual([]);
  return [...[...failed.values()].map((m) => ({ id: m.id, status: "failed" as const, manifest: m })), ...left.map((id) => ({ id, status: "running" as const }))];
}
