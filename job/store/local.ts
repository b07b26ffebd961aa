// A local directory with the same layout as the bucket: the embedded default, so the tool works
// with nothing but a database. It keeps one version per key (versionId null) and records locks in a
// hidden side folder without enforcing them; writes go to a temporary name and are renamed into
// place, so a failed write leaves nothing at the key.
import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { failure, usageError } from "../core/errors";
import { ObjectNotFoundError, type BackupRepository, type IncompleteUpload, type ObjectVersion, type PutResult, type StoredObject } from "../core/repository";

const META_DIR = ".db-backup-meta";
const PARTIAL_MARK = ".partial-";

interface ObjectMeta {
  legalHold?: boolean;
  retainUntil?: string;
}

export class LocalDirectoryRepository implements BackupRepository {
  readonly location: string;

  constructor(private readonly root: string) {
    this.root = path.resolve(root);
    this.location = this.root;
  }

  displayPath(key: string): string {
    return this.file(key);
  }

  private file(key: string): string {
    const resolved = path.resolve(this.root, ...key.split("/"));
    if (!resolved.startsWith(this.root + path.sep)) throw new Error(`key ${key} escapes the backup directory`);
    return resolved;
  }

  private metaFile(key: string): string {
    return path.join(this.root, META_DIR, ...key.split("/")) + ".json";
  }

  /** The directory exists (it is made when missing) and is a directory; what stops it is said
   * with the setting's name, as a configuration error. */
  async ensureReady(): Promise<void> {
    try {
      await makeDirectory(this.root);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      const why = code === "EEXIST" || code === "ENOTDIR" ? "it, or a folder above it, is a file" : `${code}: ${(error as Error).message.replace(/^\w+: /, "")}`;
      throw usageError(`BACKUP_DIR ${this.root} cannot be the backup directory (${why}): give a writable directory`, error);
    }
  }

  /** A write that failed, said as what to fix: a directory that cannot be written (2) or a full disk (1). */
  private writeError(error: unknown): unknown {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EROFS" || code === "EACCES" || code === "EPERM") return usageError(`cannot write to BACKUP_DIR ${this.root} (${code}): give a writable directory`, error);
    if (code === "ENOSPC" || code === "EDQUOT") return failure(`BACKUP_DIR ${this.root} is full (${code}): free space, or point BACKUP_DIR elsewhere`, error);
    return error;
  }

  async putStream(key: string, body: Readable): Promise<PutResult> {
    const target = this.file(key);
    await makeDirectory(path.dirname(target));
    const partial = `${target}${PARTIAL_MARK}${randomBytes(6).toString("hex")}`;
    try {
      await pipeline(body, createWriteStream(partial, { flags: "wx" }));
      const { size } = await fs.stat(partial);
      await fs.rename(partial, target);
      return { size, versionId: null };
    } catch (error) {
      await fs.rm(partial, { force: true });
      throw this.writeError(error);
    }
  }

  async putBytes(key: string, body: Buffer | string): Promise<PutResult> {
    const target = this.file(key);
    await makeDirectory(path.dirname(target));
    const partial = `${target}${PARTIAL_MARK}${randomBytes(6).toString("hex")}`;
    try {
      await fs.writeFile(partial, body, { flag: "wx" });
      await fs.rename(partial, target);
      return { size: Buffer.byteLength(body), versionId: null };
    } catch (error) {
      await fs.rm(partial, { force: true });
      throw this.writeError(error);
    }
  }

  async getStream(key: string, _versionId?: string | null): Promise<Readable> {
    const file = this.file(key);
    await this.requireExists(key, file);
    return createReadStream(file);
  }

  async getBytes(key: string, _versionId?: string | null): Promise<Buffer> {
    const file = this.file(key);
    await this.requireExists(key, file);
    return fs.readFile(file);
  }

