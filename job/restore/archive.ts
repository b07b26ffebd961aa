// A custom archive is downloaded before pg_restore reads it (it needs a file to seek in), into a
// private directory whose name carries the job's pid; the SHA-256 is checked on the way. The
// directory is removed when the restore ends, and a directory whose job is gone (killed with
// SIGKILL) is removed by the next restore or drill on the same machine.
import { createWriteStream, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { integrityError } from "../core/errors";
import { isOwnerAlive } from "../core/leftovers";
import { Sha256Tap } from "../streams";

const DIR_PREFIX = "db-backup-";

/** Downloads to a private temporary file while hashing; the caller removes the directory. */
export async function downloadVerified(
  source: Readable,
  expectedSha256: string | null,
  fileName: string,
  signal?: AbortSignal,
): Promise<{ file: string; dir: string; sha256: string; bytes: number }> {
  await removeLeftoverDirs();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  const file = path.join(dir, fileName);
  const tap = new Sha256Tap();
  try {
    await pipeline(source, tap, createWriteStream(file, { mode: 0o600 }), { signal });
    const sha = tap.digest!;
    if (expectedSha256 !== null && sha !== expectedSha256) {
      throw integrityError(`checksum mismatch: the object's SHA-256 is ${sha}, the manifest says ${expectedSha256}; nothing was restored`);
    }
    return { file, dir, sha256: sha, bytes: tap.bytes };
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
}


/** Removes download directories of jobs that are no longer running (`db-backup-<pid>-…`). */
export async function removeLeftoverDirs(): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await fs.readdir(os.tmpdir());
  } catch {
    return removed;
  }
  for (const name of names) {
    const pid = Number(/^db-backup-(\d+)-/.exec(name)?.[1]);
    if (!pid || isOwnerAlive(pid)) continue;
    await fs.rm(path.join(os.tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}
