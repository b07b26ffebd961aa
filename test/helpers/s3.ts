// The real S3 server (Ceph RGW on loopback) for tests: one fresh bucket per test file.
import * as Minio from "minio";
import { services } from "./services";

export function s3Client(accessKey = services.s3AccessKey, secretKey = services.s3SecretKey): Minio.Client {
  const url = new URL(services.s3Endpoint);
  return new Minio.Client({
    endPoint: url.hostname,
    port: Number(url.port || 80),
    useSSL: url.protocol === "https:",
    accessKey,
    secretKey,
    region: "us-east-1",
    pathStyle: true,
  });
}

export function uniqueBucket(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`.toLowerCase().slice(0, 63);
}

export async function makeBucket(name: string, options: { objectLocking?: boolean; versioning?: boolean } = {}): Promise<void> {
  const client = s3Client();
  await client.makeBucket(name, "us-east-1", options.objectLocking ? { ObjectLocking: true } : undefined);
  if (options.versioning && !options.objectLocking) await client.setBucketVersioning(name, { Status: "Enabled" });
}

export async function listKeys(bucket: string, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of s3Client().listObjectsV2(bucket, prefix, true) as AsyncIterable<Minio.BucketItem>) {
    if (item.name) keys.push(item.name);
  }
  return keys.sort();
}

export async function incompleteUploads(bucket: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of s3Client().listIncompleteUploads(bucket, "", true) as AsyncIterable<{ key: string }>) keys.push(item.key);
  return keys;
}

export async function getObject(bucket: string, key: string): Promise<Buffer> {
  const stream = await s3Client().getObject(bucket, key);
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function putObject(bucket: string, key: string, body: Buffer | string): Promise<void> {
  const buffer = typeof body === "string" ? Buffer.from(body) : body;
  await s3Client().putObject(bucket, key, buffer, buffer.length);
}

/** Removes every object version (and the bucket); tolerant of locks in tests that use them:
 * legal holds (which outlive a governance bypass) are released first. */
export async function removeBucket(name: string): Promise<void> {
  const client = s3Client();
  try {
    const versions: { name: string; versionId?: string | null; isDeleteMarker?: boolean }[] = [];
    for await (const item of client.listObjects(name, "", true, { IncludeVersion: true }) as AsyncIterable<{ name: string; versionId?: string | null; isDeleteMarker?: boolean }>) {
      versions.push(item);
    }
    for (const v of versions.filter((v) => !v.isDeleteMarker)) {
      await Promise.resolve(
        client.setObjectLegalHold(name, v.name, { status: Minio.LEGAL_HOLD_STATUS.DISABLED, versionId: v.versionId ?? "" }),
      ).catch(() => undefined);
    }
    for (const v of versions) {
      await client.removeObject(name, v.name, { versionId: v.versionId ?? undefined, governanceBypass: true } as never).catch(() => undefined);
    }
    await client.removeBucket(name);
  } catch {
    /* best effort: leftovers are per-test unique names */
  }
}

export async function objectTags(bucket: string, key: string): Promise<Record<string, string>> {
  const tags = (await s3Client().getObjectTagging(bucket, key)) as { Key: string; Value: string }[];
  return Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
}

export async function legalHold(bucket: string, key: string): Promise<boolean> {
  const status: unknown = await s3Client().getObjectLegalHold(bucket, key).catch(() => ({ Status: "OFF" }));
  return (status as { Status?: string }).Status === Minio.LEGAL_HOLD_STATUS.ENABLED;
}

/** What the server answers an S3 call: "allowed", or its error code (AccessDenied, …). */
export async function errorCode(action: Promise<unknown>): Promise<string> {
  try {
    await action;
    return "allowed";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}
