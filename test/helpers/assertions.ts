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
 * After a failed create: the objects that were there before are byte-identical (latest too), every
 * new manifest is not `completed`, no new dump exists and no multipart upload is left.
 */
export async function expectFailedCreateLeftNothing(bucket: string, before: Record<string, string>, options: { allowRunning?: boolean; uploadsLeft?: boolean } = {}): Promise<BackupManifest[]> {
  const after = await bucketDigests(bucket);
  for (const [key, sha] of Object.entries(before)) expect(after[key], `${key} changed or vanished`).toBe(sha);
  const added = Object.keys(after).filter((k) => !(k in before));
  const newManifests: BackupManifest[] = [];
  for (const key of added) {
    expect(key, "a failed run stored something other than its manifest").toMatch(/\.manifest\.json$/);
    const m = BackupManifestSchema.parse(JSON.parse((await getObject(bucket, key)).toString()));
    expect(m.status === "failed" || (options.allowRunning === true && m.status === "running"), `${key} is ${m.status}`).toBe(true);
    newManifests.push(m);
  }
  if (!options.uploadsLeft) expect(await incompleteUploads(bucket)).toEqual([]);
  return newManifests;
}
