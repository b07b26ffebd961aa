import { describe, expect, it } from "vitest";
import { DbBackupError } from "../../../job/core/errors";
import { isFullBackup, parseManifest, serializeManifest, type BackupManifest } from "../../../job/inventory/manifest";
import { sampleManifest } from "../../helpers/manifests";

const KEY = "supabase/manual/backup_20250607_120000.manifest.json";

function integrityMessage(text: string): string {
  try {
    parseManifest(text, KEY);
  } catch (error) {
    expect(error).toBeInstanceOf(DbBackupError);
    expect((error as DbBackupError).kind).toBe("integrity");
    expect((error as DbBackupError).exitCode).toBe(4);
    expect((error as Error).message).toContain(KEY);
    return (error as Error).message;
  }
  throw new Error("expected parseManifest to refuse");
}

/** The sample as plain JSON data, with a change applied (for invalid variants). */
function mutated(change: (m: Record<string, any>) => void): string {
  const data = JSON.parse(JSON.stringify(sampleManifest()));
  change(data);
  return JSON.stringify(data);
}

describe("serializeManifest / parseManifest", () => {
  it("round-trips a valid manifest", () => {
    const m = sampleManifest();
    expect(parseManifest(serializeManifest(m), KEY)).toEqual(m);
  });

  it("round-trips the optional parts (tag, notification, verification, failure)", () => {
    const m = sampleManifest({
      type: "pre_migration",
      tag: "before_v2_schema",
      environment: "staging",
      notification: { subject: "backup.database.completed.v1", delivered: false, via: "none", error: "connection refused" },
      verification: { verifiedAt: "2025-06-08T00:00:00.000Z", durationMs: 1200, tables: 2, rows: 3, server: "127.0.0.1:5432/verify" },
    });
    expect(parseManifest(serializeManifest(m), KEY)).toEqual(m);
    const failed = sampleManifest({ status: "failed", error: "pg_dump exited with 1", sha256: null, rowCounts: null, sizes: { stored: 0, dumped: null } });
    expect(parseManifest(serializeManifest(failed), KEY)).toEqual(failed);
  });

  it("writes pretty JSON ending in a newline", () => {
    const text = serializeManifest(sampleManifest());
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toContain('\n  "id": "backup_20250607_120000"');
  });

  it("refuses to serialize an invalid manifest (never writes an untrusted file)", () => {
    expect(() => serializeManifest(sampleManifest({ sha256: "not-a-digest" }))).toThrow();
    expect(() => serializeManifest({ ...sampleManifest(), extra: 1 } as BackupManifest)).toThrow();
  });

  it.each([
    ["empty", ""],
    ["truncated", serializeManifest(sampleManifest()).slice(0, 100)],
    ["not JSON", "hello"],
  ])("refuses %s text as invalid JSON", (_label, text) => {
    expect(integrityMessage(text)).toMatch(/not valid JSON/);
  });

  it.each([
    ["a JSON array", "[]"],
    ["null", "null"],
    ["a number", "42"],
  ])("refuses %s", (_label, text) => {
    integrityMessage(text);
  });

  const invalid: [string, (m: Record<string, any>) => void, RegExp][] = [
    ["an extra top-level key", (m) => (m.surprise = true), /invalid/],
    ["an extra key in scope", (m) => (m.scope.everything = true), /scope/],
    ["an extra key in sizes", (m) => (m.sizes.raw = 1), /sizes/],
    ["a sha256 of 63 hex digits", (m) => (m.sha256 = "a".repeat(63)), /sha256/],
    ["an upper-case sha256", (m) => (m.sha256 = "A".repeat(64)), /sha256/],
    ["a non-hex sha256", (m) => (m.sha256 = "g".repeat(64)), /sha256/],
    ["a numeric id", (m) => (m.id = 5), /id/],
    ["an id with a path", (m) => (m.id = "../x"), /id/],
    ["an unknown type", (m) => (m.type = "hourly"), /type/],
    ["an unknown status", (m) => (m.status = "ok"), /status/],
    ["a string size", (m) => (m.sizes.stored = "1234"), /sizes/],
    ["a negative size", (m) => (m.sizes.stored = -1), /sizes/],
    ["a fractional row count", (m) => (m.rowCounts["public.items"] = 1.5), /rowCounts/],
    ["a negative row count", (m) => (m.rowCounts["public.items"] = -1), /rowCounts/],
    ["a missing key", (m) => delete m.key, /key/],
    ["a wrong schema version", (m) => (m.schemaVersion = 3), /schemaVersion/],
    ["a bad date", (m) => (m.startedAt = "yesterday"), /startedAt/],
    ["a boolean as a string", (m) => (m.scope.schemaOnly = "false"), /scope/],
    ["an unknown format", (m) => (m.format = "tar"), /format/],
    ["a compression level of 10", (m) => (m.options.compressionLevel = 10), /options/],
  ];

  it.each(invalid)("refuses %s with an integrity error naming the field", (_label, change, field) => {
    expect(integrityMessage(mutated(change))).toMatch(field);
  });

  it("sanity: the unmutated sample parses (so each refusal above is due to its change)", () => {
    expect(() => parseManifest(mutated(() => undefined), KEY)).not.toThrow();
  });
});

describe("isFullBackup", () => {
  const scope = sampleManifest().scope;

  it("is true for the default scope (every table, schema and data)", () => {
    expect(isFullBackup(sampleManifest())).toBe(true);
  });

  it("is false for a table selection", () => {
    expect(isFullBackup(sampleManifest({ scope: { ...scope, tables: ["pmoves_core.content_items"] } }))).toBe(false);
  });

  it("is false for schema-only or data-only dumps", () => {
    expect(isFullBackup(sampleManifest({ scope: { ...scope, schemaOnly: true } }))).toBe(false);
    expect(isFullBackup(sampleManifest({ scope: { ...scope, dataOnly: true } }))).toBe(false);
  });
});
