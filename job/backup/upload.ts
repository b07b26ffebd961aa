// Stage 2 of create: pg_dump → (row counter) → gzip → SHA-256 → multipart upload, and the dump's
// version locked for the backup's retention before anything claims it: the manifest (outcome.ts)
// records that version, so what is restored later is these bytes, whoever writes the key after.
import type { JobContext } from "../core/context";
import { formatBytes } from "../core/format";
import { SECOND_MS } from "../core/time";
import type { BackupManifest } from "../inventory";
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
  const { base } = input.reservation;
  const { repo, log, redactor } = ctx;
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
  const { size, versionId } = await repo.putStream(base.key, dump.output, options.format === "plain" ? "application/gzip" : "application/octet-stream");
  const result = dump.result();
  if (size !== result.storedBytes) throw new Error(`uploaded ${size} bytes but the dump produced ${result.storedBytes}`);
  // The date is taken just before the call, so a lock of a few seconds (tests) is never already past.
  await repo.lockUntil(base.key, new Date(ctx.clock().getTime() + options.lockSeconds * SECOND_MS), versionId);
  const finishedAt = ctx.clock();
  const manifest: BackupManifest = {
    ...base,
    status: "completed",
    sizes: { stored: result.storedBytes, dumped: result.dumpedBytes },
    sha256: result.sha256,
    dumpVersionId: versionId,
    rowCounts: result.rowCounts,
    contents: { ...(result.createdSchemas ? { createdSchemas: result.createdSchemas } : {}), ...source.contents },
    finishedAt: finishedAt.toISOString(),
    durationMs: Math.max(0, finishedAt.getTime() - startedAt.getTime()),
  };
  return manifest;
}
