// Reads a plain SQL script as pg_dump writes it (and psql reads it), as a stream: statements split
// where psql and the server split them, `COPY … FROM stdin` blocks with their data streamed (never
// held in memory), and psql meta-commands (`\…` lines) reported, never interpreted. Row counts,
// restores and drills all read dumps through this one reader, so text that only looks like a data
// block (a COPY line inside a function body, a "-- Data for Name" header in a string) is never
// mistaken for one.
//
// The lexer follows psql's (src/fe_utils/psqlscan.l): single-quoted strings ('' escapes, backslash
// escapes in E'' strings and when standard_conforming_strings is off), double-quoted identifiers,
// dollar quotes ($tag$…$tag$), -- and nested /* */ comments, parenthesis depth, and psql's
// BEGIN … END tracking inside CREATE FUNCTION/PROCEDURE bodies (BEGIN ATOMIC). A statement ends at
// a semicolon outside all of those. Whatever this lexer gets wrong cannot commit or run anything
// extra: the restore sends each statement alone through the extended protocol, which the server
// refuses when it holds more than one statement.
import { stripLeadingComments } from "../sql";
import { parseCopyFromStdin, type CopyFromStdin } from "./statements";

export interface StatementItem {
  kind: "statement";
  sql: string;
  /** Line of the dump the statement starts on (1-based), for messages. */
  line: number;
}

export interface CopyItem {
  kind: "copy";
  /** The COPY statement itself (without its data). */
  sql: string;
  copy: CopyFromStdin;
  line: number;
  /** The rows, as raw bytes, without the `\.` end marker. Read it before asking for the next item. */
  data: AsyncIterable<Buffer>;
  /** Rows read so far (a row is a line of COPY text format; embedded newlines are escaped). */
  rows(): number;
}

export interface MetaItem {
  kind: "meta";
  /** The whole line, e.g. `\restrict abc…` or `\! rm -rf /`. */
  text: string;
  /** The command word without its backslash: "restrict", "!", "connect"… */
  command: string;
  line: number;
}

export type ScriptItem = StatementItem | CopyItem | MetaItem;

/** Why a script cannot be read: cut short, not text, or larger than any pg_dump statement. */
export class ScriptError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = "ScriptError";
  }
}

export interface ScriptReaderOptions {
  /** A statement longer than this is refused (pg_dump's are DDL; data goes through COPY). */
  maxStatementBytes?: number;
}

export const DEFAULT_MAX_STATEMENT_BYTES = 64 * 1024 * 1024;

const enum State {
  Normal,
  SingleQuote,
  SingleQuoteEnd, // seen a ' inside a string: '' continues it, anything else ends it
  EscapeString, // E'…' (or any '…' with standard_conforming_strings off)
  EscapeStringBackslash,
  EscapeStringEnd,
  DoubleQuote,
  DoubleQuoteEnd,
  DollarTag, // after a $ that may open $tag$
  DollarBody,
  LineComment,
  BlockComment,
  Dash, // a - that may open --
  Slash, // a / that may open /*
  BlockStar, // a * inside a comment that may close it
  BlockSlash, // a / inside a comment that may open a nested one
}

const NL = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const DOT = 0x2e;
const QUOTE = 0x27;
const DQUOTE = 0x22;
const DOLLAR = 0x24;
const SEMI = 0x3b;
const LPAREN = 0x28;
const RPAREN = 0x29;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;

const isIdentStart = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b >= 0x80;
const isIdentCont = (b: number) => isIdentStart(b) || (b >= 0x30 && b <= 0x39) || b === DOLLAR;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === NL || b === CR || b === 0x0c || b === 0x0b;

