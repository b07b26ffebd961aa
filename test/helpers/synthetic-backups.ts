// Synthetic backup histories for the status page: valid manifests (the schema parses them) for a
// year or more of scheduled backups, with growth, noise, failures and verifications, deterministic
// for a seed. Used by the unit tests, the browser test (written into a BACKUP_DIR) and the bench.
// (The entries `listBackups` would make of them: entriesOf in ./manifests.)
import { promises as fs } from "node:fs";
import path from "node:path";
import { DEFAULT_PREFIX, objectLayout, type BackupType } from "../../job/core/catalog";
import { timestampPart } from "../../job/core/ids";
import { serializeManifest, type BackupManifest } from "../../job/inventory/manifest";
import type { VerificationRecord } from "../../job/inventory/verifications";
import { sampleManifest } from "./manifests";
import { prng } from "./prng";

const DAY = 86_400_000;

export interface SyntheticOptions {
  now: Date;
  /** How many days of history, ending `stopDaysAgo` days before now. */
  days: number;
  /** Backups per type per day (fractions: e.g. 1/7 for weekly); monthly ones below 1 a day land on the 1st. */
  perDay?: Partial<Record<BackupType, number>>;
  /** The newest backup of these types is this many days old (backups stopped). */
  stopDaysAgo?: Partial<Record<BackupType, number>>;
  /** About one in `failEvery` attempts fails (0: none). */
  failEvery?: number;
  /** Every `verifyEvery`-th daily backup is verified (0: none). */
  verifyEvery?: number;
  /** Size of the first backup and its growth per day (fraction). */
  baseBytes?: number;
  growthPerDay?: number;
  /** Duration of a backup of baseBytes (default: at 9 MiB/s); it grows with the size. */
  baseDurationMs?: number;
  seed?: number;
  prefix?: string;
  /** The error of the failed ones (user-controlled text in real life). */
  failureError?: string;
}

const HOUR_OF: Record<BackupType, number> = { daily: 2, monthly: 3, manual: 12, pre_migration: 15 };

export function syntheticManifests(options: SyntheticOptions): BackupManifest[] {
  const random = prng(options.seed ?? 1);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const perDay = options.perDay ?? { daily: 1, monthly: 1 / 30, manual: 1 / 7, pre_migration: 1 / 45 };
  const baseBytes = options.baseBytes ?? 180 * 1024 * 1024;
  const growth = options.growthPerDay ?? 0.0012;
  const baseDurationMs = options.baseDurationMs ?? (baseBytes / (9 * 1024 * 1024)) * 1000;
  const out: BackupManifest[] = [];
  const ids = new Set<string>();
  const start = Math.floor(options.now.getTime() / DAY) * DAY - options.days * DAY;
  for (const [type, rate] of Object.entries(perDay) as [BackupType, number][]) {
    if (!rate) continue;
    const stop = options.now.getTime() - (options.stopDaysAgo?.[type] ?? 0) * DAY;
    let n = 0;
    let carry = 0;
    for (let day = 0; day <= options.days; day++) {
      const dayStart = start + day * DAY;
      let count: number;
      if (type === "monthly" && rate < 1) count = new Date(dayStart).getUTCDate() === 1 ? 1 : 0;
      else {
        carry += rate;
        count = Math.floor(carry);
        carry -= count;
      }
      for (let k = 0; k < count; k++) {
        const started = new Date(dayStart + HOUR_OF[type] * 3_600_000 + k * 3_600_000 + Math.floor(random() * 600) * 1000);
        if (started.getTime() > stop) continue;
        n++;
        const ageDays = (started.getTime() - start) / DAY;
        const size = Math.round(baseBytes * (1 + growth) ** ageDays * (0.97 + random() * 0.06) * (type === "pre_migration" ? 0.98 : 1));
        const durationMs = Math.round(baseDurationMs * (size / baseBytes) * (0.8 + random() * 0.5));
        const failed = (options.failEvery ?? 0) > 0 && random() < 1 / options.failEvery!;
        let id = `backup_${timestampPart(started)}`;
        for (let dup = 2; ids.has(id); dup++) id = `backup_${timestampPart(started)}_${dup}`;
        ids.add(id);
        const verified = type === "daily" && !failed && (options.verifyEvery ?? 0) > 0 && n % options.verifyEvery! === 0;
        const finished = new Date(started.getTime() + durationMs);
        out.push(
          sampleManifest({
            id,
            type,
            ...(type === "pre_migration" ? { tag: `before_migration_${n}` } : {}),
            status: failed ? "failed" : "completed",
            ...(failed ? { error: options.failureError ?? "pg_dump: error: connection to server at \"db\" (10.0.0.5), port 5432 failed: timeout expired" } : {}),
            key: objectLayout.dumpKey(prefix, type, id, "plain"),
            sizes: failed ? { stored: 0, dumped: null } : { stored: size, dumped: size * 4 },
            sha256: failed ? null : "b".repeat(64),
            rowCounts: failed ? null : { "pmoves_core.content_items": Math.round(size / 2048) },
            startedAt: started.toISOString(),
            finishedAt: finished.toISOString(),
            durationMs,
            ...(verified
              ? { verification: { verifiedAt: new Date(finished.getTime() + 3 * 3_600_000).toISOString(), durationMs: durationMs * 2, tables: 12, rows: Math.round(size / 2048) + 310, server: "verify.internal:5432" } }
              : {}),
          }),
        );
      }
    }
  }
  return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** Writes the manifests (as the job writes them: without their verification), a small stand-in
 * dump for each completed one, and a drill's record for each verified one, into a BACKUP_DIR. */
export async function writeToBackupDir(dir: string, manifests: BackupManifest[], prefix = DEFAULT_PREFIX): Promise<void> {
  const writes = manifests.flatMap((m) => {
    const { verification, ...written } = m;
    const files: [string, string][] = [[path.join(dir, objectLayout.manifestKey(prefix, m.type, m.id)), serializeManifest(written)]];
    if (m.status === "completed") files.push([path.join(dir, m.key), "synthetic dump"]);
    if (verification) {
      const record: VerificationRecord = {
        schemaVersion: 1,
        backupId: m.id,
        type: m.type,
        manifestVersionId: null,
        dumpVersionId: null,
        sha256: m.sha256!,
        outcome: "passed",
        at: verification.verifiedAt,
        durationMs: verification.durationMs,
        tables: verification.tables,
        rows: verification.rows,
        server: verification.server,
      };
      files.push([path.join(dir, objectLayout.verificationKey(prefix, m.id, verification.verifiedAt)), JSON.stringify(record)]);
    }
    return files;
  });
  const folders = new Set(writes.map(([file]) => path.dirname(file)));
  await Promise.all([...folders].map((f) => fs.mkdir(f, { recursive: true })));
  for (let i = 0; i < writes.length; i += 200) {
    await Promise.all(writes.slice(i, i + 200).map(([file, text]) => fs.writeFile(file, text)));
  }
}
