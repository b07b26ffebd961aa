// Part sizes for a streamed multipart upload of unknown length. S3 allows 10,000 parts of 5 MiB to
// 5 GiB. A fixed size forces a choice between memory (big parts) and a size ceiling (small parts);
// parts that grow with what has been uploaded give both: each part is ~1/1000 of the bytes so far,
// never under the base size. A 100 GB dump buffers 100 MB parts; 16 MiB parts carry the first 16 GB.

export const MiB = 1024 * 1024;
export const S3_MIN_PART = 5 * MiB;
export const S3_MAX_PART = 5 * 1024 * MiB;
export const S3_MAX_PARTS = 10_000;
export const DEFAULT_BASE_PART = 16 * MiB;
const GROWTH_DIVISOR = 1000;

export function nextPartSize(uploadedBytes: number, basePart = DEFAULT_BASE_PART): number {
  const base = Math.max(basePart, S3_MIN_PART);
  const grown = Math.ceil(uploadedBytes / GROWTH_DIVISOR / MiB) * MiB;
  return Math.min(Math.max(base, grown), S3_MAX_PART);
}

/** The largest object the policy can upload within S3's part limit (for tests and --help). */
export function maxUploadBytes(basePart = DEFAULT_BASE_PART): number {
  let total = 0;
  for (let part = 0; part < S3_MAX_PARTS; part++) total += nextPartSize(total, basePart);
  return total;
}