/** Pulls chunks from the source one at a time; `buf[pos…]` is what is not read yet. */
class ByteSource {
  private readonly iterator: AsyncIterator<Buffer>;
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  ended = false;
  /** The last byte of the source so far (null before any). */
  lastByte: number | null = null;

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Makes unread bytes available; false at the end of the source. */
  async fill(): Promise<boolean> {
    while (this.pos >= this.buf.length) {
      if (this.ended) return false;
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        return false;
      }
      this.buf = typeof next.value === "string" ? Buffer.from(next.value) : next.value;
      this.pos = 0;
      if (this.buf.length > 0) this.lastByte = this.buf[this.buf.length - 1]!;
    }
    return true;
  }

  /** At least `n` unread bytes in `buf` (fewer only at the end of the source). */
  async peek(n: number): Promise<number> {
    if (!(await this.fill())) return 0;
    while (this.buf.length - this.pos < n && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      this.buf = Buffer.concat([this.buf.subarray(this.pos), next.value]);
      this.pos = 0;
      if (next.value.length > 0) this.lastByte = next.value[next.value.length - 1]!;
    }
    return this.buf.length - this.pos;
  }
}

export class ScriptReader {
  private readonly src: ByteSource;
  private readonly maxStatementBytes: number;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  private line = 1;
  /** standard_conforming_strings as the script last set it (pg_dump sets it at the top). */
  private standardStrings = true;

  constructor(source: AsyncIterable<Buffer>, options: ScriptReaderOptions = {}) {
    this.src = new ByteSource(source);
    this.maxStatementBytes = options.maxStatementBytes ?? DEFAULT_MAX_STATEMENT_BYTES;
  }

  async *items(): AsyncGenerator<ScriptItem> {
    for (;;) {
      const item = await this.nextStatementOrMeta();
      if (item === null) return;
      if (item.kind === "meta") {
        yield item;
        continue;
      }
      this.track(item.sql);
      const copy = parseCopyFromStdin(item.sql);
      if (!copy) {
        yield item;
        continue;
      }
      await this.skipRestOfCopyLine(item.line);
      let rows = 0;
      let done = false;
      const data = this.copyData((n) => (rows += n), () => (done = true));
      yield { kind: "copy", sql: item.sql, copy, line: item.line, data, rows: () => rows };
      // The consumer should have read the data; whatever it left is read (and counted) here.
      if (!done) for await (const _ of data) void _;
    }
  }

  /** psql reads a SET of standard_conforming_strings and lexes later strings accordingly. */
  private track(sql: string): void {
    const m = /^\s*SET\s+(?:SESSION\s+)?standard_conforming_strings\s*(?:=|TO)\s*'?(\w+)'?\s*;?\s*$/i.exec(stripLeadingComments(sql));
    if (m) this.standardStrings = !/^(off|false|no|0)$/i.test(m[1]!);
  }

