// Stage 1 of create: the backup's id. It is taken by writing a run marker (runs/<id>.json) while
// holding a lock on the source, so two runs starting in the same second never share an id; the
// manifest itself is written once, when the run ends (outcome.ts).
import { BACKUP_TYPES, objectLayout } from "../core/catalog";
import type { JobContext } from "../core/context";
import { newBackupId } from "../core/ids";
import { MANIFEST_SCHEMA_VERSION, writeRunMarker, type RunMarker } from "../inventory";
import type { PgConnection } from "../postgres/connection";
import type { CreateOptions } from "./options";
import type { SourceSession } from "./source";

/** What the backup's manifest holds whatever its outcome (completed or failed). */
export type ManifestBase = RunMarker;

export interface Reservation {
  base: ManifestBase;
  manifestKey: string;
}

export async function reserveBackupId(
  ctx: JobContext,
  input: { options: CreateOptions; source: SourceSession; connection: PgConnection; startedAt: Date; pgDumpVersion: string },
): Promise<Reservation> {
  const { options, source, connection, startedAt } = input;
  const { repo, prefix } = ctx;
  return source.exclusive(async () => {
    const id = await newBackupId(options.backupName, startedAt, async (candidate) => {
      if (await repo.stat(objectLayout.runKey(prefix, candidate))) return true;
      for (const type of BACKUP_TYPES) {
        if (await repo.stat(objectLayout.manifestKey(prefix, type, candidate))) return true;
      }
      return false;
    });
    const base: ManifestBase = {
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      id,
      type: options.type,
      ...(options.tag ? { tag: options.tag } : {}),
      ...(ctx.environment ? { environment: ctx.environment } : {}),
      key: objectLayout.dumpKey(prefix, options.type, id, options.format),
      format: options.format,
      compression: options.format === "plain" ? "gzip" : "pg_custom",
      scope: source.scope,
      source: {
        database: connection.display,
        ...(source.systemId ? { systemId: source.systemId } : {}),
        serverVersion: source.serverVersion,
        pgDumpVersion: input.pgDumpVersion,
      },
      options: { compressionLevel: options.compressionLevel },
      startedAt: startedAt.toISOString(),
      toolVersion: ctx.toolVersion,
    };
    const manifestKey = objectLayout.manifestKey(prefix, options.type, id);
    await writeRunMarker(repo, prefix, base);
    return { base, manifestKey };
  });
}
