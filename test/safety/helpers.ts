// Shared by the safety tests: a source database and bucket per file, "unchanged" snapshots of a
// target and of the bucket (every version, tag and hold), and the one-line-error check.
import { expect } from "vitest";
import * as Minio from "minio";
import { BackupManifestSchema, type BackupManifest } from "../../job/inventory/manifest";
import { jobEnv as servicesEnv, runCli, type CliResult } from "../helpers/cli";
import { createDatabase, dataFingerprint, dbUrl, loadFixture, sql, uniqueName } from "../helpers/pg";
import { getObject, putObject, s3Client } from "../helpers/s3";
import { services } from "../helpers/services";

export const APP_SCHEMAS = ["pmoves_core", "archon"];

export function jobEnv(bucket: string, sourceUrl: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  return servicesEnv(sourceUrl, bucket, { VERIFY_DB_URL: services.pgUrl, ...extra });
}

/** A database loaded with the fixture (or empty), remembered for cleanup. */
export async function database(created: string[], prefix: string, options: { fixture?: boolean; sql?: string } = {}): Promise<{ name: string; url: string }> {
  const name = uniqueName(prefix);
  created.push(name);
  const url = await createDatabase(name);
  if (options.fixture) loadFixture(name);
  if (options.sql) await sql(name, options.sql);
  return { name, url };
}

/** Everything a restore could change in a target: relations and every row of the app schemas. */
export async function snapshot(database: string, schemas?: string[]): Promise<Record<string, string>> {
  const rels = await sql<{ n: string }>(
    database,
    `SELECT string_agg(n.nspname || '.' || c.relname, ',' ORDER BY n.nspname || '.' || c.relname) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND ($1::text[] IS NULL OR n.nspname = ANY($1::text[]))`,
    [schemas ?? null],
  );
  return { relations: rels[0]!.n ?? "", ...(await dataFingerprint(database, schemas ?? [...APP_SCHEMAS, "keep", "public", "auth", "storage"])) };
}

/** Every object version in the bucket with its tags and legal hold: "unchanged" means all of it. */
export async function bucketState(bucket: string): Promise<string[]> {
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

export function expectOneLineError(result: CliResult, pattern: RegExp): void {
  const errors = result.stderr.split("\n").filter((l) => l.startsWith("error"));
  expect(errors, result.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
}

export function expectRefused(result: CliResult, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(3);
  expectOneLineError(result, pattern);
}

export async function createBackup(env: Record<string, string>, args: string[] = []): Promise<BackupManifest> {
  const result = await runCli(["create", "--json", ...args], env);
  expect(result.code, result.stderr).toBe(0);
  return BackupManifestSchema.parse(JSON.parse(result.stdout));
}

export async function verifyBackup(env: Record<string, string>, id: string): Promise<CliResult> {
  const result = await runCli(["verify", id, "--allow-source-server"], env);
  expect(result.code, result.stderr).toBe(0);
  return result;
}

export function manifestKey(m: BackupManifest, prefix = "supabase"): string {
  return `${prefix}/${m.type}/${m.id}.manifest.json`;
}

export async function readManifest(bucket: string, m: BackupManifest): Promise<BackupManifest> {
  return BackupManifestSchema.parse(JSON.parse((await getObject(bucket, manifestKey(m))).toString("utf8")));
}

/** Rewrites a manifest (a new version), e.g. to make a backup look older than it is. */
export async function rewriteManifest(bucket: string, m: BackupManifest, change: (m: BackupManifest) => BackupManifest): Promise<BackupManifest> {
  const next = change(await readManifest(bucket, m));
  await putObject(bucket, manifestKey(m), JSON.stringify(next, null, 2) + "\n");
  return next;
}

export async function objectTags(bucket: string, key: string): Promise<Record<string, string>> {
  const tags = (await s3Client().getObjectTagging(bucket, key)) as { Key: string; Value: string }[];
  return Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
}

export async function legalHold(bucket: string, key: string): Promise<boolean> {
  const status: unknown = await s3Client().getObjectLegalHold(bucket, key).catch(() => ({ Status: "OFF" }));
  return (status as { Status?: string }).Status === Minio.LEGAL_HOLD_STATUS.ENABLED;
}

export { dbUrl, runCli };
