// Any S3-compatible store (MinIO, Ceph RGW, AWS) through the official `minio` client. Streams are
// uploaded as multipart uploads with parts that grow with the upload (see part-size.ts), at most one
// part in flight while the next fills, so memory stays bounded whatever the dump size; any error
// aborts the upload so nothing partial is left.
import { readFileSync } from "node:fs";
import https from "node:https";
import type { Readable } from "node:stream";
import * as Minio from "minio";
import type { S3Settings } from "../core/settings";
import { oneLine, usageError } from "../core/errors";
import { MiB, nextPartSize } from "./part-size";
import { ObjectNotFoundError, type BackupRepository, type IncompleteUpload, type ObjectVersion, type PutResult, type StoredObject } from "../core/repository";

type ClientWithMultipart = Minio.Client & {
  initiateNewMultipartUpload(bucket: string, key: string, headers: Record<string, string>): Promise<string>;
  uploadPart(
    cfg: { bucketName: string; objectName: string; uploadID: string; partNumber: number; headers: Record<string, string> },
    payload: Buffer,
  ): Promise<{ etag: string; part: number }>;
  completeMultipartUpload(bucket: string, key: string, uploadId: string, etags: { part: number; etag?: string }[]): Promise<{ etag?: string; versionId?: string | null }>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  listIncompleteUploadsQuery(
    bucket: string,
    prefix: string,
    keyMarker: string,
    uploadIdMarker: string,
    delimiter: string,
  ): Promise<{
    isTruncated: boolean;
    nextKeyMarker: string;
    nextUploadIdMarker: string;
    uploads: { key: string; uploadId: string; initiated: Date }[];
  }>;
};

export interface S3RepositoryOptions {
  /** Smallest part size in bytes (tests lower it to exercise many parts). */
  basePartSize?: number;
  /** The same in MiB (BACKUP_PART_SIZE_MB); basePartSize wins when both are given. */
  basePartSizeMb?: number;
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return code === "NoSuchKey" || code === "NotFound" || code === "NoSuchVersion";
}

export class S3Repository implements BackupRepository {
  readonly location: string;
  readonly client: ClientWithMultipart;
  readonly bucket: string;

  private readonly basePartSize: number | undefined;

  constructor(settings: S3Settings, options: S3RepositoryOptions = {}) {
    this.basePartSize = options.basePartSize ?? (options.basePartSizeMb !== undefined ? options.basePartSizeMb * MiB : undefined);
    const url = settings.endpoint;
    const useSSL = url.protocol === "https:";
    const port = url.port ? Number(url.port) : useSSL ? 443 : 80;
    this.client = new Minio.Client({
      endPoint: url.hostname,
      port,
      useSSL,
      accessKey: settings.accessKey,
      secretKey: settings.secretKey,
      region: "us-east-1",
      pathStyle: true,
      ...(useSSL && settings.caFile ? { transportAgent: new https.Agent({ ca: readCa(settings.caFile), keepAlive: true }) } : {}),
    }) as ClientWithMultipart;
    this.bucket = settings.bucket;
    this.location = `s3://${settings.bucket} at ${url.origin}`;
  }

  displayPath(key: string): string {
    return `${this.bucket}/${key}`;
  }

  async ensureReady(): Promise<void> {
    let exists: boolean;
    try {
      exists = await this.client.bucketExists(this.bucket);
    } catch (error) {
      throw new Error(`cannot reach S3 bucket ${this.bucket} at ${this.location}: ${describeS3Error(error)}`, { cause: error });
    }
    if (!exists) {
      throw new Error(`S3 bucket ${this.bucket} does not exist at ${this.location}: create it (pulumi up does) or set MINIO_BUCKET`);
    }
  }

