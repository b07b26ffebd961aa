import { describe, expect, it } from "vitest";
import {
  DEFAULT_BASE_PART,
  MiB,
  S3_MAX_PART,
  S3_MAX_PARTS,
  S3_MIN_PART,
  maxUploadBytes,
  nextPartSize,
} from "../../../job/store/part-size";

const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

describe("S3 limits (AWS documented values)", () => {
  it("are 5 MiB, 5 GiB and 10,000 parts; the base part is 16 MiB", () => {
    expect(S3_MIN_PART).toBe(5 * 1024 * 1024);
    expect(S3_MAX_PART).toBe(5 * 1024 * 1024 * 1024);
    expect(S3_MAX_PARTS).toBe(10_000);
    expect(DEFAULT_BASE_PART).toBe(16 * 1024 * 1024);
  });
});

describe("nextPartSize", () => {
  it("starts at the base part size", () => {
    expect(nextPartSize(0)).toBe(16 * MiB);
  });

  it("stays at the 16 MiB base for the first 10 GB (bounded memory for ordinary databases)", () => {
    for (let uploaded = 0; uploaded <= 10e9; uploaded += 16 * MiB) expect(nextPartSize(uploaded)).toBe(16 * MiB);
    expect(nextPartSize(10e9)).toBe(16 * MiB);
  });

  it("is never below S3's 5 MiB minimum, even with a smaller base", () => {
    expect(nextPartSize(0, 1)).toBe(S3_MIN_PART);
    expect(nextPartSize(0, 0)).toBe(S3_MIN_PART);
    expect(nextPartSize(1e9, 1 * MiB)).toBeGreaterThanOrEqual(S3_MIN_PART);
  });

  it("is never below a larger base", () => {
    expect(nextPartSize(0, 64 * MiB)).toBe(64 * MiB);
    expect(nextPartSize(1e9, 64 * MiB)).toBe(64 * MiB);
  });

  it("grows with the uploaded bytes", () => {
    const at100GB = nextPartSize(100e9);
    const at1TB = nextPartSize(1e12);
    expect(at100GB).toBeGreaterThan(16 * MiB);
    expect(at1TB).toBeGreaterThan(at100GB);
    // About a thousandth of what went before (so 10,000 parts reach far).
    expect(at100GB).toBeGreaterThanOrEqual(100e9 / 1000);
    expect(at100GB).toBeLessThan(100e9 / 1000 + 2 * MiB);
  });

  it("never exceeds S3's 5 GiB maximum", () => {
    expect(nextPartSize(5 * TiB)).toBe(S3_MAX_PART);
    expect(nextPartSize(1e18)).toBe(S3_MAX_PART);
    expect(nextPartSize(0, 10 * GiB)).toBe(S3_MAX_PART);
  });

  it("is non-decreasing in the uploaded bytes", () => {
    let previous = 0;
    for (let uploaded = 0; uploaded < 20 * TiB; uploaded += 7.3 * GiB) {
      const size = nextPartSize(uploaded);
      expect(size).toBeGreaterThanOrEqual(previous);
      previous = size;
    }
  });
});

describe("a simulated 10,000-part upload", () => {
  const sizes: number[] = [];
  let total = 0;
  for (let part = 0; part < S3_MAX_PARTS; part++) {
    const size = nextPartSize(total);
    sizes.push(size);
    total += size;
  }

  it("has part sizes within S3's limits that never shrink", () => {
    for (let i = 0; i < sizes.length; i++) {
      expect(sizes[i]).toBeGreaterThanOrEqual(S3_MIN_PART);
      expect(sizes[i]).toBeLessThanOrEqual(S3_MAX_PART);
      if (i > 0) expect(sizes[i]).toBeGreaterThanOrEqual(sizes[i - 1]!);
    }
  });

  it("holds at least 5 TiB (S3's largest object), and maxUploadBytes agrees", () => {
    expect(total).toBeGreaterThanOrEqual(5 * TiB);
    expect(maxUploadBytes()).toBe(total);
    expect(maxUploadBytes(DEFAULT_BASE_PART)).toBeGreaterThanOrEqual(5 * TiB);
  });

  it("buffers tens of MB, not hundreds, for databases up to 30 GB", () => {
    let uploaded = 0;
    for (const size of sizes) {
      if (uploaded > 30e9) break;
      expect(size).toBeLessThanOrEqual(32 * MiB);
      uploaded += size;
    }
  });

  it("a larger base only raises the ceiling", () => {
    expect(maxUploadBytes(64 * MiB)).toBeGreaterThanOrEqual(maxUploadBytes());
  });
});
