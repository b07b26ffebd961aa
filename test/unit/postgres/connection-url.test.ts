// One reading of a database URL, libpq's, for the job's own sessions and the tools alike: the same
// database spelled five ways is the same database, and no secret reaches the tools' arguments.
import { describe, expect, it } from "vitest";
import { DbBackupError } from "../../../job/core/errors";
import { parseConnectionUrl, pgConnection, withDatabase } from "../../../job/postgres/connection";

const noEnv = {};

describe("parseConnectionUrl", () => {
  it("reads the parts, percent-decoded, and lets query parameters override them (libpq's rules)", () => {
    expect(parseConnectionUrl("postgres://u%40x:p%3Aw@db.example:6543/my%20db?sslmode=require", "u", noEnv)).toMatchObject({
      user: "u@x", password: "p:w", host: "db.example", port: "6543", dbname: "my db", sslmode: "require",
    });
    expect(parseConnectionUrl("postgres://postgres@127.0.0.1:5432/postgres?dbname=prod", "u", noEnv).dbname).toBe("prod");
    expect(parseConnectionUrl("postgres://postgres@127.0.0.1:9999/prod?port=5432", "u", noEnv).port).toBe("5432");
    expect(parseConnectionUrl("postgres://postgres@127.0.0.1:5432/prod?host=/var/run/postgresql", "u", noEnv).host).toBe("/var/run/postgresql");
    expect(parseConnectionUrl("postgres://postgres@%2Fvar%2Frun%2Fpostgresql/prod", "u", noEnv).host).toBe("/var/run/postgresql");
    expect(parseConnectionUrl("postgresql://[::1]:5433/x", "u", noEnv)).toMatchObject({ host: "::1", port: "5433" });
    expect(parseConnectionUrl("postgres://h/x?password=secret", "u", noEnv).password).toBe("secret");
  });

  it("takes libpq's defaults for what the URL leaves out: PG* variables, then port 5432, dbname = user", () => {
    expect(parseConnectionUrl("postgres://h", "u", { PGUSER: "alice", PGSSLMODE: "verify-full" })).toMatchObject({ user: "alice", dbname: "alice", port: "5432", sslmode: "verify-full" });
  });

  it("refuses what it cannot pass on the same way to every connection, naming it", () => {
    const bad = (url: string) => {
      try {
        parseConnectionUrl(url, "SUPABASE_DB_URL", noEnv);
      } catch (error) {
        expect(error).toBeInstanceOf(DbBackupError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${url}`);
    };
    expect(bad("postgres://a,b/x")).toMatch(/several hosts/);
    expect(bad("postgres://h/x?service=prod")).toMatch(/"service"/);
    expect(bad("postgres://h/x?sslmode=sometimes")).toMatch(/sslmode=sometimes/);
    expect(bad("mysql://h/x")).toMatch(/SUPABASE_DB_URL is not a postgres/);
  });
});

describe("pgConnection (what pg_dump and pg_restore get)", () => {
  it("puts no password in the arguments, and nothing of the job's environment in theirs", () => {
    const c = pgConnection("postgres://u:pw@h:5432/d?password=other&application_name=x", { PATH: "/bin", MINIO_SECRET_KEY: "s3cret", PGPASSWORD: "old" });
    expect(c.conninfo).not.toMatch(/other|pw/);
    expect(c.conninfo).toContain("host='h'");
    expect(c.env).toEqual({ PATH: "/bin", PGPASSWORD: "other" });
    expect(c.display).toBe("h:5432/d");
  });

  it("quotes conninfo values", () => {
    expect(pgConnection("postgres://h/it's%20a%20db", { PATH: "/bin" }).conninfo).toContain("dbname='it\\'s a db'");
  });
});

describe("withDatabase", () => {
  it("changes the database, also when a dbname parameter named it", () => {
    expect(withDatabase("postgres://u@h:5/a?dbname=b&sslmode=require", "scratch")).toBe("postgres://u@h:5/scratch?sslmode=require");
  });
});
