// Which restore targets count as production: the pure decision over what the servers said (their
// identities) and the names given. The servers themselves are asked in test/safety/restore-gate.
import { describe, expect, it } from "vitest";
import { sameServer } from "../../../job/postgres/connection";
import type { DatabaseIdentity } from "../../../job/postgres/identity";
import { targetEnvironment, type GateIdentities } from "../../../job/restore/gate";

const url = "postgres://u:p@db.internal:5432/app";
const prod: DatabaseIdentity = { systemId: "7301234567890123456", database: "app" };
const other: DatabaseIdentity = { systemId: "7301234567890123456", database: "staging" };
const elsewhere: DatabaseIdentity = { systemId: "7000000000000000001", database: "app" };
const is = (identity: DatabaseIdentity) => ({ identity });
const ids = (target: DatabaseIdentity, extra: Partial<GateIdentities> = {}): GateIdentities => ({ target: is(target), ...extra });

describe("targetEnvironment", () => {
  it("fails safe: unknown is production; names decide otherwise", () => {
    expect(targetEnvironment({ target: { url }, identities: ids(other) })).toMatchObject({ production: true, name: null });
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "Staging", identities: ids(other) })).toMatchObject({ production: false, name: "staging" });
    expect(targetEnvironment({ target: { url, envName: "prod" }, identities: ids(other) })).toMatchObject({ production: true });
    expect(targetEnvironment({ target: { url, envName: "staging" }, targetEnvFlag: "production", identities: ids(other) })).toMatchObject({ production: true });
  });

  it("production's database is production whatever it is called, and only the same database on the same cluster is", () => {
    const production = { ...is(prod), setting: "PRODUCTION_DB_ID" };
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "dev", identities: ids(prod, { production }) })).toMatchObject({ production: true });
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "dev", identities: ids(other, { production }) })).toMatchObject({ production: false, name: "dev" });
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "dev", identities: ids(elsewhere, { production }) })).toMatchObject({ production: false });
  });

  it("fails safe when production, or the target, cannot be compared", () => {
    const unreachable = { error: "connection refused", setting: "PRODUCTION_DB_URL" };
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "dev", identities: ids(other, { production: unreachable }) }).reason).toMatch(/PRODUCTION_DB_URL cannot be reached/);
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "dev", identities: ids(other, { production: unreachable }) }).production).toBe(true);
    const noTarget: GateIdentities = { target: { error: "permission denied for function pg_control_system" }, production: { ...is(prod), setting: "PRODUCTION_DB_ID" } };
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "dev", identities: noTarget })).toMatchObject({ production: true });
  });

  it("the run's own source is in the run's environment, whatever --target-env says", () => {
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "dev", runEnvironment: "production", identities: ids(prod, { source: is(prod) }) })).toMatchObject({ production: true, name: "production" });
    expect(targetEnvironment({ target: { url }, runEnvironment: "staging", identities: ids(other, { source: is(other) }) })).toMatchObject({ production: false, name: "staging" });
    // a production run that cannot compare with its source counts the target as production
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "dev", runEnvironment: "prod", identities: ids(other, { source: { error: "timeout" } }) })).toMatchObject({ production: true });
    // another database than the source: the names decide
    expect(targetEnvironment({ target: { url }, targetEnvFlag: "dev", runEnvironment: "production", identities: ids(other, { source: is(prod) }) })).toMatchObject({ production: false });
  });

  it("compares servers by their addresses where no identity is recorded", () => {
    expect(sameServer("postgres://a@localhost/x", "postgres://b@127.0.0.1:5432/y")).toBe(true);
    expect(sameServer("postgres://a@db1/x", "postgres://a@db2/x")).toBe(false);
  });
});
