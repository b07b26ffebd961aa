import { beforeAll, describe, expect, it } from "vitest";
import { DumpCounter } from "../../../job/postgres/script/counter";
import { ScriptReader } from "../../../job/postgres/script/reader";
import { prng } from "../../helpers/prng";

// ---- A realistic plain pg_dump, built from a description of its tables ----------------------------

/** pg_dump's fmtId: bare when lowercase letters/digits/_ (not starting with a digit), else "quoted". */
function ident(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** One row in COPY's text format: tab-separated, \N for NULL, backslash escapes for \ \n \r \t. */
function copyRow(values: (string | null)[]): string {
  return values
    .map((v) =>
      v === null
        ? "\\N"
        : v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t"),
    )
    .join("\t");
}

interface TableSpec {
  schema: string;
  table: string;
  columns: string[];
  rows: (string | null)[][];
}

function copyBlock(t: TableSpec): string {
  const name = `${ident(t.schema)}.${ident(t.table)}`;
  const cols = t.columns.length ? `(${t.columns.map(ident).join(", ")})` : "";
  return (
    `--\n-- Data for Name: ${t.table}; Type: TABLE DATA; Schema: ${t.schema}; Owner: -\n--\n\n` +
    `COPY ${name} ${cols} FROM stdin;\n` +
    t.rows.map((r) => copyRow(r) + "\n").join("") +
    "\\.\n\n\n"
  );
}

const PREAMBLE = `--
-- PostgreSQL database dump
--

-- Dumped from database version 16.4
-- Dumped by pg_dump version 16.4

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);

--
-- Name: copy_things(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.copy_things() RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- COPY public.items (id) FROM stdin;
    COPY public.items (id) FROM stdin;
    EXECUTE 'COPY public.items FROM stdin;';
COPY public.items (id, title) TO stdout;
END;
$$;

-- COPY public.items (id, title, body) FROM stdin;
COMMENT ON TABLE public.items IS 'Load with COPY public.items FROM stdin;';

CREATE TABLE public.items (
    id integer NOT NULL,
    title text DEFAULT 'COPY ' NOT NULL,
    body text
);

`;

const POSTAMBLE = `SELECT pg_catalog.setval('public.items_id_seq', 42, true);

--
-- PostgreSQL database dump complete
--

`;

const WIDE_COLUMNS = Array.from({ length: 600 }, (_, i) => `column_${String(i).padStart(4, "0")}`);

const TABLES: TableSpec[] = [
  {
    schema: "public",
    table: "items",
    columns: ["id", "title", "body"],
    rows: [
      ["1", "Hello", "line one\nline two"],
      ["2", "tab\there", "back\\slash and \\n literal"],
      ["3", "naïve — 日本語 🎉", null],
      ["4", "looks like a terminator", "\\."],
      ["5", "embedded terminator", "before\n\\.\nafter"],
      ["6", "carriage\r\nreturn", ""],
      ["7", "COPY public.items (id) FROM stdin;", "x"],
    ],
  },
  {
    // Single text column: rows that are an empty line, a lone backslash, `\.` as data, a dot.
    schema: "public",
    table: "single",
    columns: ["v"],
    rows: [[""], ["\\"], ["\\."], ["."], [null], [""], ["\\\\."]],
  },
  {
    schema: "My Schema",
    table: 'Table "quoted" name',
    columns: ["id", "Weird Col"],
    rows: [
      ["1", "a"],
      ["2", "b"],
    ],
  },
  { schema: "public", table: "dotted.name", columns: ["id"], rows: [["1"], ["2"], ["3"], ["4"]] },
  { schema: "public", table: "with space", columns: ["id"], rows: [["1"]] },
  {
    schema: "日本",
    table: "表 テーブル",
    columns: ["名前"],
    rows: [["値"], ["ü\tß"], ["😀\n😀"]],
  },
  { schema: "public", table: "empty", columns: ["id"], rows: [] },
  // A table without columns: pg_dump writes `COPY public.nocols  FROM stdin;` and empty rows.
  { schema: "public", table: "nocols", columns: [], rows: [[], []] },
  // A COPY header longer than 4 KiB.
  {
    schema: "public",
    table: "wide",
    columns: WIDE_COLUMNS,
    rows: [WIDE_COLUMNS.map((_, i) => String(i)), WIDE_COLUMNS.map(() => null)],
  },
];

function key(t: TableSpec): string {
  return `${ident(t.schema)}.${ident(t.table)}`;
}

function buildDump(tables: TableSpec[]): { dump: Buffer; expected: Record<string, number> } {
  const text = PREAMBLE + tables.map(copyBlock).join("") + POSTAMBLE;
  const expected: Record<string, number> = {};
  for (const t of tables) expected[key(t)] = t.rows.length;
  return { dump: Buffer.from(text, "utf8"), expected };
}

interface Counted {
  rowCounts: Record<string, number>;
  complete: boolean;
  bytes: number;
}

function* pieces(dump: Buffer, cuts: number[]): Generator<Buffer> {
  let start = 0;
  for (const cut of [...cuts, dump.length]) {
    yield dump.subarray(start, cut);
    start = cut;
  }
}

/** The script reader over `dump` cut at `cuts`: rows per table of every COPY block read to its end,
 * and whether the whole script read to a clean end (the create pipeline's verdict). */
async function count(dump: Buffer, cuts: number[] = []): Promise<Counted> {
  const rowCounts: Record<string, number> = {};
  async function* source() {
    yield* pieces(dump, cuts);
  }
  try {
    for await (const item of new ScriptReader(source()).items()) {
      if (item.kind !== "copy") continue;
      for await (const _ of item.data) void _;
      rowCounts[item.copy.table] = item.rows();
    }
    return { rowCounts, complete: true, bytes: dump.length };
  } catch {
    return { rowCounts, complete: false, bytes: dump.length };
  }
}

/** The same through the DumpCounter stream create pipes pg_dump's output through. */
async function countStream(dump: Buffer, cuts: number[] = []): Promise<Counted> {
  const counter = new DumpCounter();
  counter.resume(); // the pass-through side goes nowhere here
  const done = new Promise<boolean>((resolve) => {
    counter.on("end", () => resolve(true));
    counter.on("error", () => resolve(false));
  });
  for (const piece of pieces(dump, cuts)) {
    if (!counter.write(piece)) await new Promise((r) => counter.once("drain", r));
  }
  counter.end();
  const complete = await done;
  return { rowCounts: { ...counter.result.rowCounts }, complete, bytes: counter.result.bytes };
}


const { dump: DUMP, expected: EXPECTED } = buildDump(TABLES);

describe("the dump reader on a whole dump", () => {
  it("sanity: the generated dump looks like pg_dump (quoted names, long header, escaped data)", async () => {
    const text = DUMP.toString("utf8");
    expect(text).toContain('COPY "My Schema"."Table ""quoted"" name" (id, "Weird Col") FROM stdin;\n');
    expect(text).toContain('COPY public."dotted.name" (id) FROM stdin;\n');
    expect(text).toContain("COPY public.nocols  FROM stdin;\n\n\n\\.\n");
    expect(text).toContain("\n\\\\.\n"); // `\.` as data is escaped to `\\.`
    expect(text).toContain("1\tHello\tline one\\nline two\n");
    expect(text.split("\n").some((l) => l.startsWith("COPY public.wide ") && l.length > 4096)).toBe(true);
  });

  it("counts the rows of every table, keyed by the name as pg_dump wrote it", async () => {
    const c = await count(DUMP);
    expect(c.rowCounts).toEqual(EXPECTED);
    expect(c.rowCounts["public.items"]).toBe(7);
    expect(c.rowCounts["public.single"]).toBe(7);
    expect(c.rowCounts['"My Schema"."Table ""quoted"" name"']).toBe(2);
    expect(c.rowCounts['public."dotted.name"']).toBe(4);
    expect(c.rowCounts['public."with space"']).toBe(1);
    expect(c.rowCounts['"日本"."表 テーブル"']).toBe(3);
    expect(c.rowCounts["public.nocols"]).toBe(2);
    expect(c.rowCounts["public.wide"]).toBe(2);
  });

  it("reports a table with zero rows as 0 (present, not missing)", async () => {
    const c = await count(DUMP);
    expect(Object.prototype.hasOwnProperty.call(c.rowCounts, "public.empty")).toBe(true);
    expect(c.rowCounts["public.empty"]).toBe(0);
  });

  it("does not count COPY in comments, function bodies, string literals or COPY … TO", async () => {
    // The preamble alone mentions COPY many times but has no data.
    const c = await count(Buffer.from(PREAMBLE + POSTAMBLE));
    expect(c.rowCounts).toEqual({});
    expect(c.complete).toBe(true);
  });

  it("through the DumpCounter stream create uses: the same counts, every byte, and it ends only on a whole dump", async () => {
    const c = await countStream(DUMP, [100, 4000, 4001, 20_000]);
    expect(c).toEqual({ rowCounts: EXPECTED, complete: true, bytes: DUMP.length });
    expect(c.bytes).toBeGreaterThan(DUMP.toString("utf8").length); // bytes, not characters
    const cut = DUMP.toString("latin1").indexOf("2\ttab\\there");
    expect((await countStream(DUMP.subarray(0, cut))).complete).toBe(false);
  });

  it("a schema-only dump (no COPY blocks) is complete with no counts", async () => {
    const c = await count(Buffer.from("CREATE TABLE public.t (id int);\n"));
    expect(c.rowCounts).toEqual({});
    expect(c.complete).toBe(true);
  });

  it("an empty stream is complete with 0 bytes", async () => {
    expect(await countStream(Buffer.alloc(0))).toEqual({ rowCounts: {}, complete: true, bytes: 0 });
  });
});

describe("CopyRowCounter under any chunking", () => {
  let whole: Counted;
  beforeAll(async () => {
    whole = await count(DUMP);
  });

  it("gives identical results when split at every byte boundary", async () => {
    for (let cut = 0; cut <= DUMP.length; cut++) {
      const r = (await count(DUMP, [cut]));
      if (r.complete !== whole.complete || r.bytes !== whole.bytes || JSON.stringify(r.rowCounts) !== JSON.stringify(whole.rowCounts)) {
        expect({ cut, ...r }).toEqual({ cut, ...whole });
      }
    }
  });

  it("gives identical results when split at every pair of boundaries around each COPY header", async () => {
    const text = DUMP.toString("latin1");
    const starts: number[] = [];
    for (let i = text.indexOf("COPY "); i !== -1; i = text.indexOf("COPY ", i + 1)) starts.push(i);
    for (const s of starts) {
      const lineEnd = text.indexOf("\n", s) + 1;
      // Only header lines of modest length: pairs inside each.
      const end = Math.min(lineEnd + 4, s + 80);
      for (let a = s - 2; a < end; a += 2) {
        for (let b = a; b < end; b++) {
          const r = (await count(DUMP, [a, b]));
          if (JSON.stringify(r) !== JSON.stringify(whole)) expect({ a, b, ...r }).toEqual({ a, b, ...whole });
        }
      }
    }
  });

  it("gives identical results fed one byte at a time", async () => {
    const cuts = Array.from({ length: DUMP.length - 1 }, (_, i) => i + 1);
    expect((await count(DUMP, cuts))).toEqual(whole);
  });

  it("gives identical results for 300 random chunkings (seeded)", async () => {
    const random = prng(0x5eed);
    for (let run = 0; run < 300; run++) {
      const maxChunk = [1, 3, 7, 64, 1000, 5000][run % 6]!;
      const cuts: number[] = [];
      for (let pos = 0; ; ) {
        pos += 1 + Math.floor(random() * maxChunk);
        if (pos >= DUMP.length) break;
        cuts.push(pos);
      }
      const r = (await count(DUMP, cuts));
      if (JSON.stringify(r) !== JSON.stringify(whole)) expect({ run, cuts, ...r }).toEqual({ run, ...whole });
    }
  });

  it("counts rows longer than any chunk (100 KB values, 8 KB DDL lines) under random chunkings", async () => {
    const big: TableSpec = {
      schema: "public",
      table: "big",
      columns: ["id", "payload"],
      rows: [
        ["1", "x".repeat(100_000)],
        ["2", "\\".repeat(50_000) + "\n".repeat(10)],
        ["3", ""],
      ],
    };
    const longDdl = `COMMENT ON TABLE public.big IS '${"COPY ".repeat(1600)}';\n`;
    const text = longDdl + copyBlock(big) + copyBlock(TABLES[0]!);
    const dump = Buffer.from(text);
    const expected = { "public.big": 3, "public.items": 7 };
    const random = prng(42);
    for (let run = 0; run < 40; run++) {
      const cuts: number[] = [];
      for (let pos = 0; ; ) {
        pos += 1 + Math.floor(random() * 20_000);
        if (pos >= dump.length) break;
        cuts.push(pos);
      }
      const c = await count(dump, cuts);
      expect(c.rowCounts).toEqual(expected);
      expect(c.complete).toBe(true);
      expect(c.bytes).toBe(dump.length);
    }
  });
});

describe("the dump reader on a cut-off dump", () => {
  it("is not complete when the stream ends inside a COPY block", async () => {
    const text = DUMP.toString("latin1");
    const inside = text.indexOf("2\ttab\\there"); // a data row of public.items
    expect(inside).toBeGreaterThan(0);
    const c = await count(DUMP.subarray(0, inside));
    expect(c.complete).toBe(false);
    // A table whose data was cut off has no count (it would claim rows the dump does not finish).
    expect(c.rowCounts["public.items"]).toBeUndefined();
  });

  it("is not complete when the stream ends right before the `\\.` terminator", async () => {
    const text = DUMP.toString("latin1");
    const end = text.indexOf("\n\\.\n", text.indexOf("COPY public.items (id, title, body)")) + 1; // start of the terminator line
    const c = await count(DUMP.subarray(0, end));
    expect(c.complete).toBe(false);
  });

  it("is not complete when the stream ends in the middle of the terminator line", async () => {
    const text = DUMP.toString("latin1");
    const end = text.indexOf("\n\\.\n", text.indexOf("COPY public.items (id, title, body)")) + 3; // `\.` without its newline
    expect((await count(DUMP.subarray(0, end))).complete).toBe(false);
  });

  it("is not complete when the stream ends mid-line outside a COPY block", async () => {
    const c = await count(Buffer.from("SET statement_timeout = 0;\nSELECT pg_catalog.set_con"));
    expect(c.complete).toBe(false);
  });

  it("is not complete at every cut inside any COPY block, and complete at every line end between the data's statements", async () => {
    const text = DUMP.toString("latin1");
    const insideCopy: boolean[] = [];
    // Recompute "inside a COPY block" independently: between the header's newline and the end of `\.\n`.
    let inBlock = false;
    for (let i = 0, lineStart = 0; i < text.length; i++) {
      if (text[i] !== "\n") continue;
      const line = text.slice(lineStart, i);
      if (!inBlock && line.startsWith("COPY ") && line.endsWith("FROM stdin;")) inBlock = true;
      else if (inBlock && line === "\\.") inBlock = false;
      insideCopy[i + 1] = inBlock;
      lineStart = i + 1;
    }
    // After the preamble every statement is one line (COPY headers, the setval): a cut at a line end
    // outside a COPY block is a clean end there. Inside the preamble's multi-line statements it is not.
    for (let cut = PREAMBLE.length; cut < DUMP.length; cut++) {
      const atLineEnd = text[cut - 1] === "\n";
      const c = await count(DUMP.subarray(0, cut));
      const want = atLineEnd && insideCopy[cut] === false;
      if (c.complete !== want) expect({ cut, complete: c.complete }).toEqual({ cut, complete: want });
    }
  });
});

describe("the dump reader: COPY-looking lines that are not data", () => {
  // pg_dump prints function bodies and string literals verbatim, so a line at column 0 inside a
  // dollar-quoted body or a multi-line literal may read `COPY … FROM stdin;`. It is DDL, not data.
  const variants = {
    "an unindented COPY … FROM stdin; inside a plpgsql body":
      "CREATE FUNCTION public.load() RETURNS void\n    LANGUAGE plpgsql\n    AS $$\nBEGIN\nCOPY public.items (id) FROM stdin;\nEND;\n$$;\n\n",
    "a COPY … FROM stdin; line inside a multi-line COMMENT literal":
      "COMMENT ON TABLE public.items IS 'How to load:\nCOPY public.items (id) FROM stdin;\nthen end with a dot line';\n\n",
  };
  for (const [label, ddl] of Object.entries(variants)) {
    it(`${label} must not start a COPY block`, async () => {
      const { dump, expected } = buildDump(TABLES);
      const text = dump.toString("utf8");
      const at = text.indexOf("--\n-- Data for Name");
      const withDdl = Buffer.from(text.slice(0, at) + ddl + text.slice(at), "utf8");
      const c = await count(withDdl);
      expect(c.rowCounts).toEqual(expected);
      expect(c.complete).toBe(true);
    });
  }
});
