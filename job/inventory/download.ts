// download: streams a dump to a file (or stdout) while checking its SHA-256. A mismatch removes
// the partial file; on stdout the bytes are already out, so the exit code is the verdict.
import { randomBytes } from "node:crypto";
import { createWriteStream, promises as fs } from "node:fs";
import path from "node:path";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { findBackup, requireRestorable } from "./backups";
import type { JobContext } from "../core/context";
import { integrityError } from "../core/errors";
import { formatBytes } from "../core/format";
import { isOwnerAlive } from "../core/leftovers";
import { Sha256Tap } from "../streams";

export interface DownloadOptions {
  id: string;
  file?: string;
  allowUnverified?: boolean;
  /** The dump version to read when the backup's keys hold versions its writer did not write. */
  version?: string;
  stdout?: Writable;
}

export async function downloadAction(ctx: JobContext, options: DownloadOptions): Promise<{ file: string | null; sha256: string; bytes: number }> {
  const entry = await findBackup(ctx.repo, ctx.prefix, options.id);
  requireRestorable(entry, options.allowUnverified ?? false, options.version);
  const expected = entry.manifest?.sha256 ?? null;
  const tap = new Sha256Tap();
  const source = await ctx.repo.getStream(entry.key!, entry.dumpVersionId);
  if (!options.file) {
    await pipeline(source, tap, options.stdout ?? process.stdout, { signal: ctx.signal });
    const sha = tap.digest!;
    if (expected && sha !== expected) throw integrityError(`checksum mismatch for ${entry.id}: got ${sha}, the manifest says ${expected}; discard what was written`);
    return { file: null, sha256: sha, bytes: tap.bytes };
  }
  const target = path.resolve(options.file);
  // Named with this run's pid: the next download to the same file removes what a killed run left.
  await removeLeftoverPartials(target);
  const partial = `${target}.partial-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await pipeline(source, tap, createWriteStream(partial, { flags: "wx", mode: 0o600 }), { signal: ctx.signal });
    const sha = tap.digest!;
    if (expected && sha !== expected) throw integrityError(`checksum mismatch for ${entry.id}: got ${sha}, the manifest says ${expected}; the download was removed`);
    await fs.rename(partial, target);
    ctx.log.info(`downloaded ${entry.id} to ${target} (${formatBytes(tap.bytes)}, sha256 ${expected ? "verified" : "not recorded"})`);
    return { file: target, sha256: sha, bytes: tap.bytes };
  } catch (error) {
    await fs.rm(partial, { force: true });
    throw error;
  }
}

/** `<file>.partial-<pid>-…` files of downloads whose run is gone. */
async function removeLeftoverPartials(target: string): Promise<void> {
  const dir = path.dirname(target);
  const prefix = `${path.basename(target)}.partial-`;
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (pid && !isOwnerAlive(pid)) await fs.rm(path.join(dir, name), { force: true });
  }
}
