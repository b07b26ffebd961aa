import { describe, expect, it } from "vitest";
import { usageMessage } from "../../helpers/errors";
import {
  backupName,
  backupPrefix,
  optionalInt,
  postgresUrl,
  repositorySettings,
  schemaList,
  type Env,
} from "../../../job/core/settings";


const S3_ENV: Env = {
  MINIO_ENDPOINT: "http://127.0.0.1:7480",
  MINIO_ACCESS_KEY: "access",
  MINIO_SECRET_KEY: "secret-key",
};

describe("repositorySettings", () => {
  it("is S3 when MINIO_ENDPOINT is set, with the default bucket", () => {
    const s = repositorySettings(S3_ENV);
    expect(s.kind).toBe("s3");
    if (s.kind !== "s3") return;
    expect(s.endpoint.href).toBe("http://127.0.0.1:7480/");
    expect(s.accessKey).toBe("access");
    expect(s.secretKey).toBe("secret-key");
    expect(s.bucket).toBe("backups");
  });

  it("prefers S3 over BACKUP_DIR when both are in the environment", () => {
    expect(repositorySettings({ ...S3_ENV, BACKUP_DIR: "/tmp/x" }).kind).toBe("s3");
  });

  it("takes MINIO_BUCKET and MINIO_CA_FILE", () => {
    const s = repositorySettings({ ...S3_ENV, MINIO_BUCKET: "db-backups.prod", MINIO_CA_FILE: "/etc/ca.pem" });
    expect(s).toMatchObject({ kind: "s3", bucket: "db-backups.prod", caFile: "/etc/ca.pem" });
  });

  it("is a local directory with BACKUP_DIR alone", () => {
    expect(repositorySettings({ BACKUP_DIR: "/var/backups" })).toEqual({ kind: "dir", dir: "/var/backups" });
  });

  it("refuses when neither MINIO_ENDPOINT nor BACKUP_DIR is set, naming both", () => {
    const message = usageMessage(() => repositorySettings({}));
    expect(message).toContain("MINIO_ENDPOINT");
    expect(message).toContain("BACKUP_DIR");
  });

  it("treats blank values as unset", () => {
    const message = usageMessage(() => repositorySettings({ MINIO_ENDPOINT: "  ", BACKUP_DIR: "" }));
    expect(message).toContain("MINIO_ENDPOINT");
    expect(message).toContain("BACKUP_DIR");
  });

  it.each(["MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"])("requires %s with an endpoint, naming it", (name) => {
    const env = { ...S3_ENV, [name]: undefined };
    expect(usageMessage(() => repositorySettings(env))).toContain(name);
    expect(usageMessage(() => repositorySettings({ ...S3_ENV, [name]: "   " }))).toContain(name);
  });

  it.each([
    ["not a url"],
    ["minio:9000"],
    ["ftp://minio:9000"],
    ["http://user:s3cr3tpw@minio:9000"],
  ])("refuses the malformed endpoint %j, naming MINIO_ENDPOINT", (endpoint) => {
    const message = usageMessage(() => repositorySettings({ ...S3_ENV, MINIO_ENDPOINT: endpoint }));
    expect(message).toContain("MINIO_ENDPOINT");
    expect(message).not.toContain("s3cr3tpw");
  });

  it.each(["My_Bucket", "ab", "-bucket", "bucket-", "a".repeat(64), "buck et"])(
    "refuses the bucket %j, naming MINIO_BUCKET",
    (bucket) => {
      expect(usageMessage(() => repositorySettings({ ...S3_ENV, MINIO_BUCKET: bucket }))).toContain("MINIO_BUCKET");
    },
  );

  describe("flags override env", () => {
    it("--endpoint beats BACKUP_DIR", () => {
      const s = repositorySettings({ BACKUP_DIR: "/tmp/x", MINIO_ACCESS_KEY: "a", MINIO_SECRET_KEY: "b" }, { endpoint: "https://s3.example.com" });
      expect(s).toMatchObject({ kind: "s3" });
      if (s.kind === "s3") expect(s.endpoint.hostname).toBe("s3.example.com");
    });

    it("--endpoint beats MINIO_ENDPOINT", () => {
      const s = repositorySettings(S3_ENV, { endpoint: "https://other:9000" });
      if (s.kind !== "s3") throw new Error("expected s3");
      expect(s.endpoint.host).toBe("other:9000");
    });

    it("--bucket beats MINIO_BUCKET", () => {
      expect(repositorySettings({ ...S3_ENV, MINIO_BUCKET: "env-bucket" }, { bucket: "flag-bucket" })).toMatchObject({ bucket: "flag-bucket" });
    });

    it("--backup-dir beats BACKUP_DIR", () => {
      expect(repositorySettings({ BACKUP_DIR: "/env/dir" }, { backupDir: "/flag/dir" })).toEqual({ kind: "dir", dir: "/flag/dir" });
    });

    it("--backup-dir works with no environment at all", () => {
      expect(repositorySettings({}, { backupDir: "/flag/dir" })).toEqual({ kind: "dir", dir: "/flag/dir" });
    });

    it("an explicit --backup-dir beats MINIO_ENDPOINT from the environment", () => {
      // The operator asked for a local directory on the command line; the environment must not
      // silently send the backup to S3 instead (issue: "Flags override env").
      expect(repositorySettings(S3_ENV, { backupDir: "/flag/dir" })).toEqual({ kind: "dir", dir: "/flag/dir" });
    });
  });
});

