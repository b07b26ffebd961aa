// The production gate recognises production by what the servers say (system identifier and
// database name), however the target's URL is spelled: 127.1, the host's name, an IPv4-mapped IPv6
// address, ?dbname=, ?port=, ?host=<socket dir>, a percent-encoded socket directory. Before the
// gate compared identities, each of these with --target-env dev counted as "not production" and a
// restore wrote into production with no approver. Production is known from PRODUCTION_DB_URL (read
// only) or PRODUCTION_DB_ID (no credentials), or as a production run's own source; when either side
// cannot be compared, the target counts as production. A different database on the same cluster is
// not production (the control), and an approved production restore still goes through.
import { execFileSync } from "node:child_process";
import net from "node:net";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupManifest } from "../../job/inventory/manifest";
import { expectOneLineError, expectRefused } from "../helpers/assertions";
import { createBackup, verifyBackup } from "../helpers/backups";
import { baseEnv, jobEnv, runCli } from "../helpers/cli";
import { APP_SCHEMAS, database, dataFingerprint, dbUrl, dropDatabase, sql } from "../helpers/pg";
import { makeBucket, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";
import { bucketVersions, dbSnapshot } from "../helpers/snapshots";

const bucket = uniqueBucket("dbb-prodid");
const created: string[] = [];
const PORT = new URL(services.pgUrl).port || "5432";
const SOCKET_DIR = "/var/run/postgresql";
let source: { name: string; url: string };
let production: { name: string; url: string };
let env: Record<string, string>;
let verified: BackupManifest;
let systemId: string;

interface Spelling {
  label: string;
  url: string;
}

/** The same database, written the ways that used to slip past the gate. */
function spellings(db: string): Spelling[] {
  return [
    { label: "@127.1", url: `postgres://postgres@127.1:${PORT}/${db}` },
    { label: "@<hostname>", url: `postgres://postgres@${os.hostname()}:${PORT}/${db}` },
    { label: "@[::ffff:127.0.0.1]", url: `postgres://postgres@[::ffff:127.0.0.1]:${PORT}/${db}` },
    { label: "/postgres?dbname=", url: `postgres://postgres@127.0.0.1:${PORT}/postgres?dbname=${db}` },
    { label: ":9999/…?port=", url: `postgres://postgres@127.0.0.1:9999/${db}?port=${PORT}` },
    { label: "?host=<socket dir>", url: `postgres://postgres@127.0.0.1:${PORT}/${db}?host=${SOCKET_DIR}` },
    { label: "@%2F<socket dir>", url: `postgres://postgres@${encodeURIComponent(SOCKET_DIR)}:${PORT}/${db}` },
    { label: "postgresql:// + percent-encoded name", url: `postgresql://postgres@localhost:${PORT}/${[...db].map((c) => "%" + c.charCodeAt(0).toString(16)).join("")}` },
  ];
}

/** What libpq (psql) reads at `url`, independently of the job: `<system identifier>/<database>`,
 * or null when it cannot connect here (then the gate must count the target as production by
 * fail-safe). */
function libpqIdentity(url: string): string | null {
  try {
    return execFileSync("psql", ["-X", "-At", "-d", url, "-c", "SELECT (SELECT system_identifier FROM pg_control_system()) || '/' || current_database()"], {
      encoding: "utf8",
      env: baseEnv({ PGCONNECT_TIMEOUT: "5" }),
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10_000,
    }).trim();
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A restore that must be refused as production (exit 3, one line naming the reason); the
 * database `protectedDb` and the bucket are exactly as before. Returns the run's stderr. */
async function expectProductionRefusal(args: string[], runEnv: Record<string, string>, protectedDb: string, reason: RegExp): Promise<string> {
  const before = await dbSnapshot(protectedDb);
  const bucketBefore = await bucketVersions(bucket);
  const result = await runCli(["restore", ...args], runEnv);
  expectRefused(result, new RegExp(`production restore needs --approved-by <name> and --confirm <backup_id> \\(the target is production: ${reason.source}`));
  expect(await dbSnapshot(protectedDb)).toEqual(before);
  expect(await bucketVersions(bucket)).toEqual(bucketBefore);
  return result.stderr;
}

/** Every spelling of production, --target-env dev, --clean, no approval: refused as production.
 * `setting` names where production's identity came from (PRODUCTION_DB_URL or PRODUCTION_DB_ID). */
async function expectEverySpellingRefused(runEnv: Record<string, string>, setting: string): Promise<void> {
  const identity = `${systemId}/${production.name}`;
  let compared = 0;
  for (const spelling of spellings(production.name)) {
    const seen = libpqIdentity(spelling.url);
    // Where libpq reaches the database, the job must too, and see production in it; where it
    // cannot, the gate cannot tell it from production and must count it as production.
    const reason =
      seen === null
        ? /the target's identity cannot be read \(.*\), so it cannot be told from production\)/
        : new RegExp(`it is ${setting}'s database \\(${escape(identity)}\\), however its URL is written\\)`);
    if (seen !== null) {
      expect(seen, spelling.label).toBe(identity);
      compared++;
    }
    const stderr = await expectProductionRefusal([verified.id, "--target", spelling.url, "--target-env", "dev", "--clean"], runEnv, production.name, reason).catch((error: Error) => {
      throw new Error(`${spelling.label} (${spelling.url}): ${error.message}`);
    });
    expect(stderr).not.toMatch(/Restored|restoring/);
  }
  // This machine reaches most spellings over TCP: the test is about the identity comparison, not
  // only the fail-safe.
  expect(compared).toBeGreaterThanOrEqual(5);

  // Named as an environment too (DEV_DB_URL), and a role that cannot log in (fail-safe).
  await expectProductionRefusal([verified.id, "--target", "dev", "--clean"], { ...runEnv, DEV_DB_URL: spellings(production.name)[0]!.url }, production.name, new RegExp(`it is ${setting}'s database`));
  await expectProductionRefusal(
    [verified.id, "--target", `postgres://dbb_no_such_role@127.0.0.1:${PORT}/${production.name}`, "--target-env", "dev", "--clean"],
    runEnv,
    production.name,
    /the target's identity cannot be read \(.*dbb_no_such_role.*\), so it cannot be told from production/,
  );
}

beforeAll(async () => {
  await requireServices("postgres", "s3", "nats");
  source = await database(created, "dbb_pid_src", { fixture: true });
  production = await database(created, "dbb_pid_prod", { fixture: true });
  await sql(production.name, "UPDATE pmoves_core.content_items SET title = 'production data' WHERE id < 120; CREATE SCHEMA keep; CREATE TABLE keep.marker (v text); INSERT INTO keep.marker VALUES ('untouched')");
  systemId = (await sql<{ id: string }>("postgres", "SELECT system_identifier::text AS id FROM pg_control_system()"))[0]!.id;
  await makeBucket(bucket);
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl });
  verified = await createBackup(env);
  await verifyBackup(env, verified.id);
  // The oracle itself: libpq reads production's identity through its canonical URL.
  expect(libpqIdentity(production.url)).toBe(`${systemId}/${production.name}`);
});

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
  await removeBucket(bucket);
});

