// The speed and memory bench (`npm run bench`, never part of the test suite). On one generated
// multi-table database it times, in one run and on the same machine state:
//   create:  pg_dump > /dev/null (the floor) · pg_dump | gzip > file · pg_dump | pigz > file ·
//            pg_dump | gzip | s3cmd put - (the seed's pipeline) · db-backup create (plain, custom)
//   restore: gunzip | psql (the seed's, from a file and from S3) · db-backup restore (plain, one
//            transaction, checked) · db-backup restore --jobs N of a custom backup (parallel
//            pg_restore) · bare pg_restore --jobs N of that archive from a local file (the floor)
// and samples the job's resident memory (the node process, and its whole process tree) at two
// database sizes. Prints the figures, the core count and the ratios against the goals.
//
// Settings (environment): BENCH_SIZE_MB (table data of the big database, default 300),
// BENCH_SMALL_MB (the second size for memory, default a quarter of it), BENCH_RUNS (timed runs of
// each create contender, best taken, default 2), BENCH_RESTORE_RUNS (interleaved rounds of the
// parallel-restore comparison, medians taken, default 3), BENCH_JOBS (pg_restore jobs, default the core
// count), BENCH_KEEP=1 keeps the databases and the bucket. DBB_TEST_* as the tests (services.sh env).
import { spawn } from "node:child_process";
import { promises as fs, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import * as Minio from "minio";

const ROOT = path.resolve(__dirname, "..");
const BUNDLE = path.join(ROOT, "dist/db-backup.cjs");
const PG_URL = process.env.DBB_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const S3 = new URL(process.env.DBB_TEST_S3_ENDPOINT ?? "http://127.0.0.1:7480");
const S3_ACCESS = process.env.DBB_TEST_S3_ACCESS_KEY ?? "dbbackup-test-access";
const S3_SECRET = process.env.DBB_TEST_S3_SECRET_KEY ?? "dbbackup-test-secret-0123456789abcdef";

const SIZE_MB = intEnv("BENCH_SIZE_MB", 300);
const SMALL_MB = intEnv("BENCH_SMALL_MB", Math.max(25, Math.round(SIZE_MB / 4)));
const RUNS = intEnv("BENCH_RUNS", 2);
const RESTORE_RUNS = intEnv("BENCH_RESTORE_RUNS", 3);
const CORES = os.cpus().length;
const JOBS = intEnv("BENCH_JOBS", Math.max(2, CORES));
const KEEP = process.env.BENCH_KEEP === "1";
const MiB = 1024 * 1024;

const GOALS = { createVsSeed: 0.75, sizeVsGzip: 1.05, parallelRestoreVsSeed: 0.7, peakRssMb: 150 };

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number (got "${raw}")`);
  return n;
}

function dbUrl(database: string): string {
  const url = new URL(PG_URL);
  url.pathname = "/" + database;
  return url.toString();
}

async function sql(database: string, text: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: dbUrl(database) });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

// ---- processes ------------------------------------------------------------------------------------

interface Measured {
  seconds: number;
  stdout: string;
  stderr: string;
  /** Peak RSS of the top process (VmHWM, node for the job) and of its whole tree (sampled). */
  peakRssMb?: number;
  peakTreeMb?: number;
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number)) {
          out.push(c);
          visit(c);
        }
      } catch {
        /* gone */
      }
    }
  };
  visit(pid);
  return out;
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Runs a command, timing it; with `sample`, samples the RSS of it and its descendants. */
function measure(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; sample?: boolean } = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    let hwm = 0;
    let tree = 0;
    const timer = options.sample
      ? setInterval(() => {
          hwm = Math.max(hwm, statusKb(child.pid!, "VmHWM"));
          const total = [child.pid!, ...descendants(child.pid!)].reduce((sum, p) => sum + statusKb(p, "VmRSS"), 0);
          tree = Math.max(tree, total);
        }, 20)
      : undefined;
    child.on("error", reject);
    child.on("close", (code) => {
      if (timer) clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (code !== 0) return reject(new Error(`${command} ${args.join(" ").slice(0, 200)} exited ${code}: ${stderr.slice(-2000)}`));
      resolve({ seconds, stdout, stderr, ...(options.sample ? { peakRssMb: hwm / 1024, peakTreeMb: tree / 1024 } : {}) });
    });
  });
}

const sh = (script: string, env?: NodeJS.ProcessEnv) => measure("bash", ["-o", "pipefail", "-c", script], { env });
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

// ---- the database -----------------------------------------------------------------------------------

const WORDS =
  "the of and to in is that for it as with was on be by this are from at or an have not which one you had but all their were can there has more if will would about so what when up out into them some could time only other than then its also these two may first like new any now such our over most where after been just people made how many back even use work well because very through part much before good same right year think still world day great between each own under never last long while might another point need state case both general house system program group problem fact hand government number area however against order course during without place since night company report public service data backup restore database table index query value record";

/** Rows per table for about `mb` MB of table data (heap bytes per row measured on PostgreSQL 15). */
function plan(mb: number) {
  const bytes = mb * MiB;
  return {
    users: Math.max(1000, Math.round((bytes * 0.1) / 95)),
    events: Math.round((bytes * 0.45) / 196),
    documents: Math.round((bytes * 0.3) / 390),
    embeddings: Math.round((bytes * 0.15) / 300),
  };
}

export async function generate(database: string, mb: number): Promise<{ tableMb: number; totalMb: number; rows: number }> {
  await sql("postgres", `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await sql("postgres", `CREATE DATABASE ${database}`);
  const n = plan(mb);
  await sql(database, `CREATE SCHEMA bench;
    CREATE TABLE bench.words (i int PRIMARY KEY, w text NOT NULL);
    INSERT INTO bench.words SELECT row_number() OVER () - 1, w FROM unnest(string_to_array('${WORDS}', ' ')) w;
    CREATE TABLE bench.users (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL, country text, created_at timestamptz NOT NULL);
    CREATE TABLE bench.events (id bigint PRIMARY KEY, user_id int NOT NULL, kind text NOT NULL, created_at timestamptz NOT NULL, payload jsonb NOT NULL);
    CREATE TABLE bench.documents (id int PRIMARY KEY, user_id int NOT NULL, title text NOT NULL, body text NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE bench.embeddings (id int PRIMARY KEY, document_id int NOT NULL, vec real[] NOT NULL);`);
  const words = (await sql(database, "SELECT count(*)::int AS n FROM bench.words"))[0]!.n as number;
  // Two sessions in parallel, and each table filled in slices so no statement runs for minutes.
  const slices = (total: number, per: number) => Array.from({ length: Math.ceil(total / per) }, (_, i) => [i * per + 1, Math.min(total, (i + 1) * per)] as const);
  const fill = async (statements: string[]) => {
    for (const s of statements) await sql(database, s);
  };
  const a = [
    `INSERT INTO bench.users SELECT g, 'user' || g || '@' || (ARRAY['example.com','mail.org','corp.net'])[1 + g % 3], initcap(substr(md5(g::text), 1, 12)), (ARRAY['DE','FR','US','BR','JP','IN'])[1 + g % 6], timestamptz '2023-01-01' + (g % 500000) * interval '1 minute' FROM generate_series(1, ${n.users}) g`,
    ...slices(n.events, 500_000).map(([lo, hi]) =>
      `INSERT INTO bench.events SELECT g, 1 + (hashint4(g::int) & 2147483647) % ${n.users}, (ARRAY['login','view','click','purchase','logout'])[1 + g % 5], timestamptz '2024-01-01' + g * interval '1 second',
         jsonb_build_object('ip', '10.' || (g % 250) || '.' || (g % 13) || '.' || (g % 7), 'ua', 'Mozilla/5.0 (X11; Linux x86_64) Build/' || (g % 97), 'amount', round((random() * 1000)::numeric, 2), 'session', substr(md5(g::text), 1, 16))
         FROM generate_series(${lo}, ${hi}) g`),
  ];
  const b = [
    ...slices(n.documents, 100_000).map(([lo, hi]) =>
      `INSERT INTO bench.documents SELECT g, 1 + g % ${n.users}, 'Document ' || g, (SELECT string_agg(w.w, ' ') FROM generate_series(1, 60) k JOIN bench.words w ON w.i = (hashint4(g * 61 + k) & 2147483647) % ${words}), timestamptz '2024-06-01' + g * interval '1 minute' FROM generate_series(${lo}, ${hi}) g`),
    ...slices(n.embeddings, 100_000).map(([lo, hi]) =>
      `INSERT INTO bench.embeddings SELECT g, g, ARRAY(SELECT random()::real FROM generate_series(1, 64) k WHERE k > 0 AND g > 0) FROM generate_series(${lo}, ${hi}) g`),
  ];
  await Promise.all([fill(a), fill(b)]);
  await Promise.all([
    fill(["CREATE INDEX ON bench.events (user_id)", "CREATE INDEX ON bench.events (created_at)"]),
    fill(["CREATE INDEX ON bench.documents (user_id)", "CREATE INDEX ON bench.users (email)"]),
  ]);
  await sql(database, "VACUUM (FREEZE, ANALYZE)"); // hint bits set: the first dump does not write
  const [size] = await sql(database, `SELECT sum(pg_relation_size(c.oid))::bigint AS t, sum(pg_total_relation_size(c.oid))::bigint AS a, sum(c.reltuples)::bigint AS r
    FROM pg_class c WHERE c.relnamespace = 'bench'::regnamespace AND c.relkind = 'r'`);
  return { tableMb: Number(size!.t) / MiB, totalMb: Number(size!.a) / MiB, rows: Number(size!.r) };
}