  /** The next statement (ending at its semicolon) or meta-command line; null at a clean end. */
  private async nextStatementOrMeta(): Promise<StatementItem | MetaItem | null> {
    const src = this.src;
    const parts: Buffer[] = [];
    let size = 0;
    let state = State.Normal;
    let parenDepth = 0;
    let commentDepth = 0;
    let hasContent = false; // anything but whitespace and comments since the statement began
    let startLine = this.line;
    let dollarTag: number[] = [];
    let dollarMatch = -1; // in a dollar body: how much of `tag$` after a `$` matched so far
    // psql's heuristic for BEGIN ATOMIC bodies: the first identifiers of the statement, and the
    // BEGIN/CASE … END depth inside CREATE [OR REPLACE] FUNCTION|PROCEDURE.
    const firstWords: string[] = [];
    let identifierCount = 0;
    let beginDepth = 0;
    let word: number[] | null = null; // the identifier being read (lowercase bytes, capped)
    let prevIdentCont = false;

    const flushWord = () => {
      if (word === null) return;
      const text = String.fromCharCode(...word);
      word = null;
      if (identifierCount < 4) firstWords.push(["create", "function", "procedure", "or", "replace"].includes(text) ? text : "");
      identifierCount++;
      const inRoutine =
        firstWords[0] === "create" &&
        (firstWords[1] === "function" || firstWords[1] === "procedure" || (firstWords[1] === "or" && firstWords[2] === "replace" && (firstWords[3] === "function" || firstWords[3] === "procedure")));
      if (inRoutine && parenDepth === 0) {
        if (text === "begin") beginDepth++;
        else if (text === "case") {
          if (beginDepth >= 1) beginDepth++;
        } else if (text === "end" && beginDepth > 0) beginDepth--;
      }
    };

    for (;;) {
      if (!(await src.fill())) {
        flushWord();
        // Only whitespace and finished comments left: a clean end. A lone - or / is an operator,
        // and a block comment never closed is not finished: both are a script cut short.
        const finished = !hasContent && (state === State.Normal || state === State.LineComment);
        // pg_dump ends every line, the last one too: a script that stops mid-line was cut.
        if (finished && (src.lastByte === NL || src.lastByte === null)) return null;
        throw new ScriptError(`the script ends inside a statement that began at line ${startLine} (cut short?)`, startLine);
      }
      const buf = src.buf;
      let i = src.pos;
      const segmentStart = i;
      let end = -1; // index just after the statement's semicolon
      let meta = false;
      for (; i < buf.length; i++) {
        const b = buf[i]!;
        if (b === NL) this.line++;
        switch (state) {
          case State.Normal:
            if (word !== null) {
              if (isIdentCont(b)) {
                if (word.length < 16) word.push(b | 0x20);
                prevIdentCont = true;
                continue;
              }
              // E'…': an identifier that is exactly "e" followed by a quote opens an escape string.
              if (b === QUOTE && word.length === 1 && word[0] === 0x65) {
                word = null;
                state = State.EscapeString;
                prevIdentCont = false;
                continue;
              }
              flushWord();
            }
            if (isSpace(b)) {
              prevIdentCont = false;
              continue;
            }
            if (b === BACKSLASH) {
              if (hasContent) throw new ScriptError(`a psql meta-command (\\…) follows SQL on line ${this.line}: not a pg_dump script`, this.line);
              meta = true;
              break;
            }
            if (b === DASH) {
              state = State.Dash;
              prevIdentCont = false;
              continue;
            }
            if (b === SLASH) {
              state = State.Slash;
              prevIdentCont = false;
              continue;
            }
            if (!hasContent) startLine = this.line;
            hasContent = true;
            if (b === QUOTE) state = this.standardStrings ? State.SingleQuote : State.EscapeString;
            else if (b === DQUOTE) state = State.DoubleQuote;
            else if (b === DOLLAR && !prevIdentCont) {
              state = State.DollarTag;
              dollarTag = [];
            } else if (b === LPAREN) parenDepth++;
            else if (b === RPAREN) {
              if (parenDepth > 0) parenDepth--;
            } else if (b === SEMI && parenDepth === 0 && beginDepth === 0) {
              end = i + 1;
              break;
            } else if (isIdentStart(b) && !prevIdentCont) {
              word = [b | 0x20];
              prevIdentCont = true;
              continue;
            }
            prevIdentCont = isIdentCont(b) && prevIdentCont;
            continue;
          case State.Dash:
          case State.Slash:
            if (state === State.Dash && b === DASH) state = State.LineComment;
            else if (state === State.Slash && b === STAR) {
              state = State.BlockComment;
              commentDepth = 1;
            } else {
              // The - or / was an operator: content. This byte again, in Normal.
              if (!hasContent) startLine = this.line;
              hasContent = true;
              state = State.Normal;
              i--;
              if (b === NL) this.line--;
            }
            continue;
          case State.LineComment:
            if (b === NL) state = State.Normal;
            continue;
          case State.BlockComment:
            if (b === STAR) state = State.BlockStar;
            else if (b === SLASH) state = State.BlockSlash;
            continue;
          case State.BlockStar:
            if (b === SLASH) {
              commentDepth--;
              state = commentDepth === 0 ? State.Normal : State.BlockComment;
            } else if (b !== STAR) state = b === SLASH ? State.BlockSlash : State.BlockComment;
            continue;
          case State.BlockSlash:
            if (b === STAR) {
              commentDepth++;
              state = State.BlockComment;
            } else state = b === SLASH ? State.BlockSlash : State.BlockComment;
            continue;
          case State.SingleQuote:
            if (b === QUOTE) state = State.SingleQuoteEnd;
            continue;
          case State.SingleQuoteEnd:
            if (b === QUOTE) state = State.SingleQuote;
            else {
              state = State.Normal;
              prevIdentCont = false;
              i--;
              if (b === NL) this.line--;
            }
            continue;
          case State.EscapeString:
            if (b === BACKSLASH) state = State.EscapeStringBackslash;
            else if (b === QUOTE) state = State.EscapeStringEnd;
            continue;
          case State.EscapeStringBackslash:
            state = State.EscapeString;
            continue;
          case State.EscapeStringEnd:
            if (b === QUOTE) state = State.EscapeString;
            else {
              state = State.Normal;
              prevIdentCont = false;
              i--;
              if (b === NL) this.line--;
            }
            continue;
          case State.DoubleQuote:
            if (b === DQUOTE) state = State.DoubleQuoteEnd;
            continue;
          case State.DoubleQuoteEnd:
            if (b === DQUOTE) state = State.DoubleQuote;
            else {
              state = State.Normal;
              prevIdentCont = true; // a quoted identifier is an identifier: `"x"$1` is not a dollar quote
              i--;
              if (b === NL) this.line--;
            }
            continue;
          case State.DollarTag:
            if (b === DOLLAR) {
              state = State.DollarBody;
              dollarMatch = -1;
            } else if ((dollarTag.length === 0 ? isIdentStart(b) : isIdentCont(b) && b !== DOLLAR) && !(dollarTag.length === 0 && isDigit(b))) {
              dollarTag.push(b);
            } else {
              // Not a dollar quote ($1 is a parameter, $ alone an operator character): the tag's
              // bytes were identifier characters; this byte again, in Normal.
              state = State.Normal;
              prevIdentCont = true;
              dollarTag = [];
              i--;
              if (b === NL) this.line--;
            }
            continue;
          case State.DollarBody:
            if (dollarMatch >= 0) {
              if (dollarMatch < dollarTag.length) {
                if (b === dollarTag[dollarMatch]) dollarMatch++;
                else dollarMatch = b === DOLLAR ? 0 : -1;
              } else if (b === DOLLAR) {
                state = State.Normal;
                prevIdentCont = false;
              } else dollarMatch = -1;
            } else if (b === DOLLAR) dollarMatch = 0;
            continue;
        }
        if (end !== -1 || meta) break;
      }
      if (meta) {
        // The backslash line: everything to the end of the line is the command and its arguments.
        parts.length = 0;
        src.pos = i;
        return this.readMetaLine();
      }
      // The statement's bytes from the end of the one before: blank lines and comments included
      // (the server skips them), so a comment that spans chunks is never cut in two.
      const stop = end === -1 ? buf.length : end;
      size += stop - segmentStart;
      if (size > this.maxStatementBytes) {
        throw new ScriptError(`the statement at line ${startLine} is over ${Math.round(this.maxStatementBytes / 1048576)} MiB: not a pg_dump DDL statement (data comes in COPY blocks)`, startLine);
      }
      parts.push(buf.subarray(segmentStart, stop));
      src.pos = stop;
      if (end !== -1) {
        flushWord();
        return { kind: "statement", sql: this.decode(parts, size, startLine), line: startLine };
      }
    }
  }

