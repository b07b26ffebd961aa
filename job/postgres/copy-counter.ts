// Counts rows per table from a plain pg_dump stream as it passes: each table's data is a
// `-- Data for Name: …; Type: TABLE DATA; …` header, a `COPY <name> (...) FROM stdin;` line, one
// line per row (COPY's text format escapes newlines), and a `\.` line. A COPY line opens a data
// block only after that header, so the same text inside a function body or a string literal is
// not mistaken for data. Counting the dump itself, not the database, proves what the backup holds.

import { parseQualifiedName } from "./sql";

const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const DOT = 0x2e;
const HEAD_LIMIT = 4096;
const TAIL_LIMIT = 32;

export class CopyRowCounter {
  readonly rowCounts: Record<string, number> = {};
  bytes = 0;
  private inCopy = false;
  /** Set by a TABLE DATA header; kept across the blank and `--` lines before its COPY line. */
  private dataHeaderSeen = false;
  private table = "";
  private rows = 0;
  // The current line: its first bytes (for `COPY …` and `\.`), its last bytes (for `FROM stdin;`).
  private head: Buffer[] = [];
  private headLen = 0;
  private tail = "";
  private lineLen = 0;

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, pos);
      const end = nl === -1 ? chunk.length : nl;
      if (this.inCopy) {
        // Only the first two bytes of a data line matter (is it `\.`?).
        if (this.lineLen < 2) this.keepHead(chunk.subarray(pos, Math.min(end, pos + 2 - this.lineLen)));
      } else {
        if (this.headLen < HEAD_LIMIT) this.keepHead(chunk.subarray(pos, Math.min(end, pos + HEAD_LIMIT - this.headLen)));
        this.tail = (this.tail + chunk.subarray(Math.max(pos, end - TAIL_LIMIT), end).toString("latin1")).slice(-TAIL_LIMIT);
      }
      this.lineLen += end - pos;
      if (nl === -1) return;
      this.endLine();
      pos = nl + 1;
    }
  }

  private keepHead(part: Buffer): void {
    if (part.length === 0) return;
    this.head.push(Buffer.from(part));
    this.headLen += part.length;
  }

  private endLine(): void {
    const head = Buffer.concat(this.head, this.headLen);
    if (this.inCopy) {
      if (this.lineLen === 2 && head[0] === BACKSLASH && head[1] === DOT) {
        this.rowCounts[this.table] = this.rows;
        this.inCopy = false;
      } else {
        this.rows++;
      }
    } else {
      const text = head.toString("utf8");
      if (text.startsWith("-- Data for Name: ") && text.includes("; Type: TABLE DATA;")) {
        this.dataHeaderSeen = true;
      } else if (this.dataHeaderSeen && text.startsWith("COPY ") && this.tail.endsWith("FROM stdin;")) {
        const name = parseQualifiedName(text, 5);
        if (name) {
          this.inCopy = true;
          this.table = name;
          this.rows = 0;
        }
        this.dataHeaderSeen = false;
      } else if (this.lineLen > 0 && text !== "--") {
        this.dataHeaderSeen = false;
      }
    }
    this.head = [];
    this.headLen = 0;
    this.tail = "";
    this.lineLen = 0;
  }

  /** True when the stream ended outside a COPY block (a cut-off dump ends inside one). */
  get complete(): boolean {
    return !this.inCopy && this.lineLen === 0;
  }
}
