// Stage 2 of create: pg_dump → (row counter) → gzip → SHA-256 → multipart upload, then the
// "completed" manifest, the dump's tags and `latest`. Nothing becomes `latest` and no manifest
// claims success unless the upload completed and its checksum is recorded.
import { EXPIRY_TAG, SHA256_TAG, objectLayout } from "../core/catalog";
import type { JobContext } from "../core/context";
import { oneLine } from "../core/errors";
import { formatBytes } from "../core/format";
import { SECOND_MS } from "../core/time";
import { isFullBackup, writeManifest, type BackupManifest } from "../inventory";
import type { PgConnection } from "../postgres/connection";
import { startDump } from "./dump";
import type { CreateOptions } from "./options";
import type { Reservation } from "./reserve";
import type { SourceSession } from "./source";

export async function dumpAndUpload(
  ctx: JobContext,
  input: { options: CreateOptions; source: SourceSession; connection: PgConnection; reservation: Reservation; startedAt: Date },
): Promise<BackupManifest> {
  const { options, source, connection, startedAt } = input;
  const { base, manifestKey } = input.reservation;
  const { repo, prefix, log, redactor } = ctx;
  const dump = startDump({ connection, scope: source.scope, format: options.format, compressionLevel: options.compressionLevel, redactor });
  const progress = log.progress;
  if (progress) {
    let bytes = 0;
    const t0 = ctx.clock().getTime();
    dump.output.on("data", (c: Buffer) => {
      bytes += c.length;
      progress(`${base.id}: ${formatBytes(bytes)} uploaded, ${formatBytes(bytes / Math.max(0.001, (ctx.clock().getTime() - t0) / SECOND_MS))}/s`);
    });
  }
  const { size } = await repo.putStream(base.key, dump.output, options.format === "plain" ? "application/gzip" : "application/octet-stream");
  const result = dump.result();
  if (size !== result.storedBytes) throw new Error(`uploaded ${size} bytes but the dump produced ${result.storedBytes}`);
  const finishedAt = ctx.clock();
  const manifest: BackupManifest = {
    ...base,
    status: "completed",
    sizes: { stored: result.storedBytes, dumped: result.dumpedBytes },
    sha256: result.sha256,
    rowCounts: result.rowCounts,
    ...(result.createdSchemas ? { contents: { createdSchemas: result.createdSchemas } } : {}),
    finishedAt: finishedAt.toISOString(),
    durationMs: Math.max(0, finishedAt.getTime() - startedAt.getTime()),
  };
  await writeManifest(repo, manifestKey, manifest);
  await repo.setTags(base.key, { [SHA256_TAG]: result.sha256, [EXPIRY_TAG.key]: EXPIRY_TAG.value });
  if (options.format === "plain" && isFullBackup(manifest) && options.updateLatest !== false) {
    // A convenience copy for `mc cat latest.sql.gz | gunzip | psql`: failing to update it (a full
    // disk, say) does not undo the complete, recorded backup.
    await repo.copy(base.key, objectLayout.latestKey(prefix)).catch((error: unknown) => {
      log.warn(`the backup is complete, but ${repo.displayPath(objectLayout.latestKey(prefix))} could not be updated (${oneLine(error)}): it still holds an older backup`);
    });
  }
  return manifest;
}
