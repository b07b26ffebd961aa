// The S3 repository on the real server: streamed multipart uploads with growing parts come back
// byte for byte, and a stream that fails mid-way leaves neither an object nor an upload behind.
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MiB } from "../../job/store/part-size";
import { S3Repository } from "../../job/store/s3";
import { incompleteUploads, listKeys, makeBucket, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";

const bucket = uniqueBucket("dbb-repo");
let repo: S3Repository;

function randomStream(totalBytes: number, chunk = 256 * 1024, failAfter?: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && sent >= failAfter) return this.destroy(new Error("source broke"));
      if (sent >= totalBytes) return this.push(null);
      const n = Math.min(chunk, totalBytes - sent);
      sent += n;
      this.push(randomBytes(n));
    },
  });
}

beforeAll(async () => {
  await requireServices("s3");
  await makeBucket(bucket);
  repo = new S3Repository(
    { kind: "s3", endpoint: new URL(services.s3Endpoint), accessKey: services.s3AccessKey, secretKey: services.s3SecretKey, bucket },
    { basePartSize: 5 * MiB },
  );
});

afterAll(() => removeBucket(bucket));

describe("S3Repository", () => {
  it("uploads a stream of unknown size in several parts and reads it back identically", async () => {
    const hash = createHash("sha256");
    const source = randomStream(23 * MiB + 123);
    source.on("data", (c: Buffer) => hash.update(c));
    const { size } = await repo.putStream("t/big.bin", source);
    expect(size).toBe(23 * MiB + 123);
    const back = createHash("sha256");
    for await (const c of (await repo.getStream("t/big.bin")) as AsyncIterable<Buffer>) back.update(c);
    expect(back.digest("hex")).toBe(hash.digest("hex"));
    expect((await repo.stat("t/big.bin"))?.size).toBe(23 * MiB + 123);
  });

  it("stores a small stream with a single PUT", async () => {
    await repo.putStream("t/small.bin", Readable.from([Buffer.from("hello")]));
    expect((await repo.getBytes("t/small.bin")).toString()).toBe("hello");
  });

  it("aborts the multipart upload when the source fails mid-way", async () => {
    await expect(repo.putStream("t/broken.bin", randomStream(40 * MiB, 256 * 1024, 17 * MiB))).rejects.toThrow(/source broke/);
    expect(await listKeys(bucket, "t/broken")).toEqual([]);
    expect(await incompleteUploads(bucket)).toEqual([]);
  });

  it("copies server-side, tags, and reports missing objects as null", async () => {
    await repo.copy("t/small.bin", "t/copy.bin");
    expect((await repo.getBytes("t/copy.bin")).toString()).toBe("hello");
    await repo.setTags("t/copy.bin", { sha256: "abc", "db-backup-expiry": "expire" });
    expect(await repo.getTags("t/copy.bin")).toEqual({ sha256: "abc", "db-backup-expiry": "expire" });
    await repo.setTags("t/copy.bin", {});
    expect(await repo.getTags("t/copy.bin")).toEqual({});
    expect(await repo.stat("t/none")).toBeNull();
    await expect(repo.getBytes("t/none")).rejects.toThrow(/no object at t\/none/);
  });

  it("names a missing bucket and a wrong key clearly", async () => {
    const missing = new S3Repository({ kind: "s3", endpoint: new URL(services.s3Endpoint), accessKey: services.s3AccessKey, secretKey: services.s3SecretKey, bucket: "no-such-bucket-dbb" });
    await expect(missing.ensureReady()).rejects.toThrow(/bucket no-such-bucket-dbb does not exist/);
    const wrong = new S3Repository({ kind: "s3", endpoint: new URL(services.s3Endpoint), accessKey: "nobody", secretKey: "wrong-secret", bucket });
    await expect(wrong.ensureReady()).rejects.toThrow(/credentials|InvalidAccessKeyId|AccessDenied/);
  });
});
