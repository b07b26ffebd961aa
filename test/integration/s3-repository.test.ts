// The S3 repository on the real server: streamed multipart uploads with growing parts come back
// byte for byte, and a stream that fails mid-way leaves neither an object nor an upload behind; on a
// bucket with Object Lock every write returns its version, each version is read by its id whatever
// is written after it, and retention is only ever extended.
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MiB } from "../../job/store/part-size";
import { S3Repository } from "../../job/store/s3";
import { incompleteUploads, listKeys, makeBucket, removeBucket, s3Client, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";

const bucket = uniqueBucket("dbb-repo");
const lockedBucket = uniqueBucket("dbb-repo-lock");
let repo: S3Repository;
let locked: S3Repository;

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
  await makeBucket(lockedBucket, { objectLocking: true });
  const settings = { kind: "s3" as const, endpoint: new URL(services.s3Endpoint), accessKey: services.s3AccessKey, secretKey: services.s3SecretKey };
  repo = new S3Repository({ ...settings, bucket }, { basePartSize: 5 * MiB });
  locked = new S3Repository({ ...settings, bucket: lockedBucket }, { basePartSize: 5 * MiB });
});

afterAll(async () => {
  await removeBucket(bucket);
  await removeBucket(lockedBucket);
});

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

  it("reports missing objects as null, and has no versions or locks on a plain bucket", async () => {
    expect(await repo.stat("t/none")).toBeNull();
    await expect(repo.getBytes("t/none")).rejects.toThrow(/no object at t\/none/);
    expect((await repo.putBytes("t/plain.json", "{}")).versionId).toBeNull();
    expect(await repo.supportsLocking()).toBe(false);
    await repo.lockUntil("t/plain.json", new Date(Date.now() + 60_000)); // a no-op, not an error
    expect(await repo.retainedUntil("t/plain.json")).toBeNull();
  });

  it("returns each write's version and reads it by id after later writes; lists every version", async () => {
    const first = await locked.putStream("v/dump.bin", Readable.from([Buffer.from("first")]));
    const multipart = randomStream(12 * MiB);
    const second = await locked.putStream("v/dump.bin", multipart);
    const third = await locked.putBytes("v/dump.bin", "third");
    const ids = [first.versionId, second.versionId, third.versionId];
    expect(new Set(ids).size).toBe(3);
    expect(ids.every((v) => typeof v === "string" && v.length > 0)).toBe(true);
    expect((await locked.getBytes("v/dump.bin", first.versionId)).toString()).toBe("first");
    expect((await locked.getBytes("v/dump.bin", second.versionId)).length).toBe(12 * MiB);
    expect((await locked.getBytes("v/dump.bin")).toString()).toBe("third");
    const listed: { versionId: string | null; isLatest: boolean; size: number }[] = [];
    for await (const v of locked.listVersions("v/")) listed.push(v);
    expect(listed.map((v) => v.versionId).sort()).toEqual([...ids].sort());
    expect(listed.filter((v) => v.isLatest).map((v) => v.versionId)).toEqual([third.versionId]);
  });

  it("locks one version, only ever extends its retention, and the server refuses to delete it", async () => {
    const put = await locked.putBytes("v/manifest.json", "{}");
    const later = await locked.putBytes("v/manifest.json", "{ }");
    expect(await locked.supportsLocking()).toBe(true);
    const until = new Date(Date.now() + 3_600_000);
    await locked.lockUntil("v/manifest.json", until, put.versionId);
    const kept = async () => Math.abs((await locked.retainedUntil("v/manifest.json", put.versionId))!.getTime() - until.getTime());
    expect(await kept()).toBeLessThan(1000); // some servers keep whole seconds
    expect(await locked.retainedUntil("v/manifest.json", later.versionId)).toBeNull(); // the other version is untouched
    await locked.lockUntil("v/manifest.json", new Date(Date.now() + 60_000), put.versionId); // shorter: ignored
    expect(await kept()).toBeLessThan(1000);
    await expect(s3Client().removeObject(lockedBucket, "v/manifest.json", { versionId: put.versionId! })).rejects.toMatchObject({ code: "AccessDenied" });
  });

  it("names a missing bucket and a wrong key clearly", async () => {
    const missing = new S3Repository({ kind: "s3", endpoint: new URL(services.s3Endpoint), accessKey: services.s3AccessKey, secretKey: services.s3SecretKey, bucket: "no-such-bucket-dbb" });
    await expect(missing.ensureReady()).rejects.toThrow(/bucket no-such-bucket-dbb does not exist/);
    const wrong = new S3Repository({ kind: "s3", endpoint: new URL(services.s3Endpoint), accessKey: "nobody", secretKey: "wrong-secret", bucket });
    await expect(wrong.ensureReady()).rejects.toThrow(/credentials|InvalidAccessKeyId|AccessDenied/);
  });
});
