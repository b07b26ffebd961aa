// SQL text handling: quoted strings and identifiers, `schema.table` names as pg_dump writes them,
// and the check that only exact identifier paths reach SQL text.
import { describe, expect, it } from "vitest";
import { parseQualifiedName, readQuoted, safeQualifiedName } from "../../../job/postgres/sql";
import { integrityError } from "../../helpers/errors";

describe("readQuoted", () => {
  it.each([
    ['"abc" rest', 0, '"', { value: "abc", end: 5 }],
    ['x."a ""b"" c".y', 2, '"', { value: 'a "b" c', end: 13 }],
    ['""', 0, '"', { value: "", end: 2 }],
    ["'it''s' x", 0, "'", { value: "it's", end: 7 }],
    ["''''", 0, "'", { value: "'", end: 4 }],
  ] as const)("%j at %i", (text, start, quote, want) => {
    expect(readQuoted(text, start, quote)).toEqual(want);
  });

  it.each([['"never closed', '"'], ['"a""', '"'], ["'x", "'"]] as const)("is null for %j", (text, quote) => {
    expect(readQuoted(text, 0, quote)).toBeNull();
  });
});

describe("parseQualifiedName", () => {
  it.each([
    ["public.items (id, title) FROM stdin;", 0, "public.items"],
    ["COPY public.items (id) FROM stdin;", 5, "public.items"],
    ["items", 0, "items"],
    ["_private.t_1$x", 0, "_private.t_1$x"],
    ['public."with space" (id)', 0, 'public."with space"'],
    ['"My Schema"."Table ""quoted"" name" (id)', 0, '"My Schema"."Table ""quoted"" name"'],
    ['public."dotted.name"', 0, 'public."dotted.name"'],
    ['"a.b"."c.d"', 0, '"a.b"."c.d"'],
    ['""""."x"', 0, '"""".' + '"x"'],
    ['"日本"."表 テーブル" (名前)', 0, '"日本"."表 テーブル"'],
    ["café.tëst rest", 0, "café.tëst"],
    ['public."😀"', 0, 'public."😀"'],
    ["COPY public.nocols  FROM stdin;", 5, "public.nocols"],
  ])("%j from %i → %j", (text, start, want) => {
    expect(parseQualifiedName(text, start)).toBe(want);
  });

  it.each([
    ["", "empty"],
    [" public.items", "leading space"],
    ["1abc.t", "starts with a digit"],
    ['"unterminated', "unterminated quote"],
    ['public."unterminated', "unterminated second part"],
    ["public.", "trailing dot"],
    [".items", "leading dot"],
    ["(x)", "parenthesis"],
    [";DROP TABLE x", "semicolon"],
    ["-- comment", "comment"],
    ["$1", "dollar first"],
  ])("rejects %j (%s)", (text) => {
    expect(parseQualifiedName(text, 0)).toBeNull();
  });
});

describe("safeQualifiedName", () => {
  it.each([
    "public.items",
    "items",
    'public."with space"',
    '"My Schema"."Table ""quoted"" name"',
    'public."dotted.name"',
    '"日本"."表 テーブル"',
    'public."x; DROP TABLE y; --"', // inside quotes, only a (strange) name
  ])("accepts %j unchanged", (name) => {
    expect(safeQualifiedName(name)).toBe(name);
  });

  it.each([
    "public.t; DROP TABLE x",
    '"a"."b" --',
    "x)",
    "public.t WHERE false",
    "public.t,public.u",
    " public.t",
    "public.t ",
    '"unterminated',
    'public."a"b"',
    "",
    "1t",
    "public.t\n;DROP TABLE x",
    "public.t/**/",
  ])("refuses %j with an integrity error", (name) => {
    expect(integrityError(() => safeQualifiedName(name)).message).toMatch(/not a valid identifier/);
  });

  it("refuses a zero-length quoted identifier (PostgreSQL rejects \"\")", () => {
    integrityError(() => safeQualifiedName('""'));
    integrityError(() => safeQualifiedName('public.""'));
  });
});
