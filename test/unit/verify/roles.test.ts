// Which roles a dump's statement refers to (verify creates the missing ones NOLOGIN): the pure part
// of the safety rules, without services.
import { describe, expect, it } from "vitest";
import { rolesInStatement } from "../../../job/verify/roles";

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
