// Human-readable sizes, durations and dates, as the seed's tables show them.

export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** "2025-06-07 12:00" (UTC), as the seed's table. */
export function formatMinute(date: Date): string {
  return date.toISOString().slice(0, 16).replace("T", " ");
}

/** "2025-06-07 12:00:00" (UTC). */
export function formatSecond(date: Date): string {
  return date.toISOString().slice(0, 19).replace("T", " ");
}

export function formatDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
