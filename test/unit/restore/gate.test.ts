// Which restore targets count as production: the pure part of the safety rules, without services.
import { describe, expect, it } from "vitest";
import { sameServer } from "../../../job/postgres/connection";
import { targetEnvironment } from "../../../job/restore/gate";

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
