// Memory stays flat whatever the largest value: one 120 MB bytea (a 240 MB line of COPY text) goes
// through create, restore and verify, and the job's node process never holds it. Before, verify
// read the dump line by line and one 280 MB value crashed it (RangeError: Invalid string length);
// a 50 MB one took 330 MB. The bound is the project's (< 150 MB at any size).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupManifest } from "../../job/inventory/manifest";
import { jobEnv, startCli } from "../helpers/cli";
import { database, dataFingerprint, dropDatabase, sql } from "../helpers/pg";
import { makeBucket, removeBucket, uniqueBucket } from "../helpers/s3";
import { requireServices, services } from "../helpers/services";

const VALUE_MB = 120;
const BOUND_MB = 150;

const bucket = uniqueBucket("dbb-mem");
const created: string[] = [];
let env: Record<string, string>;
let source: { name: string; url: string };
let backup: BackupManifest;

/** Runs the job to its end while sampling its resident memory's high-water mark (VmHWM is the
 * kernel's own peak for the process, so a sample late in the run covers everything before it). */
async function runMeasured(args: string[]): Promise<{ code: number; stdout: string; stderr: string; peakMb: number }> {
  const run = startCli(args, env, { timeoutMs: 300_000 });
  let peakKb = 0;
  const sample = () => {
    try {
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${run.pid}/status`, "utf8"))?.[1] ?? 0);
      if (kb > peakKb) peakKb = kb;
    } catch {
      /* exited */
    }
  };
  const timer = setInterval(sample, 50);
  const result = await run.done;
  clearInterval(timer);
  return { ...result, peakMb: peakKb / 1024 };
}

beforeAll(async () => {
  await requireServices("postgres", "s3");
  await makeBucket(bucket);
  source = await database(created, "dbb_mem_src", {
    sql: `CREATE TABLE public.blobs (id int PRIMARY KEY, payload bytea NOT NULL);
          INSERT INTO public.blobs VALUES (1, decode(repeat('ab', 3), 'hex'));
          INSERT INTO public.blobs SELECT 2, decode(repeat(md5('x') || md5('y'), ${(VALUE_MB * 1024 * 1024) / 32}), 'hex');`,
  });
  env = jobEnv(source.url, bucket, { VERIFY_DB_URL: services.pgUrl, NATS_URL: undefined });
}, 300_000);

afterAll(async () => {
  for (const name of created) await dropDatabase(name).catch(() => undefined);
  await removeBucket(bucket);
});

describe(`one ${VALUE_MB} MB value`, () => {
  it(`create keeps the job under ${BOUND_MB} MB`, async () => {
    const result = await runMeasured(["create", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    backup = JSON.parse(result.stdout) as BackupManifest;
    expect(backup.sizes.dumped).toBeGreaterThan(2 * VALUE_MB * 1024 * 1024);
    expect(result.peakMb).toBeGreaterThan(0);
    expect(result.peakMb).toBeLessThan(BOUND_MB);
  }, 300_000);

  it(`restore brings it back byte for byte, under ${BOUND_MB} MB`, async () => {
    const target = await database(created, "dbb_mem_tgt");
    const result = await runMeasured(["restore", backup.id, "--target", target.url, "--target-env", "test"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.peakMb).toBeLessThan(BOUND_MB);
    expect(await dataFingerprint(target.name, ["public"])).toEqual(await dataFingerprint(source.name, ["public"]));
    const [row] = await sql<{ n: number }>(target.name, "SELECT octet_length(payload) AS n FROM public.blobs WHERE id = 2");
    expect(row!.n).toBe(VALUE_MB * 1024 * 1024);
  }, 300_000);

  it(`verify proves it, under ${BOUND_MB} MB (it used to crash or grow with the value)`, async () => {
    const result = await runMeasured(["verify", backup.id, "--allow-source-server"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Verified .* 1 tables, 2 rows match the manifest/);
    expect(result.peakMb).toBeLessThan(BOUND_MB);
  }, 300_000);
});
