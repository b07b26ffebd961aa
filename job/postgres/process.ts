// Child processes (pg_dump, pg_restore, pigz): spawned with argument arrays, never a shell; stderr
// always drained (a full pipe deadlocks pg_dump) and its tail kept for the error message. Every
// child dies with the job: the kernel kills it when the job's process ends, however it ends
// (`setpriv --pdeathsig KILL`, util-linux), and the job forwards SIGTERM/SIGINT to the children
// it knows (terminateChildren), so none ever finishes, and commits, on its own.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import type { Redactor } from "../core/redact";
import { toolFailureLine } from "./failures";

const STDERR_TAIL_BYTES = 8 * 1024;

export interface RunningProcess {
  readonly child: ChildProcess;
  /** Resolves on exit code 0; rejects with the (redacted) last stderr line otherwise. */
  readonly exited: Promise<void>;
  stderrTail(): string;
  kill(): void;
}

export function startProcess(
  command: string,
  args: string[],
  options: SpawnOptions & { redactor: Redactor; label?: string },
): RunningProcess {
  const { redactor, label = command, ...spawnOptions } = options;
  const program = command.includes("/") ? command : which(command);
  const setpriv = deathSignalWrapper();
  const [file, argv] = program && setpriv ? [setpriv, ["--pdeathsig", "KILL", "--", program, ...args]] : [program ?? command, args];
  const child = spawn(file, argv, { ...spawnOptions, shell: false });
  let tail = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-STDERR_TAIL_BYTES);
  });
  const stderrTail = () => redactor.redact(tail.trim());
  const exited = new Promise<void>((resolve, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === "ENOENT" ? `${label} is not installed or not on PATH: install the PostgreSQL client tools` : `${label}: ${error.message}`,
        ),
      );
    });
    child.once("close", (code, signal) => {
      if (code === 0) return resolve();
      const line = toolFailureLine(stderrTail());
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      reject(new Error(`${label} failed (${why})${line ? `: ${line}` : ""}`));
    });
  });
  exited.catch(() => undefined); // observed by callers; never an unhandled rejection
  const running: RunningProcess = {
    child,
    exited,
    stderrTail,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
  live.add(running);
  child.once("close", () => live.delete(running));
  child.once("error", () => live.delete(running));
  return running;
}

/** The children running now (the job forwards a SIGTERM or SIGINT it receives to them). */
const live = new Set<RunningProcess>();

/** Sends `signal` to every running child. */
export function terminateChildren(signal: NodeJS.Signals): void {
  for (const p of live) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  }
}

let setprivPath: string | null | undefined;
/** setpriv, which sets the child's parent-death signal before it execs the tool; absent (not
 * Linux, or no util-linux) the children still get the job's forwarded signals. */
function deathSignalWrapper(): string | null {
  if (setprivPath === undefined) setprivPath = process.platform === "linux" ? which("setpriv") : null;
  return setprivPath;
}

/** The absolute path of `command` on PATH, or null. */
export function which(command: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return null;
}

/** Runs a command to its end and returns its standard output (decoded once at the end, so a
 * character split across chunks stays whole); `input` is written to its standard input. Rejects as
 * `startProcess` does when it exits non-zero. */
export async function captureOutput(
  command: string,
  args: string[],
  options: Omit<SpawnOptions, "stdio"> & { redactor: Redactor; label?: string; input?: string },
): Promise<string> {
  const { input, ...rest } = options;
  const p = startProcess(command, args, { ...rest, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
  const chunks: Buffer[] = [];
  p.child.stdout!.on("data", (c: Buffer) => chunks.push(c));
  if (input !== undefined) {
    p.child.stdin!.on("error", () => undefined); // EPIPE when it stops early; its exit says why
    p.child.stdin!.end(input);
  }
  await p.exited;
  return Buffer.concat(chunks).toString("utf8");
}
