// What a custom archive's table of contents holds (the schemas it creates, the tables it fills),
// quoted for SQL: the pure part of the safety rules, without services.
import { describe, expect, it } from "vitest";
import { parseTableOfContents } from "../../../job/restore/contents";
import { splitQualifiedName } from "../../../job/postgres/sql";

describe("parseTableOfContents", () => {
  it("reads the schemas a custom archive creates and the tables it holds, quoted for SQL", () => {
    const toc = [
      ";",
      "; Selected TOC Entries:",
      "9; 2615 25632 SCHEMA - archon postgres",
      "2; 3079 25594 EXTENSION - pgcrypto ",
      '232; 1259 25705 TABLE archon Odd "Table" name postgres',
      "3294; 0 0 TABLE ATTACH pmoves_core events_2025 postgres",
      "3463; 0 25646 TABLE DATA pmoves_core content_items postgres",
      "3481; 0 0 ACL pmoves_core TABLE audit_log postgres",
    ].join("\n");
    expect(parseTableOfContents(toc)).toEqual({ createdSchemas: ["archon"], tables: ['archon."Odd ""Table"" name"', "pmoves_core.content_items"] });
  });

  it("splits qualified names back", () => {
    expect(splitQualifiedName('archon."Odd ""Table"" name"')).toEqual(["archon", 'Odd "Table" name']);
    expect(splitQualifiedName('"we.ird".t')).toEqual(["we.ird", "t"]);
    expect(splitQualifiedName("t")).toBeNull();
  });
});
