import type { Readable } from "node:stream";

export interface StoredObject {
  key: string;
  size: number;
  lastModified: Date;
}

export interface PutResult {
  size: number;
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
  putBytes(key: string, body: Buffer | string, contentType?: string): Promise<void>;
  getStream(key: string): Promise<Readable>;
  getBytes(key: string): Promise<Buffer>;
  /** null when there is no such object. */
  stat(key: string): Promise<StoredObject | null>;
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Server-side copy where the store has one. */
  copy(sourceKey: string, targetKey: string): Promise<void>;
  getTags(key: string): Promise<Record<string, string>>;
  setTags(key: string, tags: Record<string, string>): Promise<void>;
  /** Whether the store enforces retention locks (S3 Object Lock on the bucket). */
  supportsLocking(): Promise<boolean>;
  /** GOVERNANCE retention of the current version until `until`; no-op where locking is unsupported. */
  lockUntil(key: string, until: Date): Promise<void>;
  setLegalHold(key: string, on: boolean): Promise<void>;
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