// ---- the bench -----------------------------------------------------------------------------------------

interface Row {
  what: string;
  seconds: number;
  mb?: number;
  peakRssMb?: number;
  peakTreeMb?: number;
  /** Every timed run, when the figure is their median. */
  runs?: number[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const started = Date.now();
  const bucket = `dbb-bench-${Date.now().toString(36)}`;
  const big = "dbb_bench_big";
  const small = "dbb_bench_small";
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "dbb-bench-"));
  const s3 = new Minio.Client({ endPoint: S3.hostname, port: Number(S3.port || 80), useSSL: false, accessKey: S3_ACCESS, secretKey: S3_SECRET, region: "us-east-1", pathStyle: true });
  await s3.makeBucket(bucket, "us-east-1");
  const targets: string[] = [];
  /** Runs one restore into a fresh database, dropped afterwards. */
  const restoreInto = async <T>(restore: (database: string) => Promise<T>): Promise<T> => {
    const target = `dbb_bench_t${targets.length + 1}`;
    targets.push(target);
    await sql("postgres", `DROP DATABASE IF EXISTS ${target} WITH (FORCE)`);
    await sql("postgres", `CREATE DATABASE ${target}`);
    try {
      return await restore(target);
    } finally {
      await sql("postgres", `DROP DATABASE IF EXISTS ${target} WITH (FORCE)`);
    }
  };
  /** The seed's restore: the SQL that `sqlSource` (a shell command) prints, into psql. */
  const intoPsql = (sqlSource: string) => (database: string) => sh(`${sqlSource} | psql -X -q -v ON_ERROR_STOP=1 -d ${q(dbUrl(database))} > /dev/null`);
  const jobEnv = (database: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SUPABASE_DB_URL: dbUrl(database),
    MINIO_ENDPOINT: S3.origin,
    MINIO_ACCESS_KEY: S3_ACCESS,
    MINIO_SECRET_KEY: S3_SECRET,
    MINIO_BUCKET: bucket,
    ...(process.env.BENCH_JOB_ENV ? Object.fromEntries(process.env.BENCH_JOB_ENV.split(",").map((kv) => kv.split("=") as [string, string])) : {}),
  });
  const job = (args: string[], database: string) => measure(process.execPath, [BUNDLE, ...args], { env: jobEnv(database), sample: true });
  const s3cmd = `s3cmd --no-progress --access_key=${q(S3_ACCESS)} --secret_key=${q(S3_SECRET)} --host=${S3.host} --host-bucket= --no-ssl --region=us-east-1 -c /dev/null`;

  try {
    const gen0 = Date.now();
    const info = await generate(big, SIZE_MB);
    const genSmall = await generate(small, SMALL_MB);
    const generation = (Date.now() - gen0) / 1000;
    log(`generated ${big}: ${info.tableMb.toFixed(0)} MB of table data (${info.totalMb.toFixed(0)} MB with indexes, ${info.rows} rows) and ${small}: ${genSmall.tableMb.toFixed(0)} MB, in ${generation.toFixed(0)} s`);

    const bigUrl = dbUrl(big);
    const seedFile = path.join(tmp, "seed.sql.gz");
    await sh(`pg_dump ${q(bigUrl)} > /dev/null`); // warm the cache
    const best = new Map<string, Row>();
    const keep = (row: Row) => {
      const prev = best.get(row.what);
      if (!prev || row.seconds < prev.seconds) best.set(row.what, row);
    };
    let jobPlain: { id: string; size: number } | undefined;
    for (let run = 1; run <= RUNS; run++) {
      keep({ what: "pg_dump > /dev/null (floor)", seconds: (await sh(`pg_dump ${q(bigUrl)} > /dev/null`)).seconds });
      const g = await sh(`pg_dump ${q(bigUrl)} | gzip > ${q(seedFile)}`);
      keep({ what: "pg_dump | gzip > file", seconds: g.seconds, mb: (await fs.stat(seedFile)).size / MiB });
      const pz = await sh(`pg_dump ${q(bigUrl)} | pigz > ${q(seedFile + ".pigz")}`);
      keep({ what: `pg_dump | pigz (${CORES} threads) > file`, seconds: pz.seconds, mb: (await fs.stat(seedFile + ".pigz")).size / MiB });
      const up = await sh(`pg_dump ${q(bigUrl)} | gzip | ${s3cmd} put - s3://${bucket}/seed/run${run}.sql.gz > /dev/null`);
      keep({ what: "pg_dump | gzip | s3cmd put - (seed)", seconds: up.seconds, mb: (await s3.statObject(bucket, `seed/run${run}.sql.gz`)).size / MiB });
      const made = await job(["create", "--json"], big);
      const manifest = JSON.parse(made.stdout) as { id: string; sizes: { stored: number } };
      jobPlain = { id: manifest.id, size: manifest.sizes.stored };
      keep({ what: "db-backup create (plain)", seconds: made.seconds, mb: manifest.sizes.stored / MiB, peakRssMb: made.peakRssMb, peakTreeMb: made.peakTreeMb });
    }
    const madeCustom = await job(["create", "--format", "custom", "--json"], big);
    const custom = JSON.parse(madeCustom.stdout) as { id: string; key: string; sizes: { stored: number } };
    keep({ what: "db-backup create --format custom", seconds: madeCustom.seconds, mb: custom.sizes.stored / MiB, peakRssMb: madeCustom.peakRssMb, peakTreeMb: madeCustom.peakTreeMb });

    // Restores, each into a fresh database. The parallel-restore goal is judged on medians of
    // RESTORE_RUNS interleaved rounds (a single run on a shared 2-core VM varies by ±15 %): the
    // seed's gunzip | psql, the job's restore --jobs N, and bare pg_restore --jobs N of the same
    // archive from a local file (what parallel pg_restore costs with no download, no checksum and no
    // checks: the floor under the job).
    const restoreRows: Row[] = [];
    const archive = path.join(tmp, "custom.dump");
    await s3.fGetObject(bucket, custom.key, archive);
    const rounds = { seed: [] as number[], floor: [] as number[], job: [] as Measured[] };
    for (let round = 1; round <= RESTORE_RUNS; round++) {
      rounds.seed.push((await restoreInto(intoPsql(`gunzip -c ${q(seedFile)}`))).seconds);
      rounds.floor.push((await restoreInto((t) => sh(`pg_restore --exit-on-error --no-owner --jobs=${JOBS} --dbname=${q(dbUrl(t))} ${q(archive)}`))).seconds);
      rounds.job.push(await restoreInto((t) => job(["restore", custom.id, "--target", dbUrl(t), "--target-env", "bench", "--jobs", String(JOBS)], big)));
    }
    restoreRows.push({ what: `gunzip | psql (seed) · median of ${RESTORE_RUNS}`, seconds: median(rounds.seed), runs: rounds.seed });
    restoreRows.push({ what: `pg_restore --jobs ${JOBS}, local file (floor) · median`, seconds: median(rounds.floor), runs: rounds.floor });
    const jobRuns = rounds.job.map((m) => m.seconds);
    restoreRows.push({
      what: `db-backup restore (custom, --jobs ${JOBS}) · median`,
      seconds: median(jobRuns),
      runs: jobRuns,
      peakRssMb: Math.max(...rounds.job.map((m) => m.peakRssMb!)),
      peakTreeMb: Math.max(...rounds.job.map((m) => m.peakTreeMb!)),
    });
    const fromS3 = await restoreInto(intoPsql(`${s3cmd} get s3://${bucket}/seed/run1.sql.gz - | gunzip`));
    restoreRows.push({ what: "s3cmd get | gunzip | psql (seed, from S3)", seconds: fromS3.seconds });
    const rPlain = await restoreInto((t) => job(["restore", jobPlain!.id, "--target", dbUrl(t), "--target-env", "bench"], big));
    restoreRows.push({ what: "db-backup restore (plain, 1 transaction, checked)", seconds: rPlain.seconds, peakRssMb: rPlain.peakRssMb, peakTreeMb: rPlain.peakTreeMb });
    const rCustom1 = await restoreInto((t) => job(["restore", custom.id, "--target", dbUrl(t), "--target-env", "bench", "--jobs", "1"], big));
    restoreRows.push({ what: "db-backup restore (custom, --jobs 1)", seconds: rCustom1.seconds, peakRssMb: rCustom1.peakRssMb, peakTreeMb: rCustom1.peakTreeMb });

    // Memory at the second size.
    const smallMade = await job(["create", "--json"], small);
    const smallId = (JSON.parse(smallMade.stdout) as { id: string }).id;
    const smallRestore = await restoreInto((t) => job(["restore", smallId, "--target", dbUrl(t), "--target-env", "bench"], small));

    // ---- report
    const rows = [...best.values()];
    const get = (what: string) => [...rows, ...restoreRows].find((r) => r.what.startsWith(what))!;
    const seed = get("pg_dump | gzip | s3cmd");
    const gzip = get("pg_dump | gzip >");
    const create = get("db-backup create (plain)");
    const floor = get("pg_dump > /dev/null");
    const seedRestore = get("gunzip | psql (seed)");
    const parallel = get(`db-backup restore (custom, --jobs ${JOBS})`);
    const parallelFloor = get(`pg_restore --jobs ${JOBS}, local file`);
    const seedFromS3 = get("s3cmd get | gunzip | psql");
    const plainRestore = get("db-backup restore (plain");
    const line = (r: Row) =>
      `  ${r.what.padEnd(52)} ${r.seconds.toFixed(2).padStart(7)} s` +
      (r.mb !== undefined ? `  ${r.mb.toFixed(1).padStart(7)} MB` : "".padStart(12)) +
      (r.peakRssMb !== undefined ? `  peak RSS ${r.peakRssMb.toFixed(0)} MB (tree ${r.peakTreeMb!.toFixed(0)} MB)` : "") +
      (r.runs ? `  runs ${r.runs.map((x) => x.toFixed(2)).join(" / ")} s` : "");
    const cpu = os.cpus()[0]?.model ?? "?";
    const ratio = (a: number, b: number) => a / b;
    const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
    const out = [
      "",
      `db-backup bench — ${CORES} cores (${cpu}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GB RAM, node ${process.version}, best of ${RUNS} for each create contender`,
      `database: ${info.tableMb.toFixed(0)} MB of table data (${info.totalMb.toFixed(0)} MB with indexes), 4 tables + 5 indexes, ${info.rows} rows; second size ${genSmall.tableMb.toFixed(0)} MB`,
      "",
      "create",
      ...rows.map(line),
      "",
      "restore (each into a fresh database)",
      ...restoreRows.map(line),
      "",
      "memory (the job's node process; tree = node + pg_dump/pigz/psql/pg_restore)",
      `  create  at ${genSmall.tableMb.toFixed(0).padStart(5)} MB: peak RSS ${smallMade.peakRssMb!.toFixed(0)} MB (tree ${smallMade.peakTreeMb!.toFixed(0)} MB)    at ${info.tableMb.toFixed(0).padStart(5)} MB: peak RSS ${create.peakRssMb!.toFixed(0)} MB (tree ${create.peakTreeMb!.toFixed(0)} MB)`,
      `  restore at ${genSmall.tableMb.toFixed(0).padStart(5)} MB: peak RSS ${smallRestore.peakRssMb!.toFixed(0)} MB (tree ${smallRestore.peakTreeMb!.toFixed(0)} MB)    at ${info.tableMb.toFixed(0).padStart(5)} MB: peak RSS ${plainRestore.peakRssMb!.toFixed(0)} MB (tree ${plainRestore.peakTreeMb!.toFixed(0)} MB)`,
      "",
      "ratios (goal)",
      `  create / seed pipeline (pg_dump | gzip | s3cmd put)   ${ratio(create.seconds, seed.seconds).toFixed(2)}  (≤ ${GOALS.createVsSeed})  ${verdict(ratio(create.seconds, seed.seconds) <= GOALS.createVsSeed)}`,
      `  create output / gzip output                           ${ratio(create.mb!, gzip.mb!).toFixed(3)} (≤ ${GOALS.sizeVsGzip})  ${verdict(ratio(create.mb!, gzip.mb!) <= GOALS.sizeVsGzip)}`,
      `  create / pg_dump > /dev/null (floor)                  ${ratio(create.seconds, floor.seconds).toFixed(2)}`,
      `  parallel restore (--jobs ${JOBS}) / gunzip | psql          ${ratio(parallel.seconds, seedRestore.seconds).toFixed(2)}  (≤ ${GOALS.parallelRestoreVsSeed})  ${verdict(ratio(parallel.seconds, seedRestore.seconds) <= GOALS.parallelRestoreVsSeed)}`,
      `  parallel restore (--jobs ${JOBS}) / seed's, from S3         ${ratio(parallel.seconds, seedFromS3.seconds).toFixed(2)}  (s3cmd get | gunzip | psql, one run)`,
      `  bare pg_restore --jobs ${JOBS} / gunzip | psql              ${ratio(parallelFloor.seconds, seedRestore.seconds).toFixed(2)}  (the floor: local file, no download, checksum or checks)`,
      `  restore (plain) / gunzip | psql                       ${ratio(plainRestore.seconds, seedRestore.seconds).toFixed(2)}`,
      `  peak RSS of the job (max of create/restore, both sizes) ${Math.max(create.peakRssMb!, plainRestore.peakRssMb!, smallMade.peakRssMb!, smallRestore.peakRssMb!, parallel.peakRssMb!).toFixed(0)} MB (< ${GOALS.peakRssMb} MB)  ${verdict(Math.max(create.peakRssMb!, plainRestore.peakRssMb!, smallMade.peakRssMb!, smallRestore.peakRssMb!, parallel.peakRssMb!) < GOALS.peakRssMb)}`,
      "",
      `bench took ${((Date.now() - started) / 1000).toFixed(0)} s (generation ${generation.toFixed(0)} s)`,
    ];
    process.stdout.write(out.join("\n") + "\n");
  } finally {
    if (!KEEP) {
      for (const name of [...targets, big, small]) await sql("postgres", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      const objects: string[] = [];
      for await (const item of s3.listObjectsV2(bucket, "", true) as AsyncIterable<Minio.BucketItem>) if (item.name) objects.push(item.name);
      if (objects.length) await s3.removeObjects(bucket, objects).catch(() => undefined);
      await s3.removeBucket(bucket).catch(() => undefined);
    }
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  });
}
