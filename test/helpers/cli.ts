// Runs the job exactly as its container does: `node dist/db-backup.cjs …` with an environment,
// either to its end (runCli) or with a handle on the running process (startCli).
import { spawn, type ChildProcess } from "node:child_process";
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

export interface CliOptions {
  /** Text for the job's stdin (then closed); without it, stdin is /dev/null. */
  stdin?: string;
  cwd?: string;
  /** The job is killed (SIGKILL) after this long; default 120 s. */
  timeoutMs?: number;
}

export interface RunningCli {
  child: ChildProcess;
  pid: number;
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
}

/** Starts the job and returns at once, with a handle on the process, so a test can kill or freeze
 * it (or its pg_dump) at a chosen moment (see ./processes). */
export function startCli(args: string[], env: Record<string, string>, options: CliOptions = {}): RunningCli {
  const piped = options.stdin !== undefined;
  const child = spawn(process.execPath, [BUNDLE, ...args], { env, cwd: options.cwd ?? ROOT, stdio: [piped ? "pipe" : "ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      // Node gives a code or the signal that ended the process.
      resolve({ code: code ?? 128, signal, stdout, stderr });
    });
  });
  if (piped) child.stdin!.end(options.stdin);
  return { child, pid: child.pid!, done };
}

/** Runs the job to its end; stdin gets `options.stdin` (default: nothing) and is closed. */
export async function runCli(args: string[], env: Record<string, string>, options: CliOptions = {}): Promise<CliResult> {
  const { code, stdout, stderr } = await startCli(args, env, { ...options, stdin: options.stdin ?? "" }).done;
  return { code, stdout, stderr };
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