  private decode(parts: Buffer[], size: number, line: number): string {
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    // No SQL text holds a NUL; the server's protocol cannot carry one either.
    if (bytes.includes(0)) throw new ScriptError(`the statement at line ${line} holds a NUL byte: not SQL text`, line);
    try {
      return this.decoder.decode(bytes);
    } catch {
      throw new ScriptError(`the statement at line ${line} is not valid UTF-8: db-backup restores UTF-8 dumps (new backups are dumped as UTF-8)`, line);
    }
  }

  private async readMetaLine(): Promise<MetaItem> {
    const src = this.src;
    const line = this.line;
    const parts: Buffer[] = [];
    let size = 0;
    for (;;) {
      if (!(await src.fill())) break;
      const nl = src.buf.indexOf(NL, src.pos);
      const stop = nl === -1 ? src.buf.length : nl;
      size += stop - src.pos;
      if (size > 1024 * 1024) throw new ScriptError(`a psql meta-command line at line ${line} is over 1 MiB`, line);
      parts.push(src.buf.subarray(src.pos, stop));
      src.pos = stop;
      if (nl !== -1) {
        src.pos = nl + 1;
        this.line++;
        break;
      }
    }
    const text = Buffer.concat(parts).toString("utf8").replace(/\r$/, "");
    const command = /^\\([^\s\\]*)/.exec(text)?.[1] ?? "";
    return { kind: "meta", text, command, line };
  }

