// The pure parts of the safety rules, without services: which roles a dump refers to, what an
// archive's table of contents holds, which targets count as production, and --max-age.
import { describe, expect, it } from "vitest";
import { parseTableOfContents } from "../../job/restore/contents";
import { splitQualifiedName } from "../../job/postgres/sql";
import { sameServer } from "../../job/postgres/connection";
import { targetEnvironment } from "../../job/restore/gate";
import { parseMaxAge } from "../../job/report/max-age";
import { rolesInStatement } from "../../job/verify/roles";

describe("rolesInStatement", () => {
  it.each([
    ["GRANT SELECT ON TABLE pmoves_core.content_items TO anon;", ["anon"]],
    ["GRANT SELECT,INSERT ON TABLE s.t TO authenticated, service_role WITH GRANT OPTION;", ["authenticated", "service_role"]],
    ['GRANT ALL ON SCHEMA "we ""ird" TO "Mixed Role";', ["Mixed Role"]],
    ["GRANT USAGE ON SCHEMA public TO PUBLIC;", []],
    ["REVOKE ALL ON SCHEMA public FROM PUBLIC;", []],
    ["REVOKE ALL ON TABLE s.t FROM dashboard_user;", ["dashboard_user"]],
    ['CREATE POLICY "grant to everyone" ON s.t FOR SELECT TO anon, authenticated USING ((kind = \'TO x\'::text));', ["anon", "authenticated"]],
    ["CREATE POLICY p ON s.t USING (true);", []],
    ["ALTER TABLE s.t OWNER TO supabase_admin;", ["supabase_admin"]],
    ["ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES TO service_role;", ["postgres", "service_role"]],
    ["CREATE TABLE s.t (id integer);", []],
  ])("%s", (line, roles) => {
    expect(rolesInStatement(line)).toEqual(roles);
  });
});

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

describe("targetEnvironment", () => {
  const url = "postgres://u:p@db.internal:5432/app";
  it("fails safe: unknown is production; names and PRODUCTION_DB_URL decide otherwise", () => {
    expect(targetEnvironment({ target: { url } })).toMatchObject({ production: true, name: null });
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "Staging" })).toMatchObject({ production: false, name: "staging" });
    expect(targetEnvironment({ target: { url, envName: "prod" } })).toMatchObject({ production: true });
    expect(targetEnvironment({ target: { url, envName: "staging" }, targetEnvFlag: "production" })).toMatchObject({ production: true });
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "dev", productionUrl: "postgresql://other@DB.internal/app" })).toMatchObject({ production: true });
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "dev", productionUrl: "postgres://u@db.internal:5432/other" })).toMatchObject({ production: false });
    expect(targetEnvironment({ target: { url }, runEnvironment: "staging", sourceUrl: url })).toMatchObject({ production: false, name: "staging" });
  });

  it("compares servers the way libpq reaches them", () => {
    expect(sameServer("postgres://a@localhost/x", "postgres://b@127.0.0.1:5432/y")).toBe(true);
    expect(sameServer("postgres://a@db1/x", "postgres://a@db2/x")).toBe(false);
  });
});

describe("parseMaxAge", () => {
  it("takes type=<n><unit> pairs and refuses anything else", () => {
    expect(parseMaxAge("daily=26h,monthly=32d")).toEqual([
      { type: "daily", maxMs: 26 * 3_600_000, spec: "26h" },
      { type: "monthly", maxMs: 32 * 86_400_000, spec: "32d" },
    ]);
    for (const bad of ["weekly=1d", "daily=26", "daily=-1h", "", "daily=0h"]) expect(() => parseMaxAge(bad), bad).toThrow(/--max-age/);
  });
});
