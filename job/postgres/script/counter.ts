// What a plain dump holds, counted as it streams past (create taps pg_dump's output with it): rows
// per table from its COPY blocks and the schemas it creates, read by the same script reader the
// restore uses, so both agree on what is data and what is a statement.
import { Transform, type TransformCallback } from "node:stream";
import { unquoteIdentifier, stripLeadingComments } from "../sql";
import { ScriptReader } from "./reader";

/** A hand-over of chunks from a stream to the reader: `push` resolves once the reader took the
 * chunk, so the tapped stream waits for the reader (memory stays flat). */
class Channel implements AsyncIterable<Buffer> {
  private waiting: ((r: IteratorResult<Buffer>) => void) | null = null;
  private queued: { chunk: Buffer; taken: () => void; failed: (error: unknown) => void } | null = null;
  private closed = false;
  private failure: unknown = null;

  push(chunk: Buffer): Promise<void> {
    return new Promise((taken, failed) => {
      if (this.failure !== null) return failed(this.failure);
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w({ value: chunk, done: false });
        taken();
      } else this.queued = { chunk, taken, failed };
    });
  }

  /** The reader stopped for good: a chunk waiting to be taken never will be. */
  fail(error: unknown): void {
    this.failure = error;
    const q = this.queued;
    this.queued = null;
    q?.failed(error);
  }

  close(): void {
    this.closed = true;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: () =>
        new Promise((resolve) => {
          if (this.queued) {
            const q = this.queued;
            this.queued = null;
            resolve({ value: q.chunk, done: false });
            q.taken();
          } else if (this.closed) resolve({ value: undefined, done: true });
          else this.waiting = resolve;
        }),
    };
  }
}

export interface DumpCounts {
  /** Rows per table, keyed by the table's name as the COPY statement writes it. */
  rowCounts: Record<string, number>;
  /** Schemas the dump creates (CREATE SCHEMA), unquoted. */
  createdSchemas: string[];
  /** Bytes of SQL read. */
  bytes: number;
}

/** A pass-through stream that counts what the plain dump passing through holds. It ends only when
 * the reader read the script to a clean end; a dump cut inside a statement or a COPY block makes
 * it fail, so an upload of it never completes. */
export class DumpCounter extends Transform {
  private readonly channel = new Channel();
  private readonly counts: DumpCounts = { rowCounts: {}, createdSchemas: [], bytes: 0 };
  private readonly reading: Promise<void>;

  constructor() {
    super();
    this.reading = this.readScript();
    // Reported by _transform/_flush; a chunk handed over meanwhile is refused with it.
    this.reading.catch((error: unknown) => this.channel.fail(error));
  }

  private async readScript(): Promise<void> {
    for await (const item of new ScriptReader(this.channel).items()) {
      if (item.kind === "copy") {
        for await (const _ of item.data) void _;
        this.counts.rowCounts[item.copy.table] = (this.counts.rowCounts[item.copy.table] ?? 0) + item.rows();
      } else if (item.kind === "statement") {
        const schema = /^CREATE\s+SCHEMA\s+(.+?)\s*;\s*$/is.exec(stripLeadingComments(item.sql));
        const name = schema ? unquoteIdentifier(schema[1]!) : null;
        if (name !== null) this.counts.createdSchemas.push(name);
      }
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.counts.bytes += chunk.length;
    // Nothing per chunk is attached to the reader's own promise (that would keep every chunk until
    // the end); a reader that fails refuses the chunk it was handed, and every one after.
    this.channel.push(chunk).then(
      () => done(null, chunk),
      (error: Error) => done(error),
    );
  }

  override _flush(done: TransformCallback): void {
    this.channel.close();
    this.reading.then(
      () => done(),
      (error: Error) => done(error),
    );
  }

  /** What was counted; complete once the stream ended. */
  get result(): DumpCounts {
    return this.counts;
  }
}
