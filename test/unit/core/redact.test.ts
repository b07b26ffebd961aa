import { describe, expect, it } from "vitest";
import { REDACTED, Redactor, redactUrl } from "../../../job/core/redact";

describe("redactUrl", () => {
  it("hides the password and keeps the rest", () => {
    const out = redactUrl("postgres://postgres:hunter2secret@db.example.com:5432/postgres");
    expect(out).not.toContain("hunter2secret");
    expect(out).toContain("postgres://postgres:");
    expect(out).toContain(REDACTED);
    expect(out).toContain("@db.example.com:5432/postgres");
  });

  it("hides a password with URL-encoded special characters, in any form", () => {
    const password = "p@ss:w/rd#?%&é";
    const url = `postgresql://admin:${encodeURIComponent(password)}@localhost:54322/postgres`;
    const out = redactUrl(url);
    expect(out).not.toContain(encodeURIComponent(password));
    expect(out).not.toContain("p%40ss");
    expect(out).not.toContain("w%2Frd");
    expect(out).toContain("admin");
    expect(out).toContain("localhost:54322");
  });

  it("hides token-like query parameters and keeps the others", () => {
    const out = redactUrl(
      "postgres://u@h/db?sslmode=require&password=qp1secret&access_token=qp2secret&apikey=qp3secret&client_secret=qp4secret&application_name=app",
    );
    for (const s of ["qp1secret", "qp2secret", "qp3secret", "qp4secret"]) expect(out).not.toContain(s);
    expect(out).toContain("sslmode=require");
    expect(out).toContain("application_name=app");
  });

  it("leaves a URL without secrets as it was", () => {
    expect(redactUrl("http://minio:9000/")).toBe("http://minio:9000/");
    expect(redactUrl("postgres://user@host:5432/db")).toBe("postgres://user@host:5432/db");
  });

  it("hides user:password@ even in a string that is not a parsable URL", () => {
    const out = redactUrl("postgres://user:topsecret@ho st/db");
    expect(out).not.toContain("topsecret");
    expect(out).toContain("postgres://user:");
  });
});

describe("Redactor", () => {
  it("removes registered secrets wherever they appear", () => {
    const r = new Redactor().add("minio-secret-key-123");
    expect(r.redact("auth failed for minio-secret-key-123 (minio-secret-key-123)")).toBe(`auth failed for ${REDACTED} (${REDACTED})`);
  });

  it("removes the URL-encoded form of a secret too", () => {
    const secret = "s3cr3t/with+special@chars";
    const r = new Redactor().add(secret);
    const text = `url: postgres://x:${encodeURIComponent(secret)}@h/db and raw ${secret}`;
    const out = r.redact(text);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(encodeURIComponent(secret));
  });

  it("replaces the longest secret first, so one containing another leaves no tail", () => {
    const r = new Redactor().add("abc123", "abc123456789");
    expect(r.redact("x abc123456789 y")).toBe(`x ${REDACTED} y`);
    const other = new Redactor().add("abc123456789", "abc123");
    expect(other.redact("x abc123456789 y abc123")).toBe(`x ${REDACTED} y ${REDACTED}`);
  });

  it("ignores empty and missing values", () => {
    const r = new Redactor().add("", undefined, null);
    expect(r.redact("nothing to hide here")).toBe("nothing to hide here");
  });

  it("learns the password of a connection URL (decoded and encoded)", () => {
    const r = new Redactor().addUrl("postgres://u:pa%24%24word!@h/db");
    expect(r.redact("psql: password pa$$word! rejected")).not.toContain("pa$$word!");
    expect(r.redact("seen pa%24%24word! in a log")).not.toContain("pa%24%24word!");
  });

  it("addUrl tolerates garbage and undefined", () => {
    const r = new Redactor().addUrl(undefined).addUrl("not a url");
    expect(r.redact("keep this")).toBe("keep this");
  });

  it("hides generic postgres://user:pass@ forms it was never told about", () => {
    const r = new Redactor();
    for (const scheme of ["postgres", "postgresql"]) {
      const out = r.redact(`could not connect: ${scheme}://alice:unknownpw@10.0.0.1:5432/app failed`);
      expect(out).not.toContain("unknownpw");
      expect(out).toContain(`${scheme}://alice:${REDACTED}@10.0.0.1:5432/app failed`);
    }
  });

  it("leaves text without secrets unchanged", () => {
    const text = "Backup completed: supabase/manual/backup_20250607_120000.sql.gz (245 MB)";
    expect(new Redactor().add("unrelated-secret").redact(text)).toBe(text);
  });
});
