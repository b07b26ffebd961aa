// What the restore sends, drops or refuses, judged from a statement's first words as the server
// reads them (comments and whitespace first).
import { describe, expect, it } from "vitest";
import { classifyStatement, parseCopyFromStdin, parseSet } from "../../../job/postgres/script/statements";

describe("classifyStatement", () => {
  it.each([
    ["CREATE TABLE public.t (a int);", "sql"],
    ["-- Name: t\n--\n\nALTER TABLE ONLY public.t ADD CONSTRAINT p PRIMARY KEY (a);", "sql"],
    ["SELECT pg_catalog.lo_open('1', 131072);", "sql"],
    ["COPY public.t (a) FROM stdin;", "sql"],
    ["BEGIN;", "dropped"],
    ["/* large objects */ COMMIT;", "dropped"],
    ["commit ;", "dropped"],
    ["END;", "dropped"],
    ["START TRANSACTION;", "dropped"],
    ["ROLLBACK;", "refused"],
    ["ABORT;", "refused"],
    ["SAVEPOINT s;", "refused"],
    ["RELEASE SAVEPOINT s;", "refused"],
    ["PREPARE TRANSACTION 'x';", "refused"],
    ["COMMIT PREPARED 'x';", "refused"],
    ["ALTER SYSTEM SET archive_command = 'curl evil';", "refused"],
    ["CREATE ROLE admin SUPERUSER;", "refused"],
    ["ALTER ROLE postgres PASSWORD 'x';", "refused"],
    ["DROP DATABASE postgres;", "refused"],
    ["DO $$ BEGIN PERFORM 1; END $$;", "refused"],
    ["CALL p();", "refused"],
    ["LOAD 'evil';", "refused"],
    ["COPY public.t FROM PROGRAM 'id';", "refused"],
    ["COPY public.t TO '/tmp/leak';", "refused"],
    ["COPY (SELECT 1) TO STDOUT;", "refused"],
  ])("%s → %s", (sql, kind) => {
    expect(classifyStatement(sql).kind).toBe(kind);
  });
});

describe("parseCopyFromStdin", () => {
  it("reads pg_dump's COPY statements, quoted names included", () => {
    expect(parseCopyFromStdin('COPY public.t (id, "a;b", "x""y") FROM stdin;')).toEqual({ table: "public.t" });
    expect(parseCopyFromStdin('COPY "Odd ""Schema""".t FROM stdin;')).toEqual({ table: '"Odd ""Schema""".t' });
  });
  it("refuses anything else", () => {
    expect(parseCopyFromStdin("COPY public.t FROM stdin; DROP TABLE x;")).toBeNull();
    expect(parseCopyFromStdin("COPY public.t (a.b) FROM stdin;")).toBeNull();
    expect(parseCopyFromStdin("COPY public.t FROM '/etc/passwd';")).toBeNull();
  });
});

describe("parseSet", () => {
  it("reads a SET's name and value", () => {
    expect(parseSet("SET lock_timeout = 0;")).toEqual({ name: "lock_timeout", value: "0" });
    expect(parseSet("SET client_encoding = 'UTF8';")).toEqual({ name: "client_encoding", value: "UTF8" });
    expect(parseSet("SELECT 1;")).toBeNull();
  });
});

describe("classifyStatement: what pg_dump writes passes, what only a forger writes does not", () => {
  it.each([
    ["SELECT pg_catalog.set_config('search_path', '', false);", "sql"],
    ["SELECT pg_catalog.setval('public.items_id_seq', 42, true);", "sql"],
    ["SELECT pg_catalog.lo_create('16385');", "sql"],
    ["SELECT pg_catalog.lo_open('16385', 131072);", "sql"],
    ["SELECT pg_catalog.lowrite(0, '\\x68656c6c6f');", "sql"],
    ["SELECT pg_catalog.lo_close(0);", "sql"],
    ["CREATE USER MAPPING FOR postgres SERVER remote OPTIONS (user 'x');", "sql"],
    ["ALTER USER MAPPING FOR postgres SERVER remote OPTIONS (SET user 'y');", "sql"],
    ["GRANT SELECT ON TABLE public.t TO anon;", "sql"],
    ["GRANT USAGE ON SCHEMA \"we;ird\" TO \"Odd Role\";", "sql"],
    ["REVOKE ALL ON SCHEMA public FROM PUBLIC;", "sql"],
    ["GRANT SELECT(a, b) ON TABLE public.t TO authenticated;", "sql"],
    ["ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES TO anon;", "sql"],
    ["RESET ALL;", "dropped"],
    ["RESET lock_timeout;", "dropped"],
    ["SELECT pg_catalog.set_config('lock_timeout', '0', false);", "refused"],
    ["SELECT lo_export(16385, '/tmp/x');", "refused"],
    ["SELECT dblink_exec('dbname=postgres', 'CREATE ROLE x');", "refused"],
    ["SELECT pg_catalog.setval('s', (SELECT max(id) FROM t), true);", "refused"],
    ["SELECT 1/0;", "refused"],
    ["GRANT pg_execute_server_program TO attacker;", "refused"],
    ["GRANT pg_write_server_files, pg_read_server_files TO attacker WITH ADMIN OPTION;", "refused"],
    ["REVOKE CONNECT ON DATABASE other FROM PUBLIC;", "refused"],
    ["GRANT CREATE ON TABLESPACE pg_default TO x;", "refused"],
    ["GRANT SET ON PARAMETER session_replication_role TO x;", "refused"],
    ["COMMENT ON ROLE postgres IS 'x';", "refused"],
    ["COMMENT ON DATABASE postgres IS 'x';", "refused"],
    ["CREATE USER attacker SUPERUSER;", "refused"],
    ["CREATE TABLESPACE t LOCATION '/tmp';", "refused"],
  ])("%s → %s", (sql, kind) => {
    expect(classifyStatement(sql).kind).toBe(kind);
  });

  it("reads SET LOCAL as a SET, so a dump cannot take away the job's lock timeout", () => {
    expect(parseSet("SET LOCAL lock_timeout = 0;")).toEqual({ name: "lock_timeout", value: "0" });
  });
});
