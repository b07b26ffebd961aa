import { describe, expect, it } from "vitest";
import { DbBackupError } from "../../../job/core/errors";
import { usageMessage } from "../../helpers/errors";
import { envVarForTarget } from "../../../job/core/settings";
import { resolveTarget } from "../../../job/restore/target";


const STAGING = "postgres://postgres:pw@staging.internal:5432/postgres";

describe("resolveTarget", () => {
  it("passes a postgres URL through", () => {
    expect(resolveTarget("postgresql://postgres:postgres@localhost:54322/postgres", {})).toEqual({
      url: "postgresql://postgres:postgres@localhost:54322/postgres",
    });
    expect(resolveTarget("  postgres://h/db ", {}).url).toBe("postgres://h/db");
  });

  it("resolves an environment name through <NAME>_DB_URL (staging → STAGING_DB_URL)", () => {
    expect(resolveTarget("staging", { STAGING_DB_URL: STAGING })).toEqual({ url: STAGING, envName: "staging" });
    expect(resolveTarget("Staging", { STAGING_DB_URL: STAGING })).toEqual({ url: STAGING, envName: "staging" });
  });

  it("maps dashes in the name to underscores", () => {
    expect(envVarForTarget("qa-2")).toBe("QA_2_DB_URL");
    expect(resolveTarget("qa-2", { QA_2_DB_URL: STAGING }).url).toBe(STAGING);
  });

  it("never falls back to the source database", () => {
    const env = { SUPABASE_DB_URL: "postgres://prod/db" };
    expect(() => resolveTarget(undefined, env)).toThrow(DbBackupError);
    expect(() => resolveTarget("staging", env)).toThrow(/STAGING_DB_URL/);
  });

  it("names the missing variable", () => {
    expect(usageMessage(() => resolveTarget("staging", {}))).toContain("STAGING_DB_URL");
    expect(usageMessage(() => resolveTarget("staging", { STAGING_DB_URL: "  " }))).toContain("STAGING_DB_URL");
  });

  it("names a malformed variable", () => {
    expect(usageMessage(() => resolveTarget("staging", { STAGING_DB_URL: "mysql://x/y" }))).toContain("STAGING_DB_URL");
  });

  it.each([undefined, "", "   "])("refuses no target (%j), saying how to give one", (target) => {
    expect(usageMessage(() => resolveTarget(target, { STAGING_DB_URL: STAGING }))).toMatch(/--target/);
  });

  it.each(["../staging", "staging; rm -rf /", "1staging", "a b", "$HOME", "x".repeat(60)])("refuses the garbage target %j", (target) => {
    expect(usageMessage(() => resolveTarget(target, {}))).toMatch(/--target/);
  });

  it("refuses a non-postgres URL target", () => {
    expect(usageMessage(() => resolveTarget("http://example.com/db", {}))).toMatch(/--target/);
  });
});
