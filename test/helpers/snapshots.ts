// What "unchanged" compares: a database before and after (its relations and rows, or its whole
// catalog with grants), and a bucket before and after (every version with its tags and legal hold,
// or the current objects' SHA-256).
import { createHash } from "node:crypto";
import * as Minio from "minio";
import { APP_SCHEMAS, dataFingerprint, sql } from "./pg";
import { getObject, s3Client } from "./s3";

/** Everything a restore could change in a target: relations and every row of the app schemas. */
export async function relationsSnapshot(database: string, schemas?: string[]): Promise<Record<string, string>> {
  const rels = await sql<{ n: string }>(
    database,
    `SELECT string_agg(n.nspname || '.' || c.relname, ',' ORDER BY n.nspname || '.' || c.relname) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND ($1::text[] IS NULL OR n.nspname = ANY($1::text[]))`,
    [schemas ?? null],
  );
  return { relations: rels[0]!.n ?? "", ...(await dataFingerprint(database, schemas ?? [...APP_SCHEMAS, "keep", "public", "auth", "storage"])) };
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

/** Every object version in the bucket with its tags and legal hold: "unchanged" means all of it. */
export async function bucketVersions(bucket: string): Promise<string[]> {
  const client = s3Client();
  const versions: { name: string; versionId?: string; isDeleteMarker?: boolean; size?: number }[] = [];
  for await (const v of client.listObjects(bucket, "", true, { IncludeVersion: true }) as AsyncIterable<(typeof versions)[number]>) versions.push(v);
  const out = await Promise.all(
    versions.map(async (v) => {
      let tags = "";
      if (!v.isDeleteMarker) {
        const t = (await client.getObjectTagging(bucket, v.name, { versionId: v.versionId ?? "" } as never).catch(() => [])) as { Key: string; Value: string }[];
        tags = t.map((x) => `${x.Key}=${x.Value}`).sort().join("&");
      }
      return `${v.name}@${v.versionId ?? "-"}${v.isDeleteMarker ? " (delete marker)" : ""} ${v.size ?? 0} ${tags}`;
    }),
  );
  return out.sort();
}

/** Every current object in the bucket with its SHA-256: "previous backups untouched" compares two of these. */
export async function bucketDigests(bucket: string, client: Minio.Client = s3Client()): Promise<Record<string, string>> {
  const state: Record<string, string> = {};
  for await (const item of client.listObjectsV2(bucket, "", true) as AsyncIterable<Minio.BucketItem>) {
    if (!item.name) continue;
    state[item.name] = createHash("sha256").update(await getObject(bucket, item.name)).digest("hex");
  }
  return state;
}
