// The container contract: each CronJob's command, args and env, taken from the program exactly as
// `pulumi up` would create them (ConfigMap and Secret values pointing at the local services), run
// as `node dist/db-backup.cjs` against the real PostgreSQL, S3 server and NATS. The daily CronJob
// backs up, the drill verifies, the restore template restores, a repeated request is refused.
//
// Faithful where it matters: each pod takes its own workload's Secret, and the S3 key it runs with
// is the second test user restricted by THAT workload's rendered policy (as a bucket policy, see
// policy-s3.test.ts) — so the backup, drill, status and restore policies are each shown to allow
// their workload's real work; the bucket has Object Lock, as every stack's has; the drill's scratch
// server is a second PostgreSQL cluster, because the job refuses to drill on the source's server.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as Minio from "minio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../job/core/catalog";
import { ENV, retentionFromEnv } from "../../job/core/settings";
import { PRE_MIGRATION_TEMPLATE, RESTORE_TEMPLATE, RESTORE_VARS } from "../../infra/components/restore";
import { STATUS_CRONJOB, VERIFY_CRONJOB, cronJobName } from "../../infra/components/schedules";
import { asBucketPolicy, workloadPolicy } from "../../infra/policies";
import type { ProgramRun } from "../../infra/testing/capture";
import { BUNDLE_PATH, JOB_COMMAND, SECRET_NAMES } from "../../infra/workload";
import { BUNDLE, runCli, type CliResult } from "../helpers/cli";
import { TEST_SECRETS, object, stackRun } from "../helpers/infra-stacks";
import { createDatabase, dropDatabase, sql, uniqueName } from "../helpers/pg";
import { removeBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";

const PREFIX = "supabase";
const SCHEMA = "contract";
const bucket = `dbb-infra-contract-${Date.now().toString(36)}`;
const sourceDb = uniqueName("dbb_contract_src");
const PRINCIPAL = "arn:aws:iam:::user/dbbackup-other";
const s3Url = new URL(services.s3Endpoint);
const owner = new Minio.Client({ endPoint: s3Url.hostname, port: Number(s3Url.port), useSSL: false, accessKey: services.s3AccessKey, secretKey: services.s3SecretKey, region: "us-east-1" });

/** A second PostgreSQL cluster for the drill's scratch databases (a server other than the source's). */
class ScratchServer {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "dbb-scratch-pg-"));
  readonly port = 55_000 + (process.pid % 5000);
  private readonly bin = fs.readdirSync("/usr/lib/postgresql").map((v) => `/usr/lib/postgresql/${v}/bin`).find((b) => fs.existsSync(`${b}/pg_ctl`))!;
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }
  /** PostgreSQL refuses to run as root: as root, run its tools as the postgres user. */
  private asPostgres(args: string[]): void {
    const [command, ...rest] = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", ...args] : args;
    execFileSync(command!, rest, { stdio: ["ignore", "ignore", "pipe"] });
  }
  start(): void {
    fs.chmodSync(this.dir, 0o777);
    const data = path.join(this.dir, "data");
    if (process.getuid?.() === 0) execFileSync("chown", ["postgres", this.dir]);
    this.asPostgres([`${this.bin}/initdb`, "-D", data, "--auth=trust", "-U", "postgres", "--no-sync"]);
    this.asPostgres([`${this.bin}/pg_ctl`, "-D", data, "-w", "-l", path.join(this.dir, "log"), "-o", `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"]);
  }
  stop(): void {
    try {
      this.asPostgres([`${this.bin}/pg_ctl`, "-D", path.join(this.dir, "data"), "-m", "fast", "-w", "stop"]);
    } catch {
      /* not started */
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What the kubelet would start: the container's command and args with `$(VAR)` expanded, and its
 * env (envFrom ConfigMap and Secret, then `env`), the image's bundle path mapped to dist/. */
function invocation(run: ProgramRun, kind: "CronJob" | "Job", name: string, set: Record<string, string> = {}, keys: Record<string, string> = {}) {
  const spec = object(run, kind, name).inputs.spec;
  const pod = kind === "CronJob" ? spec.jobTemplate.spec.template.spec : spec.template.spec;
  const container = pod.containers[0];
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, object(run, "ConfigMap", source.configMapRef.name).inputs.data);
    if (source.secretRef) Object.assign(env, object(run, "Secret", source.secretRef.name).inputs.stringData);
  }
  for (const variable of container.env ?? []) env[variable.name] = variable.value;
  Object.assign(env, keys, set); // `kubectl set env` replaces values; keys: the S3 key that exists here
  const expand = (arg: string) => arg.replace(/\$\((\w+)\)/g, (whole, v: string) => (v in env ? env[v]! : whole));
  expect(container.command).toEqual(JOB_COMMAND);
  const secret = (container.envFrom as { secretRef?: { name: string } }[]).find((e) => e.secretRef)!.secretRef!.name;
  const workload = (Object.entries(SECRET_NAMES).find(([, name]) => name === secret)?.[0] ?? "none") as keyof typeof SECRET_NAMES;
  return { args: (container.args as string[]).map(expand), env, workload };
}

/** The S3 user gets the rendered policy of the workload whose Secret the pod takes, for this run. */
async function run(call: { args: string[]; env: Record<string, string>; workload: keyof typeof SECRET_NAMES }): Promise<CliResult> {
  await owner.setBucketPolicy(bucket, JSON.stringify(asBucketPolicy(workloadPolicy(call.workload, bucket, PREFIX, retentionFromEnv(call.env)), PRINCIPAL)));
  // The container's PATH has the PostgreSQL client tools; here they are on the host's PATH.
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir(), TZ: "UTC", ...call.env };
  return runCli(call.args, env, { timeoutMs: 180_000 });
}

const explain = (r: CliResult) => `exit ${r.code}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`;

describe("container contract: the rendered CronJobs run the real bundle against real services", () => {
  const scratch = new ScratchServer();
  let program: ProgramRun;
  let keys: Record<string, string>;
  let backupId = "";

  beforeAll(async () => {
    await requireServices("postgres", "s3", "nats");
    expect(fs.existsSync(BUNDLE), "dist/db-backup.cjs (npm run build)").toBe(true);
    expect(BUNDLE_PATH.endsWith(path.basename(BUNDLE))).toBe(true);
    scratch.start();

    const sourceUrl = await createDatabase(sourceDb);
    await sql(sourceDb, `CREATE SCHEMA ${SCHEMA}; CREATE TABLE ${SCHEMA}.items (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO ${SCHEMA}.items SELECT g, 'item ' || g FROM generate_series(1, 50) g;`);

    await owner.makeBucket(bucket, "us-east-1", { ObjectLocking: true }); // as every stack's bucket
    keys = { [ENV.accessKey]: services.s3OtherAccessKey, [ENV.secretKey]: services.s3OtherSecretKey };

    program = await stackRun("dev", {
      set: {
        "db-backup:bucket": { name: bucket, prefix: PREFIX },
        "db-backup:minio": { server: `${s3Url.hostname}:${s3Url.port}`, ssl: false, endpoint: services.s3Endpoint },
        "db-backup:natsUrl": services.natsUrl,
        "db-backup:schemas": [SCHEMA],
        // Where these services are, as a stack would say it (NetworkPolicies; checked against the URLs).
        "db-backup:network": {
          s3: [{ cidr: "127.0.0.1/32", ports: [Number(s3Url.port)] }],
          nats: [{ cidr: "127.0.0.1/32", ports: [Number(new URL(services.natsUrl).port)] }],
          sourceDb: [{ cidr: "127.0.0.1/32", ports: [Number(new URL(sourceUrl).port || 5432)] }],
          verifyDb: [{ cidr: "127.0.0.1/32", ports: [scratch.port] }],
          restoreDb: [{ cidr: "127.0.0.1/32", ports: [Number(new URL(sourceUrl).port || 5432)] }],
        },
      },
      // The source is also the restore target here (restoreDbUrl): trust auth, one role.
      secrets: { ...TEST_SECRETS, sourceDbUrl: sourceUrl, verifyDbUrl: scratch.url, restoreDbUrl: sourceUrl },
    });
  }, 120_000);

  afterAll(async () => {
    scratch.stop();
    await dropDatabase(sourceDb);
    await removeBucket(bucket);
  });

  it("the daily CronJob makes a daily backup", async () => {
    const result = await run(invocation(program, "CronJob", cronJobName("daily"), {}, keys));
    expect(result.code, explain(result)).toBe(EXIT_CODES.ok);
    const list = await run({ ...invocation(program, "CronJob", cronJobName("daily"), {}, keys), args: ["list", "--type", "daily", "--json"] });
    expect(list.code, explain(list)).toBe(EXIT_CODES.ok);
    const backups = JSON.parse(list.stdout) as { id: string; type: string }[] | { backups: { id: string; type: string }[] };
    const entries = Array.isArray(backups) ? backups : backups.backups;
    expect(entries.filter((b) => b.type.toLowerCase() === "daily")).toHaveLength(1);
    backupId = entries[0]!.id;
  }, 180_000);

  it("the drill CronJob verifies it on the scratch server", async () => {
    const result = await run(invocation(program, "CronJob", VERIFY_CRONJOB, {}, keys));
    expect(result.code, explain(result)).toBe(EXIT_CODES.ok);
    expect(result.stdout + result.stderr).toContain(backupId);
  }, 180_000);

  it("the staleness check passes with a fresh daily backup", async () => {
    const result = await run(invocation(program, "CronJob", STATUS_CRONJOB, {}, keys));
    expect(result.code, explain(result)).toBe(EXIT_CODES.ok);
  }, 120_000);

  it("the restore template restores it into the environment's database", async () => {
    await sql(sourceDb, `DELETE FROM ${SCHEMA}.items WHERE id > 10`);
    const result = await run(
      invocation(program, "CronJob", RESTORE_TEMPLATE, { [RESTORE_VARS.backupId]: backupId, [RESTORE_VARS.requestId]: "contract-restore-1" }, keys),
    );
    expect(result.code, explain(result)).toBe(EXIT_CODES.ok);
    expect((await sql<{ n: string }>(sourceDb, `SELECT count(*) AS n FROM ${SCHEMA}.items`))[0]!.n).toBe("50");
  }, 180_000);

  it("a repeated restore request is refused and changes nothing", async () => {
    await sql(sourceDb, `DELETE FROM ${SCHEMA}.items WHERE id > 40`);
    const result = await run(
      invocation(program, "CronJob", RESTORE_TEMPLATE, { [RESTORE_VARS.backupId]: backupId, [RESTORE_VARS.requestId]: "contract-restore-1" }, keys),
    );
    expect(result.code, explain(result)).toBe(EXIT_CODES.refused);
    expect((await sql<{ n: string }>(sourceDb, `SELECT count(*) AS n FROM ${SCHEMA}.items`))[0]!.n).toBe("40");
  }, 180_000);

  it("the pre-migration template takes a tagged backup", async () => {
    const result = await run(invocation(program, "CronJob", PRE_MIGRATION_TEMPLATE, { BACKUP_TAG: "before_contract_v2" }, keys));
    expect(result.code, explain(result)).toBe(EXIT_CODES.ok);
  }, 180_000);
});
