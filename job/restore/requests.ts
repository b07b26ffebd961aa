// Config-driven restores (`pulumi up` with `restore.requestId`) carry a request id; each is recorded
// at `<prefix>/requests/<id>.json`, so a Job that Kubernetes or a later `pulumi up` starts again
// never restores twice. Two Jobs started at once with the same id both write: the key's first
// version wins, and the other run stops before touching its target.
import { z } from "zod";
import { objectLayout } from "../core/catalog";
import type { JobContext } from "../core/context";
import { refusal } from "../core/errors";

export const RestoreRequestRecordSchema = z.object({
  requestId: z.string(),
  backupId: z.string(),
  target: z.string(),
  targetEnvironment: z.string().nullable(),
  approvedBy: z.string().nullable(),
  reason: z.string().nullable(),
  status: z.enum(["running", "completed", "failed"]),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  safetyBackup: z.string().nullable(),
  error: z.string().nullable(),
});
export type RestoreRequestRecord = z.infer<typeof RestoreRequestRecordSchema>;

/** The refusal's one line when the request already ran; undefined when it never did. */
export async function repeatedRequest(ctx: JobContext, requestId: string): Promise<string | undefined> {
  const key = objectLayout.requestKey(ctx.prefix, requestId);
  if (!(await ctx.repo.stat(key))) return undefined;
  let what = "recorded";
  try {
    const record = RestoreRequestRecordSchema.parse(JSON.parse((await ctx.repo.getBytes(key)).toString("utf8")));
    what = `${record.status}, started ${record.startedAt}, backup ${record.backupId}`;
  } catch {
    /* an unreadable record still means the id was used */
  }
  return `restore request ${requestId} already ran (${what}): a request runs once; give a new request id to restore again`;
}

export async function refuseRepeatedRequest(ctx: JobContext, requestId: string): Promise<void> {
  const repeated = await repeatedRequest(ctx, requestId);
  if (repeated) throw refusal(repeated);
}

export async function writeRequest(ctx: JobContext, record: RestoreRequestRecord): Promise<void> {
  const key = objectLayout.requestKey(ctx.prefix, record.requestId);
  await ctx.repo.putBytes(key, JSON.stringify(RestoreRequestRecordSchema.parse(record), null, 2) + "\n");
}

/** Writes the request's first record and checks this run wrote the key's first version: of two
 * runs that raced past refuseRepeatedRequest, only one goes on. */
export async function claimRequest(ctx: JobContext, record: RestoreRequestRecord): Promise<void> {
  const key = objectLayout.requestKey(ctx.prefix, record.requestId);
  const { versionId } = await ctx.repo.putBytes(key, JSON.stringify(RestoreRequestRecordSchema.parse(record), null, 2) + "\n");
  if (versionId === null) return; // a store without versions: one writer (a directory on one machine)
  let first: string | null = null;
  // S3 lists a key's versions newest first: the last one with content is the first written.
  for await (const version of ctx.repo.listVersions(key)) if (version.key === key && !version.deleteMarker) first = version.versionId;
  if (first !== null && first !== versionId) {
    throw refusal(`restore request ${record.requestId} was claimed by another run at the same moment: a request runs once; nothing was restored by this run`);
  }
}