describe("production is recognised however its URL is spelled", () => {
  it("PRODUCTION_DB_URL: every spelling of production with --target-env dev is refused without approval, and nothing changes", async () => {
    await expectEverySpellingRefused({ ...env, PRODUCTION_DB_URL: production.url }, "PRODUCTION_DB_URL");
  });

  it("--dry-run names the identity the target was recognised by", async () => {
    const spelling = `postgres://postgres@127.0.0.1:${PORT}/postgres?dbname=${production.name}`;
    const before = await dbSnapshot(production.name);
    const result = await runCli(["restore", verified.id, "--target", spelling, "--target-env", "dev", "--clean", "--dry-run"], { ...env, PRODUCTION_DB_URL: production.url });
    expectRefused(result, /production restore needs --approved-by <name> and --confirm <backup_id> \(the target is production: it is PRODUCTION_DB_URL's database/);
    expect(result.stdout).toContain(`target identity: ${systemId}/${production.name} (system identifier/database)`);
    expect(result.stdout).toContain(`[ok]      environment: production: it is PRODUCTION_DB_URL's database (${systemId}/${production.name}), however its URL is written`);
    expect(result.stdout).toMatch(/\[refused\] approval:/);
    expect(result.stdout).toContain("Dry run: nothing was changed.");
    expect(await dbSnapshot(production.name)).toEqual(before);
  });

  it("PRODUCTION_DB_ID (no credentials): every spelling is refused; another database on the same cluster is not production and restores", async () => {
    const idEnv = { ...env, PRODUCTION_DB_ID: `${systemId}/${production.name}` };
    expect(Object.keys(idEnv).filter((k) => k.startsWith("PRODUCTION_"))).toEqual(["PRODUCTION_DB_ID"]);
    await expectEverySpellingRefused(idEnv, "PRODUCTION_DB_ID");

    // The control: same cluster, same system identifier, another database, spelled oddly too.
    const other = await database(created, "dbb_pid_dev");
    const prodBefore = await dbSnapshot(production.name);
    const target = `postgres://postgres@127.1:${PORT}/postgres?dbname=${other.name}`;
    const dry = await runCli(["restore", verified.id, "--target", target, "--target-env", "dev", "--clean", "--dry-run"], idEnv);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`target identity: ${systemId}/${other.name}`);
    expect(dry.stdout).toContain(`environment: not production (its environment is "dev")`);
    const result = await runCli(["restore", verified.id, "--target", target, "--target-env", "dev", "--clean"], idEnv);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Restored ${verified.id}`);
    expect(await dataFingerprint(other.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source.name, APP_SCHEMAS));
    expect(await dbSnapshot(production.name)).toEqual(prodBefore);
  });
});

describe("production that cannot be compared fails safe", () => {
  it("PRODUCTION_DB_URL unreachable: any target counts as production; a malformed PRODUCTION_DB_ID is a usage error naming it", async () => {
    const bystander = await database(created, "dbb_pid_by", { sql: "CREATE SCHEMA keep; CREATE TABLE keep.marker (v text); INSERT INTO keep.marker VALUES ('untouched')" });
    const port = await freePort();
    const unreachable = { ...env, PRODUCTION_DB_URL: `postgres://postgres@127.0.0.1:${port}/${production.name}` };
    await expectProductionRefusal([verified.id, "--target", bystander.url, "--target-env", "dev", "--clean"], unreachable, bystander.name, /PRODUCTION_DB_URL cannot be reached to compare \(.+\), which counts as production\)/);
    await expectProductionRefusal([verified.id, "--target", spellings(production.name)[3]!.url, "--target-env", "dev", "--clean"], unreachable, production.name, /PRODUCTION_DB_URL cannot be reached to compare/);

    for (const malformed of ["production", systemId, `${production.name}/${systemId}`, `postgres://postgres:pid-s3cret@127.0.0.1:${PORT}/${production.name}`]) {
      const before = await dbSnapshot(bystander.name);
      const bucketBefore = await bucketVersions(bucket);
      const result = await runCli(["restore", verified.id, "--target", bystander.url, "--target-env", "dev", "--clean"], { ...env, PRODUCTION_DB_ID: malformed });
      expect(result.code, `${malformed}: ${result.stderr}`).toBe(2);
      expectOneLineError(result, /PRODUCTION_DB_ID .* is not <system identifier>\/<database>/);
      expect(result.stdout + result.stderr).not.toContain("pid-s3cret");
      expect(await dbSnapshot(bystander.name)).toEqual(before);
      expect(await bucketVersions(bucket)).toEqual(bucketBefore);
    }
  });
});

