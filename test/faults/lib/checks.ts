// What every fault case asserts: a non-zero exit with one line naming the reason, nothing that
// claims success, no upload left behind, and the earlier backups exactly as they were.
import { createHash } from "node:crypto";
import * as Minio from "minio";
import { expect } from "vitest";
import { BackupManifestSchema, type BackupManifest } from "../../../job/inventory/manifest";
import { type CliResult } from "../../helpers/cli";
import { dataFingerprint, sql } from "../../helpers/pg";
import { getObject, incompleteUploads, s3Client } from "../../helpers/s3";

export function expectOneLineError(result: Pick<CliResult, "stderr" | "code">, pattern: RegExp): string {
  expect(result.code, result.stderr).not.toBe(0);
  const errors = result.stderr.split("\n").filter((l) => l.startsWith("error"));
  expect(errors, result.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
  return errors[0]!;
}

/** Every object in the bucket with its SHA-256: "previous backups untouched" compares two of these. */
export async function bucketState(bucket: string, client: Minio.Client = s3Client()): Promise<Record<string, string>> {
  const state: Record<string, string> = {};
  for await (const item of client.listObjectsV2(bucket, "", true) as AsyncIterable<Minio.BucketItem>) {
    if (!item.name) continue;
    state[item.name] = createHash("sha256").update(await getObject(bucket, item.name)).digest("hex");
  }
  return state;
}

export async function manifests(bucket: string): Promise<BackupManifest[]> {
  const out: BackupManifest[] = [];
  for await (const item of s3Client().listObjectsV2(bucket, "", true) as AsyncIterable<Minio.BucketItem>) {
    if (item.name?.endsWith(".manifest.json")) out.push(BackupManifestSchema.parse(JSON.parse((await getObject(bucket, item.name)).toString())));
  }
  return out;
}

/**
 * After a failed create: the objects that were there before are byte-identical (latest too), every
 * new manifest is not `completed`, no new dump exists and no multipart upload is left.
 */
export async function expectFailedCreateLeftNothing(bucket: string, before: Record<string, string>, options: { allowRunning?: boolean; uploadsLeft?: boolean } = {}): Promise<BackupManifest[]> {
  const after = await bucketState(bucket);
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

/** Everything a restore could change in a database: relations, their rows, schemas and grants. */
export async function dbSnapshot(database: string): Promise<Record<string, unknown>> {
  const rows = await sql<{ k: string; v: string }>(
    database,
    `SELECT 'schema ' || nspname AS k, coalesce(array_to_string(ARRAY(SELECT a::text FROM unnest(coalesce(nspacl, acldefault('n', nspowner))) a ORDER BY 1), ','), '') || ' | ' || coalesce(obj_description(oid, 'pg_namespace'), '') AS v
       FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
     UNION ALL
     SELECT 'rel ' || n.nspname || '.' || c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
     UNION ALL
     SELECT 'proc ' || p.oid::regprocedure::text, '' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
     UNION ALL
     SELECT 'ext ' || extname, extversion FROM pg_extension
     ORDER BY 1`,
  );
  const schemas = rows.filter((r) => r.k.startsWith("schema ")).map((r) => r.k.slice(7));
  return { catalog: Object.fromEntries(rows.map((r) => [r.k, r.v])), data: await dataFingerprint(database, schemas) };
}
