// zlib says a gzip stream is broken with an error code (Z_DATA_ERROR for bad bytes, Z_BUF_ERROR
// for a stream cut short), never with a message worth matching.

/** Whether `error` is zlib refusing its input: the compressed bytes are corrupt or truncated. */
export function isCorruptCompression(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("Z_");
}
