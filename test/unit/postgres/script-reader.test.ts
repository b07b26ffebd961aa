// The script reader splits pg_dump's plain output as psql and the server do, whatever the chunk
// boundaries, and never mistakes text that looks like a data block for one.
import { describe, expect, it } from "vitest";
import { ScriptError, ScriptReader, type ScriptItem } from "../../../job/postgres/script/reader";

interface Read {
  kind: string;
  sql?: string;
  table?: string;
  rows?: number;
  data?: string;
  meta?: string;
}

/** Reads `text` fed in chunks of `size` bytes (every size gives the same result). */
async function read(text: string | Buffer, size = 65536): Promise<Read[]> {
  const bytes = typeof text === "string" ? Buffer.from(text) : text;
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const out: Read[] = [];
  for await (const item of new ScriptReader(chunks()).items() as AsyncIterable<ScriptItem>) {
    if (item.kind === "copy") {
      const parts: Buffer[] = [];
      for await (const c of item.data) parts.push(c);
      out.push({ kind: "copy", table: item.copy.table, rows: item.rows(), data: Buffer.concat(parts).toString() });
    } else if (item.kind === "meta") out.push({ kind: "meta", meta: item.text });
    else out.push({ kind: "statement", sql: item.sql.replace(/^(\s|--[^\n]*\n)*/, "") });
  }
  return out;
}

async function readAllSizes(text: string): Promise<Read[]> {
  const whole = await read(text);
  for (const size of [1, 2, 3, 5, 7, 13, 64]) expect(await read(text, size)).toEqual(whole);
  return whole;
}

describe("ScriptReader", () => {
  it("splits statements at semicolons outside quotes, comments and parentheses", async () => {
    const items = await readAllSizes(
      [
        "SET a = 'x;y';",
        'CREATE TABLE "we;ird" (a text DEFAULT \'it\'\'s; fine\', b int CHECK (b > 0));',
        "-- a comment; with a semicolon\nSELECT 1 /* block; /* nested; */ still */ + 2;",
        "SELECT E'back\\'slash;';",
        "SELECT $$ dollar; $$, $tag$ a $$ b; $tag$;",
      ].join("\n") + "\n",
    );
    expect(items.map((i) => i.sql)).toEqual([
      "SET a = 'x;y';",
      'CREATE TABLE "we;ird" (a text DEFAULT \'it\'\'s; fine\', b int CHECK (b > 0));',
      "SELECT 1 /* block; /* nested; */ still */ + 2;",
      "SELECT E'back\\'slash;';",
      "SELECT $$ dollar; $$, $tag$ a $$ b; $tag$;",
    ]);
  });

  it("keeps a BEGIN ATOMIC body (semicolons inside) in its CREATE FUNCTION, as psql does", async () => {
    const fn = "CREATE FUNCTION public.f() RETURNS integer\n    LANGUAGE sql\n    BEGIN ATOMIC\n SELECT 1;\n SELECT CASE WHEN true THEN 2 END;\nEND;";
    const items = await readAllSizes(`${fn}\nSELECT 3;\n`);
    expect(items.map((i) => i.sql)).toEqual([fn, "SELECT 3;"]);
  });

  it("reads $1 and identifiers with $ as text, not as dollar quotes", async () => {
    const items = await readAllSizes("SELECT $1 + a$b FROM t;\nSELECT 'x';\n");
    expect(items.map((i) => i.sql)).toEqual(["SELECT $1 + a$b FROM t;", "SELECT 'x';"]);
  });

  it("streams COPY data and counts its rows; the end marker is not data", async () => {
    const items = await readAllSizes("COPY public.t (id, \"Odd name\") FROM stdin;\n1\ta\n2\t\\N\n\\.\nSELECT 1;\n");
    expect(items).toEqual([
      { kind: "copy", table: "public.t", rows: 2, data: "1\ta\n2\t\\N\n" },
      { kind: "statement", sql: "SELECT 1;" },
    ]);
  });

  it("counts an empty table, and rows that start with a backslash", async () => {
    const items = await readAllSizes("COPY a.b FROM stdin;\n\\.\nCOPY a.c FROM stdin;\n\\N\n\\\\x\n\\.\n");
    expect(items.map((i) => [i.table, i.rows])).toEqual([["a.b", 0], ["a.c", 2]]);
  });

  it("does not take a COPY header inside a function body or a string for a data block", async () => {
    const body = "CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $$ select E'-- Data for Name: t; Type: TABLE DATA;\\nCOPY t (id) FROM stdin;\\n' $$;";
    const items = await readAllSizes(`${body}\nSELECT 'COPY public.x FROM stdin;\n1\n\\.\n';\nCOPY public.real FROM stdin;\n7\n\\.\n`);
    expect(items.map((i) => i.kind)).toEqual(["statement", "statement", "copy"]);
    expect(items[2]).toMatchObject({ table: "public.real", rows: 1 });
  });

  it("reports psql meta-commands as such, never as SQL", async () => {
    const items = await readAllSizes("\\restrict abc\nSELECT 1;\n\\! rm -rf /\n\\unrestrict abc\n");
    expect(items).toEqual([
      { kind: "meta", meta: "\\restrict abc" },
      { kind: "statement", sql: "SELECT 1;" },
      { kind: "meta", meta: "\\! rm -rf /" },
      { kind: "meta", meta: "\\unrestrict abc" },
    ]);
  });

  it("refuses a meta-command that follows SQL on the same statement", async () => {
    await expect(read("SELECT 1 \\gexec\n")).rejects.toThrow(ScriptError);
  });

  it("follows standard_conforming_strings: off makes backslashes escapes in '…'", async () => {
    const items = await readAllSizes("SET standard_conforming_strings = off;\nSELECT 'a\\';b';\nSET standard_conforming_strings = on;\nSELECT 'c\\';\n");
    expect(items.map((i) => i.sql)).toEqual(["SET standard_conforming_strings = off;", "SELECT 'a\\';b';", "SET standard_conforming_strings = on;", "SELECT 'c\\';"]);
  });

  it("says a script cut short inside a statement or inside COPY data is cut short", async () => {
    await expect(read("SELECT 1;\nCREATE TABLE t (a int")).rejects.toThrow(/ends inside a statement/);
    await expect(read("COPY public.t FROM stdin;\n1\n2\n")).rejects.toThrow(/ends inside the data/);
    await expect(read("COPY public.t FROM stdin;")).rejects.toThrow(/ends right after the COPY/);
  });

  it("ends cleanly on trailing comments and blank lines", async () => {
    expect(await readAllSizes("SELECT 1;\n\n--\n-- done\n--\n\n")).toEqual([{ kind: "statement", sql: "SELECT 1;" }]);
  });

  it("refuses text that is not UTF-8, and a statement larger than any pg_dump DDL", async () => {
    await expect(read(Buffer.concat([Buffer.from("SELECT '"), Buffer.from([0xff, 0xfe]), Buffer.from("';\n")]))).rejects.toThrow(/not valid UTF-8/);
    const reader = new ScriptReader((async function* () {
      yield Buffer.from(`SELECT '${"x".repeat(2000)}';\n`);
    })(), { maxStatementBytes: 1000 });
    await expect((async () => {
      for await (const _ of reader.items()) void _;
    })()).rejects.toThrow(/over/);
  });
});
