// The store every room uses, as an interface: store/ implements it for S3 and for a directory.
// Objects are written once and read by version: the version a writer got back is what readers ask
// for, so a later version (written by someone holding the same key) is never read by mistake, and
// every version is listed, so such a version is seen.
import type { Readable } from "node:stream";

export interface StoredObject {
  key: string;
  size: number;
  lastModified: Date;
}

/** One version of one key, as ListObjectVersions gives it. */
export interface ObjectVersion {
  key: string;
  /** null on a store without versions (a directory): its one version. */
  versionId: string | null;
  size: number;
  lastModified: Date;
  isLatest: boolean;
  /** A delete marker (lifecycle's expiry on a versioned bucket): no content. */
  deleteMarker: boolean;
}

export interface PutResult {
  size: number;
  /** The version this write created (null on a store without versions). */
  versionId: string | null;
}

/**
 * Where backups live. One interface, two implementations (S3 and a local directory); nothing above
 * it knows which. Keys are relative to the bucket (or directory) and use "/" separators.
 */
export interface BackupRepository {
  /** Where this is, for messages: `s3://bucket` or a directory path. Never contains a secret. */
  readonly location: string;
  /** How events and messages name an object: `bucket/key` for S3, the file's path for a directory. */
  displayPath(key: string): string;
  /** Makes sure the bucket or directory exists and is reachable (a clear error if not). */
  ensureReady(): Promise<void>;
  /** Streams `body` to `key`. Atomic: on any error nothing is visible at `key` and no partial
   * upload is left behind. */
  putStream(key: string, body: Readable, contentType?: string): Promise<PutResult>;
  putBytes(key: string, body: Buffer | string, contentType?: string): Promise<PutResult>;
  /** A version of `key` (its current one when `versionId` is null or absent). */
  getStream(key: string, versionId?: string | null): Promise<Readable>;
  getBytes(key: string, versionId?: string | null): Promise<Buffer>;
  /** null when there is no such object. */
  stat(key: string): Promise<StoredObject | null>;
  /** The current objects under `prefix`. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Every version of every key under `prefix`, delete markers included. */
  listVersions(prefix: string): AsyncIterable<ObjectVersion>;
  /** Whether the store enforces retention locks (S3 Object Lock on the bucket). */
  supportsLocking(): Promise<boolean>;
  /** GOVERNANCE retention of a version until `until`, or later when it already is: retention is
   * only ever extended. A no-op where locking is unsupported. */
  lockUntil(key: string, until: Date, versionId?: string | null): Promise<void>;
  /** Until when a version is retained (null: not locked, or no locking). */
  retainedUntil(key: string, versionId?: string | null): Promise<Date | null>;
  /** Whether someone (an operator) put a legal hold on the current version; the job sets none. */
  getLegalHold(key: string): Promise<boolean>;
  /** Removes every version of `key` for good (operators' credentials only). */
  deleteAllVersions(key: string): Promise<void>;
  /** Uploads under `prefix` that were started and never finished (S3 multipart uploads, partial
   * files of a directory): what a killed run, or one whose abort could not reach the store, left. */
  listIncompleteUploads(prefix: string): Promise<IncompleteUpload[]>;
  /** Discards one of them (its parts are freed; nothing is visible at its key either way). */
  abortIncompleteUpload(upload: IncompleteUpload): Promise<void>;
}

export interface IncompleteUpload {
  /** The key the upload would have completed to. */
  key: string;
  uploadId: string;
  initiated: Date;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no object at ${key}`);
    this.name = "ObjectNotFoundError";
  }
}