  async putStream(key: string, body: Readable, contentType = "application/octet-stream"): Promise<PutResult> {
    const headers = { "Content-Type": contentType };
    const s3 = <T>(call: Promise<T>): Promise<T> =>
      call.catch((error: unknown) => {
        throw new Error(`S3 upload of ${key} failed: ${describeS3Error(error)}`, { cause: error });
      });
    let uploadId: string | undefined;
    let partNumber = 0;
    let uploaded = 0;
    let inFlight: Promise<void> | undefined;
    const etags: { part: number; etag: string }[] = [];
    // A part that fails while the next one fills is seen at the next chunk (and always handled:
    // an unobserved rejection would kill the process before the upload is aborted).
    let partError: unknown;
    // Chunks are copied once, straight into the part being filled. Two part buffers are reused
    // for the whole upload (the one in flight and the one filling; a new one only when the part
    // size grows), so memory is the same for 1 GB and 1 TB and the GC has no garbage to chase.
    const spare: Buffer[] = [];
    const partBuffer = (size: number) => {
      const i = spare.findIndex((b) => b.length === size);
      return i >= 0 ? spare.splice(i, 1)[0]! : Buffer.allocUnsafe(size);
    };
    let part = partBuffer(nextPartSize(0, this.basePartSize));
    let filled = 0;

    const sendPart = async (payload: Buffer) => {
      uploadId ??= await s3(this.client.initiateNewMultipartUpload(this.bucket, key, headers));
      const number = ++partNumber;
      inFlight = s3(this.client.uploadPart({ bucketName: this.bucket, objectName: key, uploadID: uploadId, partNumber: number, headers: {} }, payload)).then(
        (r) => {
          etags.push({ part: number, etag: r.etag });
          spare.length = 0; // an older size is never needed again
          spare.push(payload);
        },
      );
      inFlight.catch((error: unknown) => (partError ??= error));
      uploaded += payload.length;
    };

    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (partError !== undefined) throw partError;
        let offset = 0;
        while (offset < chunk.length) {
          const n = Math.min(chunk.length - offset, part.length - filled);
          chunk.copy(part, filled, offset, offset + n);
          filled += n;
          offset += n;
          if (filled === part.length) {
            await inFlight; // one part in flight while the next fills: bounded memory
            await sendPart(part);
            part = partBuffer(nextPartSize(uploaded, this.basePartSize));
            filled = 0;
          }
        }
      }
      const rest = part.subarray(0, filled);
      if (uploadId === undefined) {
        const put = await s3(this.client.putObject(this.bucket, key, rest, rest.length, headers));
        return { size: rest.length, versionId: put.versionId ?? null };
      }
      await inFlight;
      if (rest.length > 0) {
        await sendPart(rest);
        await inFlight;
      }
      etags.sort((a, b) => a.part - b.part);
      const completed = await s3(this.client.completeMultipartUpload(this.bucket, key, uploadId, etags));
      return { size: uploaded, versionId: completed?.versionId ?? null };
    } catch (error) {
      await inFlight?.catch(() => undefined);
      if (uploadId !== undefined) {
        await this.client.abortMultipartUpload(this.bucket, key, uploadId).catch(() => undefined);
      }
      body.destroy();
      throw error;
    }
  }

  /** Multipart uploads under `prefix` that were started and never completed nor aborted (a run
   * killed mid-upload, or whose abort could not reach the server). */
  async listIncompleteUploads(prefix: string): Promise<IncompleteUpload[]> {
    const found: IncompleteUpload[] = [];
    let keyMarker = "";
    let uploadIdMarker = "";
    for (;;) {
      const page = await this.client.listIncompleteUploadsQuery(this.bucket, prefix, keyMarker, uploadIdMarker, "");
      for (const u of page.uploads ?? []) {
        found.push({ key: u.key, uploadId: u.uploadId, initiated: u.initiated instanceof Date && !Number.isNaN(u.initiated.getTime()) ? u.initiated : new Date(0) });
      }
      if (!page.isTruncated) return found;
      keyMarker = page.nextKeyMarker;
      uploadIdMarker = page.nextUploadIdMarker;
    }
  }

  async abortIncompleteUpload(upload: IncompleteUpload): Promise<void> {
    await this.client.abortMultipartUpload(this.bucket, upload.key, upload.uploadId);
  }

  async putBytes(key: string, body: Buffer | string, contentType = "application/json"): Promise<PutResult> {
    const buffer = typeof body === "string" ? Buffer.from(body) : body;
    const put = await this.client.putObject(this.bucket, key, buffer, buffer.length, { "Content-Type": contentType });
    return { size: buffer.length, versionId: put.versionId ?? null };
  }

  async getStream(key: string, versionId?: string | null): Promise<Readable> {
    try {
      return await this.client.getObject(this.bucket, key, versionId ? { versionId } : {});
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  async getBytes(key: string, versionId?: string | null): Promise<Buffer> {
    const stream = await this.getStream(key, versionId);
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const s = await this.client.statObject(this.bucket, key);
      return { key, size: s.size, lastModified: s.lastModified };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const stream = this.client.listObjectsV2(this.bucket, prefix, true);
    for await (const item of stream as AsyncIterable<Minio.BucketItem>) {
      if (item.name === undefined) continue;
      yield { key: item.name, size: item.size ?? 0, lastModified: item.lastModified ?? new Date(0) };
    }
  }

  async *listVersions(prefix: string): AsyncIterable<ObjectVersion> {
    const stream = this.client.listObjects(this.bucket, prefix, true, { IncludeVersion: true });
    type Item = { name?: string; versionId?: string | null; size?: number; lastModified?: Date; isLatest?: boolean; isDeleteMarker?: boolean };
    for await (const item of stream as AsyncIterable<Item>) {
      if (item.name === undefined) continue;
      yield {
        key: item.name,
        versionId: item.versionId && item.versionId !== "null" ? item.versionId : null,
        size: item.size ?? 0,
        lastModified: item.lastModified ?? new Date(0),
        isLatest: item.isLatest === true,
        deleteMarker: item.isDeleteMarker === true,
      };
    }
  }

  private locking: Promise<boolean> | undefined;
  /** Asked once per run: a bucket's Object Lock is fixed when it is made. */
  supportsLocking(): Promise<boolean> {
    this.locking ??= Promise.resolve(this.client.getObjectLockConfig(this.bucket) as unknown).then(
      (config: unknown) => (config as { objectLockEnabled?: string })?.objectLockEnabled === "Enabled",
      () => false,
    );
    return this.locking;
  }

  async lockUntil(key: string, until: Date, versionId?: string | null): Promise<void> {
    if (!(await this.supportsLocking())) return;
    const current = await this.retainedUntil(key, versionId);
    if (current && current.getTime() >= until.getTime()) return; // retention is only ever extended
    await this.client.putObjectRetention(this.bucket, key, {
      mode: Minio.RETENTION_MODES.GOVERNANCE,
      retainUntilDate: until.toISOString(),
      ...(versionId ? { versionId } : {}),
    } as Minio.Retention);
  }

  async retainedUntil(key: string, versionId?: string | null): Promise<Date | null> {
    if (!(await this.supportsLocking())) return null;
    try {
      const retention: unknown = await this.client.getObjectRetention(this.bucket, key, versionId ? ({ versionId } as never) : undefined);
      const until = (retention as { retainUntilDate?: string } | null)?.retainUntilDate;
      const date = until ? new Date(until) : null;
      return date && !Number.isNaN(date.getTime()) ? date : null;
    } catch {
      return null; // no retention on this version
    }
  }

  async getLegalHold(key: string): Promise<boolean> {
    if (!(await this.supportsLocking())) return false;
    try {
      // The client's typings say a string; it resolves to the parsed XML, { Status: "ON" }.
      const status: unknown = await this.client.getObjectLegalHold(this.bucket, key);
      const value = typeof status === "object" && status !== null ? (status as { Status?: string }).Status : status;
      return value === Minio.LEGAL_HOLD_STATUS.ENABLED;
    } catch {
      return false;
    }
  }

  async deleteAllVersions(key: string): Promise<void> {
    const versions: { name: string; versionId?: string | null }[] = [];
    const stream = this.client.listObjects(this.bucket, key, false, { IncludeVersion: true });
    for await (const item of stream as AsyncIterable<{ name?: string; versionId?: string | null }>) {
      if (item.name === key) versions.push({ name: item.name, versionId: item.versionId });
    }
    for (const v of versions) {
      await this.client.removeObject(this.bucket, key, v.versionId ? { versionId: v.versionId } : {});
    }
  }
}

/** The CA bundle an https endpoint is verified against (MINIO_CA_FILE): unreadable is a usage error. */
function readCa(file: string): Buffer {
  let ca: Buffer;
  try {
    ca = readFileSync(file);
  } catch (error) {
    throw usageError(`MINIO_CA_FILE ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? oneLine(error)}): give a PEM file with the CA of the S3 endpoint`, error);
  }
  if (!ca.toString("latin1").includes("-----BEGIN CERTIFICATE-----")) {
    throw usageError(`MINIO_CA_FILE ${file} holds no PEM certificate: give the CA of the S3 endpoint in PEM form`);
  }
  return ca;
}

/** A short reason for an S3 failure that never includes credentials. */
export function describeS3Error(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (e?.code === "InvalidAccessKeyId" || e?.code === "SignatureDoesNotMatch") {
    return `the S3 server rejected the credentials (${e.code}): check MINIO_ACCESS_KEY and MINIO_SECRET_KEY`;
  }
  if (e?.code === "ECONNREFUSED") return "connection refused: is the S3 server running and MINIO_ENDPOINT right?";
  if (e?.code === "ENOTFOUND") return "host not found: check MINIO_ENDPOINT";
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(e?.code ?? "")) {
    return `TLS: the S3 endpoint's certificate is not trusted (${e.code}: ${e.message ?? ""}): set MINIO_CA_FILE to its CA`;
  }
  return e?.code ? `${e.code}: ${e.message ?? ""}`.trim() : String(e?.message ?? error);
}
