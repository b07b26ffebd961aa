// The one SHA-256 stream: bytes pass through unchanged while they are hashed and counted. Every
// checksum the job records or checks (create, restore, verify, download) is taken with it.
import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

export interface Sha256TapOptions {
  /** Runs before the stream may end (e.g. "every process exited 0"); a rejection errors the stream
   * instead of ending it, so nothing downstream sees a clean end. */
  beforeEnd?: () => Promise<void>;
}

export class Sha256Tap extends Transform {
  private readonly hash = createHash("sha256");
  private hex: string | null = null;
  /** Bytes that passed so far. */
  bytes = 0;

  constructor(private readonly options: Sha256TapOptions = {}) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const before = this.options.beforeEnd?.() ?? Promise.resolve();
    before.then(
      () => {
        this.hex = this.hash.digest("hex");
        done();
      },
      (error: Error) => done(error),
    );
  }

  /** The hex digest once every byte passed and the stream ended cleanly; null before. */
  get digest(): string | null {
    return this.hex;
  }
}
