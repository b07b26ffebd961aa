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