describe("backupPrefix", () => {
  it("defaults to supabase", () => {
    expect(backupPrefix({})).toBe("supabase");
  });

  it("takes BACKUP_PREFIX, trims slashes, and the flag beats it", () => {
    expect(backupPrefix({ BACKUP_PREFIX: "/team/supabase/" })).toBe("team/supabase");
    expect(backupPrefix({ BACKUP_PREFIX: "env" }, "flag")).toBe("flag");
  });

  it.each(["../etc", "a b", "a//b", "a/./b", "é", "a;b"])("refuses %j, naming BACKUP_PREFIX", (prefix) => {
    expect(usageMessage(() => backupPrefix({ BACKUP_PREFIX: prefix }))).toContain("BACKUP_PREFIX");
  });
});

describe("backupName", () => {
  it("defaults to backup and takes BACKUP_NAME", () => {
    expect(backupName({})).toBe("backup");
    expect(backupName({ BACKUP_NAME: "pmoves" })).toBe("pmoves");
  });

  it.each(["1abc", "a/b", "a b", "a_b", "x".repeat(42)])("refuses %j, naming BACKUP_NAME", (name) => {
    expect(usageMessage(() => backupName({ BACKUP_NAME: name }))).toContain("BACKUP_NAME");
  });
});

describe("postgresUrl", () => {
  it("accepts postgres:// and postgresql:// URLs, trimmed", () => {
    expect(postgresUrl("postgres://u:p@localhost:5432/db", "SUPABASE_DB_URL")).toBe("postgres://u:p@localhost:5432/db");
    expect(postgresUrl("  postgresql://h/db\n", "SUPABASE_DB_URL")).toBe("postgresql://h/db");
  });

  it.each([
    [undefined, /not set/],
    ["", /not set/],
    ["   ", /not set/],
    ["not a url", /not a valid URL/],
    ["mysql://u:p@h/db", /postgres:\/\//],
    ["http://h/db", /postgres:\/\//],
    ["postgres://", /host/],
  ])("refuses %j, naming the variable", (value, problem) => {
    const message = usageMessage(() => postgresUrl(value, "SUPABASE_DB_URL"));
    expect(message).toContain("SUPABASE_DB_URL");
    expect(message).toMatch(problem);
  });

  it("does not echo the password of a malformed URL", () => {
    expect(usageMessage(() => postgresUrl("mysql://u:leakme@h/db", "X_DB_URL"))).not.toContain("leakme");
  });
});

describe("schemaList", () => {
  it("splits a comma list, trimming and dropping empties", () => {
    expect(schemaList("pmoves_core, archon ,,public,")).toEqual(["pmoves_core", "archon", "public"]);
  });

  it("is empty for unset or blank", () => {
    expect(schemaList(undefined)).toEqual([]);
    expect(schemaList("")).toEqual([]);
    expect(schemaList(" , ")).toEqual([]);
  });
});

describe("optionalInt", () => {
  it("is undefined when unset or blank", () => {
    expect(optionalInt({}, "BACKUP_COMPRESSION_LEVEL", 1, 9)).toBeUndefined();
    expect(optionalInt({ BACKUP_COMPRESSION_LEVEL: " " }, "BACKUP_COMPRESSION_LEVEL", 1, 9)).toBeUndefined();
  });

  it("parses whole numbers within range, including the bounds", () => {
    expect(optionalInt({ N: "1" }, "N", 1, 9)).toBe(1);
    expect(optionalInt({ N: " 9 " }, "N", 1, 9)).toBe(9);
    expect(optionalInt({ N: "5" }, "N", 1, 9)).toBe(5);
  });

  it.each([
    ["abc", /must be a number/],
    ["1.5", /whole number/],
    ["0", /at least 1/],
    ["-3", /at least 1/],
    ["10", /at most 9/],
  ])("refuses %j, naming the variable and what is wrong", (raw, problem) => {
    const message = usageMessage(() => optionalInt({ BACKUP_COMPRESSION_LEVEL: raw }, "BACKUP_COMPRESSION_LEVEL", 1, 9));
    expect(message).toContain("BACKUP_COMPRESSION_LEVEL");
    expect(message).toMatch(problem);
    expect(message).toContain(`"${raw}"`);
  });
});
