// A writable stream that keeps everything written to it, for calling the CLI in-process.
import { Writable } from "node:stream";

export class Collector extends Writable {
  text = "";
  isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    callback();
  }
}