  private async requireExists(key: string, file: string): Promise<void> {
    try {
      await fs.access(file);
    } catch {
      throw new ObjectNotFoundError(key);
    }
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const s = await fs.stat(this.file(key));
      return s.isFile() ? { key, size: s.size, lastModified: s.mtime } : null;
    } catch {
      return null;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const start = path.join(this.root, ...prefix.split("/").filter(Boolean));
    const baseDir = prefix.endsWith("/") || prefix === "" ? start : path.dirname(start);
    const walk = async function* (dir: string, root: string): AsyncIterable<StoredObject> {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (full === path.join(root, META_DIR)) continue;
          yield* walk(full, root);
        } else if (entry.isFile() && !entry.name.includes(PARTIAL_MARK)) {
          const s = await fs.stat(full);
          yield { key: path.relative(root, full).split(path.sep).join("/"), size: s.size, lastModified: s.mtime };
        }
      }
    };
    for await (const item of walk(baseDir, this.root)) {
      if (item.key.startsWith(prefix)) yield item;
    }
  }

  /** A directory keeps one version of each key: the current file. */
  async *listVersions(prefix: string): AsyncIterable<ObjectVersion> {
    for await (const object of this.list(prefix)) yield { ...object, versionId: null, isLatest: true, deleteMarker: false };
  }

  private async readMeta(key: string): Promise<ObjectMeta> {
    try {
      return JSON.parse(await fs.readFile(this.metaFile(key), "utf8")) as ObjectMeta;
    } catch {
      return {};
    }
  }

  private async writeMeta(key: string, meta: ObjectMeta): Promise<void> {
    const file = this.metaFile(key);
    await makeDirectory(path.dirname(file));
    await fs.writeFile(file, JSON.stringify(meta));
  }

  /** A directory cannot enforce retention: locks are recorded but not enforced. */
  async supportsLocking(): Promise<boolean> {
    return false;
  }

  async lockUntil(key: string, until: Date): Promise<void> {
    const meta = await this.readMeta(key);
    if (meta.retainUntil && new Date(meta.retainUntil).getTime() >= until.getTime()) return; // only ever extended
    await this.writeMeta(key, { ...meta, retainUntil: until.toISOString() });
  }

  /** What was recorded (a directory enforces nothing). */
  async retainedUntil(key: string): Promise<Date | null> {
    const until = (await this.readMeta(key)).retainUntil;
    return until ? new Date(until) : null;
  }

  async getLegalHold(key: string): Promise<boolean> {
    return (await this.readMeta(key)).legalHold === true;
  }

  /** Partial files of writes that never finished (a killed run); `initiated` is their last write,
   * so a write still in progress looks recent. */
  async listIncompleteUploads(prefix: string): Promise<IncompleteUpload[]> {
    const found: IncompleteUpload[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (full !== path.join(this.root, META_DIR)) await walk(full);
          continue;
        }
        const mark = entry.name.lastIndexOf(PARTIAL_MARK);
        if (!entry.isFile() || mark === -1) continue;
        const key = path.relative(this.root, path.join(dir, entry.name.slice(0, mark))).split(path.sep).join("/");
        if (!key.startsWith(prefix)) continue;
        const s = await fs.stat(full).catch(() => null);
        if (s) found.push({ key, uploadId: entry.name.slice(mark + PARTIAL_MARK.length), initiated: s.mtime });
      }
    };
    await walk(this.root);
    return found;
  }

  async abortIncompleteUpload(upload: IncompleteUpload): Promise<void> {
    if (!/^[0-9a-f]+$/.test(upload.uploadId)) throw new Error(`not a partial file id: ${upload.uploadId}`);
    await fs.rm(`${this.file(upload.key)}${PARTIAL_MARK}${upload.uploadId}`, { force: true });
  }

  async deleteAllVersions(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
    await fs.rm(this.metaFile(key), { force: true });
  }
}

/** `mkdir -p`, one level at a time: node's recursive mkdir never returns for a path it cannot
 * create under some parents (/proc), and this says which level failed. */
export async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const stat = await fs.stat(at).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return null;
      throw error;
    });
    if (stat) {
      if (!stat.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, ${at}`), { code: "ENOTDIR" });
      break;
    }
    missing.unshift(at);
    if (path.dirname(at) === at) break;
  }
  for (const level of missing) {
    await fs.mkdir(level).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error; // made meanwhile by another run
    });
  }
}
