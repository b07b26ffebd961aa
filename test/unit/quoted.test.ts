import { describe, expect, it } from "vitest";
import { readQuoted } from "../../job/postgres/sql";

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