  /** After `COPY … FROM stdin;` the data starts on the next line; only blanks may come between. */
  private async skipRestOfCopyLine(line: number): Promise<void> {
    const src = this.src;
    for (;;) {
      if (!(await src.fill())) throw new ScriptError(`the script ends right after the COPY statement at line ${line} (cut short?)`, line);
      const b = src.buf[src.pos]!;
      src.pos++;
      if (b === NL) {
        this.line++;
        return;
      }
      if (b !== 0x20 && b !== 0x09 && b !== CR) throw new ScriptError(`text follows the COPY statement on line ${line}: its data must start on the next line`, line);
    }
  }

  /** The rows of a COPY block, up to (not including) the `\.` line; counts rows as it goes. */
  private async *copyData(countRows: (n: number) => void, finished: () => void): AsyncGenerator<Buffer> {
    const src = this.src;
    const startLine = this.line;
    let atLineStart = true;
    for (;;) {
      if (!(await src.fill())) throw new ScriptError(`the script ends inside the data of the COPY at line ${startLine - 1} (cut short?)`, startLine);
      if (atLineStart && src.buf[src.pos] === BACKSLASH && (await this.endMarker())) {
        finished();
        return;
      }
      // Whole rows at once; a row that starts with a backslash where the chunk cannot tell whether
      // it is the end marker is left for the next round.
      const buf = src.buf;
      const from = src.pos;
      let i = from;
      let rows = 0;
      let stop = buf.length;
      atLineStart = false;
      for (;;) {
        const nl = buf.indexOf(NL, i);
        if (nl === -1) break;
        rows++;
        i = nl + 1;
        if (i >= buf.length) {
          atLineStart = true;
          break;
        }
        if (buf[i] === BACKSLASH) {
          const decidable = i + 3 < buf.length;
          if (!decidable || (buf[i + 1] === DOT && (buf[i + 2] === NL || (buf[i + 2] === CR && buf[i + 3] === NL)))) {
            stop = i;
            atLineStart = true;
            break;
          }
        }
      }
      this.line += rows;
      countRows(rows);
      src.pos = stop;
      if (stop > from) yield buf.subarray(from, stop);
    }
  }

  /** At a line that starts with a backslash: consumes it when it is `\.` (end of data). */
  private async endMarker(): Promise<boolean> {
    const src = this.src;
    const have = await src.peek(4);
    const b = src.buf;
    const p = src.pos;
    if (have < 3 || b[p + 1] !== DOT) return false; // pg_dump ends the marker's line: `\.` and EOF is a cut
    let length = 0;
    if (b[p + 2] === NL) length = 3;
    else if (b[p + 2] === CR && (have === 3 || b[p + 3] === NL)) length = Math.min(have, 4);
    if (length === 0) return false;
    src.pos = p + length;
    this.line++;
    return true;
  }
}
