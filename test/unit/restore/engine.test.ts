import { describe, expect, it } from "vitest";
import { DbBackupError } from "../../../job/core/errors";
import { rowCountCheckSql } from "../../../job/restore/engine";
import { integrityError } from "../../helpers/errors";

const TAG = "$dbbackup_check$";

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe("rowCountCheckSql", () => {
  it("checks every table with FROM ONLY <name> and its expected count", () => {
    const sql = rowCountCheckSql({ "public.items": 3, 'public."my table"': 0, '"S"."T ""q"""': 12345 });
    expect(sql).toContain("FROM ONLY public.items;");
    expect(sql).toContain('FROM ONLY public."my table";');
    expect(sql).toContain('FROM ONLY "S"."T ""q""";');
    expect(sql).toMatch(/IF n <> 3 THEN RAISE EXCEPTION/);
    expect(sql).toMatch(/IF n <> 0 THEN RAISE EXCEPTION/);
    expect(sql).toMatch(/IF n <> 12345 THEN RAISE EXCEPTION/);
    expect(occurrences(sql, "SELECT count(*)")).toBe(3);
  });

  it("is one DO block whose dollar-quote tag opens and closes it exactly once", () => {
    const sql = rowCountCheckSql({ "public.items": 1 });
    expect(sql.startsWith(`DO ${TAG}`)).toBe(true);
    expect(sql.trimEnd().endsWith(`END ${TAG};`)).toBe(true);
    expect(occurrences(sql, TAG)).toBe(2);
  });

  it("quotes the name inside the error message as a string literal (single quotes doubled)", () => {
    const sql = rowCountCheckSql({ 'public."it\'s"': 2 });
    expect(sql).toContain(`'public."it''s"'`);
    expect(sql).toContain(`FROM ONLY public."it's";`);
  });

  it("is a valid empty block for no tables", () => {
    const sql = rowCountCheckSql({});
    expect(sql).not.toContain("SELECT");
    expect(occurrences(sql, TAG)).toBe(2);
  });

  it.each(["public.t; DROP TABLE x", '"a"."b" --', "x)", "t) x; --"])("refuses the injection %j", (name) => {
    integrityError(() => rowCountCheckSql({ "public.ok": 1, [name]: 1 }));
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])("refuses the row count %p", (rows) => {
    expect(integrityError(() => rowCountCheckSql({ "public.items": rows })).message).toMatch(/row count/);
  });

  it("a quoted name containing the DO block's dollar-quote tag cannot end the block early", () => {
    // A valid quoted identifier may contain `$dbbackup_check$`; PostgreSQL's (and psql's) lexer
    // does not see double quotes inside a dollar-quoted body, so the tag in the name closes the DO
    // body early and the rest of the name is parsed as SQL. (Today the truncated body fails to
    // compile and ON_ERROR_STOP stops psql, so it "only" breaks the restore; the SQL built must
    // not depend on that.)
    const name = `public."x${TAG} BEGIN END ${TAG}; DROP TABLE public.victim; DO ${TAG} BEGIN --"`;
    let sql = "";
    try {
      sql = rowCountCheckSql({ [name]: 1 });
    } catch (error) {
      expect((error as DbBackupError).kind).toBe("integrity"); // refusing it is fine too
      return;
    }
    const chosen = /^DO (\$[A-Za-z0-9_]*\$)/.exec(sql)![1]!;
    expect(name.includes(chosen)).toBe(false);
    expect(occurrences(sql, chosen)).toBe(2);
  });
});