describe("a run's own source", () => {
  it("in a production run, the source spelled differently is production whatever --target-env says; in a staging run it is not", async () => {
    const prodRun = { ...env, SUPABASE_DB_URL: production.url, BACKUP_ENV: "production" };
    for (const spelling of [spellings(production.name)[0]!, spellings(production.name)[4]!, spellings(production.name)[6]!]) {
      await expectProductionRefusal(
        [verified.id, "--target", spelling.url, "--target-env", "dev", "--clean"],
        prodRun,
        production.name,
        new RegExp(`it is this run's own source database \\(SUPABASE_DB_URL, ${escape(`${systemId}/${production.name}`)}\\) and this run's environment is "production"`),
      );
    }
    // No BACKUP_ENV: the run's environment is unknown, which counts as production too.
    const unknownRun = { ...env, SUPABASE_DB_URL: production.url };
    await expectProductionRefusal([verified.id, "--target", spellings(production.name)[1]!.url, "--target-env", "dev", "--clean"], unknownRun, production.name, /it is this run's own source database .* this run's environment is unknown/);

    const before = await dbSnapshot(production.name);
    const stagingRun = { ...env, SUPABASE_DB_URL: production.url, BACKUP_ENV: "staging" };
    const dry = await runCli(["restore", verified.id, "--target", spellings(production.name)[3]!.url, "--clean", "--dry-run"], stagingRun);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`[ok]      environment: not production (it is this run's own source database, in this run's environment "staging"): no approval needed`);
    expect(dry.stdout).not.toMatch(/\[(ok|refused)\]\s+approval:/);
    expect(dry.stdout).toContain("it would:");
    expect(await dbSnapshot(production.name)).toEqual(before);
  });
});

describe("the gate is a gate, not a wall", () => {
  it("with approval, a production restore through an odd spelling goes through and takes the safety backup first", async () => {
    const prod = await database(created, "dbb_pid_prod5", { fixture: true });
    await sql(prod.name, "UPDATE pmoves_core.content_items SET title = 'production data' WHERE id < 120");
    expect(await dataFingerprint(prod.name, APP_SCHEMAS)).not.toEqual(await dataFingerprint(source.name, APP_SCHEMAS));
    const target = `postgres://postgres@127.0.0.1:9999/${prod.name}?port=${PORT}`;
    const result = await runCli(
      ["restore", verified.id, "--target", target, "--target-env", "dev", "--approved-by", "alice", "--confirm", verified.id, "--clean", "--json"],
      { ...env, PRODUCTION_DB_URL: dbUrl(prod.name) },
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { production: boolean; approvedBy: string; safetyBackup: string | null };
    expect(report).toMatchObject({ production: true, approvedBy: "alice" });
    expect(report.safetyBackup).toEqual(expect.any(String));
    expect(await dataFingerprint(prod.name, APP_SCHEMAS)).toEqual(await dataFingerprint(source.name, APP_SCHEMAS));

    const list = await runCli(["list", "--json", "--type", "pre_migration"], env);
    expect(list.code, list.stderr).toBe(0);
    const safety = (JSON.parse(list.stdout) as { id: string; tag?: string; type?: string }[]).find((e) => e.id === report.safetyBackup);
    expect(safety, list.stdout).toBeDefined();
    expect(safety!.tag).toMatch(/^pre_restore_\d{8}_\d{6}$/);
  });
});
