// Supabase's own managed backups and PITR window, from the Management API
// (`GET /v1/projects/{ref}/database/backups`). Read-only and optional: any error (401, 402, a
// timeout, an unexpected shape) becomes a warning in the report, never a failed `status`.
import { z } from "zod";
import { ENV, nonEmpty, optionalInt, type Env } from "../core/settings";
import { oneLine } from "../core/errors";
import { AUTO_ID_PREFIX, timestampPart } from "../core/ids";
import type { PitrSection } from "./pitr";

export const DEFAULT_SUPABASE_API_URL = "https://api.supabase.com";
const DEFAULT_TIMEOUT_SECONDS = 10;


export interface SupabaseSettings {
  projectId: string;
  accessToken: string;
  apiUrl: string;
  timeoutMs: number;
}

/** Null unless both SUPABASE_PROJECT_ID and SUPABASE_ACCESS_TOKEN are set. */
export function supabaseSettings(env: Env): SupabaseSettings | null {
  const projectId = nonEmpty(env, ENV.supabaseProjectId);
  const accessToken = nonEmpty(env, ENV.supabaseAccessToken);
  if (!projectId || !accessToken) return null;
  const seconds = optionalInt(env, ENV.supabaseApiTimeout, 1, 300) ?? DEFAULT_TIMEOUT_SECONDS;
  return { projectId, accessToken, apiUrl: (nonEmpty(env, ENV.supabaseApiUrl) ?? DEFAULT_SUPABASE_API_URL).replace(/\/+$/, ""), timeoutMs: seconds * 1000 };
}

const BackupsResponse = z.object({
  region: z.string().optional(),
  walg_enabled: z.boolean().optional(),
  pitr_enabled: z.boolean().optional(),
  backups: z.array(
    z.object({
      id: z.union([z.number(), z.string()]),
      is_physical_backup: z.boolean().optional(),
      status: z.string(),
      inserted_at: z.string(),
    }),
  ),
  physical_backup_data: z
    .object({
      earliest_physical_backup_date_unix: z.number().nullish(),
      latest_physical_backup_date_unix: z.number().nullish(),
    })
    .nullish(),
});

export interface ManagedBackup {
  /** How list/status name it: supabase_auto_<time> (Supabase's own id is `supabaseId`). */
  id: string;
  supabaseId: string;
  status: string;
  createdAt: Date;
  physical: boolean;
}

export interface ManagedBackups {
  backups: ManagedBackup[];
  pitrEnabled: boolean;
  walgEnabled: boolean;
  earliest: Date | null;
  latest: Date | null;
}

export type ManagedBackupsResult = { ok: true; data: ManagedBackups } | { ok: false; warning: string };

/** Supabase's statuses (COMPLETED, FAILED, PENDING, …) as the report's. */
export function managedStatusLabel(status: string): string {
  const s = status.toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export async function fetchManagedBackups(settings: SupabaseSettings, fetchImpl: typeof fetch = fetch): Promise<ManagedBackupsResult> {
  const url = `${settings.apiUrl}/v1/projects/${encodeURIComponent(settings.projectId)}/database/backups`;
  const what = "Supabase Management API";
  let response: Response;
  try {
    response = await fetchImpl(url, {
      headers: { Authorization: `Bearer ${settings.accessToken}`, Accept: "application/json" },
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
  } catch (error) {
    const name = (error as Error)?.name;
    if (name === "TimeoutError" || name === "AbortError") {
      return { ok: false, warning: `${what} did not answer within ${settings.timeoutMs / 1000} s: Supabase's managed backups and PITR range are not shown` };
    }
    return { ok: false, warning: `${what} is unreachable (${oneLine((error as { cause?: unknown })?.cause ?? error)}): Supabase's managed backups are not shown` };
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const why: Record<number, string> = {
      401: `refused the token (401): check ${ENV.supabaseAccessToken}`,
      403: `denied access to project ${settings.projectId} (403): the token needs the database:read scope`,
      402: "requires a paid plan for this project (402): managed backups and PITR are Pro features",
      404: `knows no project ${settings.projectId} (404): check ${ENV.supabaseProjectId}`,
      429: "is rate limiting (429): try again later",
    };
    return { ok: false, warning: `${what} ${why[response.status] ?? `answered HTTP ${response.status}`}` };
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return { ok: false, warning: `${what} answered with something that is not JSON` };
  }
  const parsed = BackupsResponse.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, warning: `${what} answered an unexpected shape (${issue?.path.join(".") || "root"}: ${issue?.message})` };
  }
  const data = parsed.data;
  const seen = new Set<string>();
  const backups: ManagedBackup[] = [];
  for (const b of data.backups) {
    const createdAt = new Date(b.inserted_at);
    if (Number.isNaN(createdAt.getTime())) continue;
    let id = AUTO_ID_PREFIX + timestampPart(createdAt);
    if (seen.has(id)) id += `_${b.id}`;
    seen.add(id);
    backups.push({ id, supabaseId: String(b.id), status: b.status, createdAt, physical: b.is_physical_backup ?? false });
  }
  backups.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const unix = (s: number | null | undefined) => (typeof s === "number" && s > 0 ? new Date(s * 1000) : null);
  return {
    ok: true,
    data: {
      backups,
      pitrEnabled: data.pitr_enabled ?? false,
      walgEnabled: data.walg_enabled ?? false,
      earliest: unix(data.physical_backup_data?.earliest_physical_backup_date_unix),
      latest: unix(data.physical_backup_data?.latest_physical_backup_date_unix),
    },
  };
}

/** What list and status show from the API: the Auto rows, the PITR section, and any warning. */
export interface SupabaseSection {
  managed?: ManagedBackup[];
  pitr?: PitrSection;
  warnings: string[];
}

export async function supabaseSection(settings: SupabaseSettings | null): Promise<SupabaseSection> {
  if (!settings) return { warnings: [] };
  const result = await fetchManagedBackups(settings);
  if (!result.ok) {
    return { pitr: { configured: true, note: `Unknown: ${result.warning}.` }, warnings: [`${result.warning}.`] };
  }
  const { data } = result;
  const pitr: PitrSection = data.pitrEnabled
    ? {
        configured: true,
        enabled: true,
        walgEnabled: data.walgEnabled,
        note: `Supabase PITR is enabled for project ${settings.projectId} (WAL archiving); restore a point in time with Supabase's own restore. WAL size is not reported by the Management API.`,
        ...(data.earliest && data.latest ? { availableFrom: data.earliest.toISOString(), availableTo: data.latest.toISOString() } : {}),
      }
    : {
        configured: true,
        enabled: false,
        walgEnabled: data.walgEnabled,
        note: `PITR is not enabled for Supabase project ${settings.projectId}; its daily backups are listed as Auto.`,
      };
  return { managed: data.backups, pitr, warnings: [] };
}
