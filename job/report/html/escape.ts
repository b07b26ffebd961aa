// Escaping for the status page: every text that comes from a backup (ids, tags, errors) goes
// through escapeHtml before it reaches the page.

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text for HTML content and attribute values (ids, tags, errors are user-controlled). */
export function escapeHtml(value: unknown): string {
  // eslint-disable-next-line no-control-regex
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "\uFFFD");
}

/** Escaped text where `code` spans (as the markdown report writes commands) become <code>. */
export function richText(value: string, maxLength = 1000): string {
  const text = value.length > maxLength ? value.slice(0, maxLength - 1) + "…" : value;
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}
