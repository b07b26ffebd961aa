// Runs the job exactly as its container does: `node dist/db-backup.cjs …` with an environment.
import { spawn } from "node:child_process";
import path from "node:path";
import { services } from "./services";

export const ROOT = path.resolve(__dirname, "../..");
export const BUNDLE = path.join(ROOT, "dist/db-backup.cjs");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A clean environment: PATH and HOME only, plus what the test gives (no inherited settings). */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", TZ: "UTC" };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export function runCli(args: string[], env: Record<string, string>, options: { stdin?: string; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUNDLE, ...args], { env, cwd: options.cwd ?? ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

/** The job's environment against the real test services: source, S3 bucket and NATS. */
export function jobEnv(sourceUrl: string, bucket: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  return baseEnv({
    SUPABASE_DB_URL: sourceUrl,
    MINIO_ENDPOINT: services.s3Endpoint,
    MINIO_ACCESS_KEY: services.s3AccessKey,
    MINIO_SECRET_KEY: services.s3SecretKey,
    MINIO_BUCKET: bucket,
    NATS_URL: services.natsUrl,
    ...extra,
  });
}
