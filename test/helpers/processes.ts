// Processes of a running job (started with startCli, ./cli): its process tree read from /proc,
// waiting for a child (pg_dump, pigz, psql, pg_restore), signals, and killing what is left.
import { readFileSync, readdirSync } from "node:fs";
import type { RunningCli } from "./cli";

/** Direct and indirect children of `pid` (from /proc/<pid>/task/<tid>/children). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let text = "";
      try {
        text = readFileSync(`/proc/${p}/task/${t}/children`, "utf8");
      } catch {
        continue;
      }
      for (const c of text.trim().split(/\s+/).filter(Boolean).map(Number)) {
        out.push(c);
        visit(c);
      }
    }
  };
  visit(pid);
  return out;
}

export function commOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return null;
  }
}

/** Bytes a process has written so far (its stdout pipe included). */
export function writtenBytes(pid: number): number {
  try {
    const m = /wchar:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export async function waitFor<T>(what: string, probe: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 30_000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function argsOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

/** The job's child process named `comm` (pg_dump, pigz, psql, pg_restore), once it exists; with
 * `arg`, only one whose arguments include one starting with it (pg_dump --dbname, not --version). */
export function waitForChild(run: RunningCli, comm: string, arg?: string, timeoutMs = 30_000): Promise<number> {
  return waitFor(`${comm} under the job (pid ${run.pid})`, () => {
    if (run.child.exitCode !== null) throw new Error(`the job exited (${run.child.exitCode}) before ${comm} started`);
    return descendants(run.pid).find((p) => commOf(p) === comm && (arg === undefined || argsOf(p).some((a) => a.startsWith(arg))));
  }, timeoutMs);
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** Kills what is left of a job's process tree (by pid, children first). */
export function killTree(pid: number): void {
  for (const p of descendants(pid).reverse()) signal(p, "SIGKILL");
  signal(pid, "SIGKILL");
}
