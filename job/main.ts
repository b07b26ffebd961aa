// Entry point of the bundle (dist/db-backup.cjs) and of `npx db-backup`. The process fails closed:
// its exit code is 1 until the action has completed, so a run whose event loop drains with the
// action still pending (a stream that never settles) can never look like a success. SIGTERM and
// SIGINT (a Kubernetes deadline, an eviction, Ctrl-C) are forwarded to the job's children and
// stop the action, which rolls back and cleans up what it started; the exit code is then 128 + the
// signal's number. A second signal, or the grace period running out, ends the process at once —
// still without a commit: nothing the job starts commits on end of input.
import { constants } from "node:os";
import { main } from "./cli";
import { terminateChildren } from "./postgres/process";

/** Kubernetes waits 30 s after SIGTERM before it kills; leave room to say why. */
const GRACE_MS = 25_000;

process.exitCode = 1;
let settled = false;
let stopping: NodeJS.Signals | null = null;
let stoppingAt = 0;
const controller = new AbortController();
const signalCode = (signal: NodeJS.Signals) => 128 + (constants.signals[signal] ?? 15);

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    // The same signal sent to the process and to its group arrives twice at once: that is one.
    if (Date.now() - stoppingAt < 500) return;
    process.stderr.write(`db-backup: ${signal} again: stopping now\n`);
    process.exit(signalCode(stopping));
  }
  stopping = signal;
  stoppingAt = Date.now();
  process.stderr.write(`db-backup: ${signal} received: stopping; what is not committed yet will not be, and what this run started is cleaned up\n`);
  controller.abort(new Error(`interrupted by ${signal}`));
  terminateChildren(signal === "SIGINT" ? "SIGINT" : "SIGTERM");
  setTimeout(() => {
    process.stderr.write(`db-backup: cleanup after ${signal} took longer than ${GRACE_MS / 1000} s: stopping now\n`);
    process.exit(signalCode(signal));
  }, GRACE_MS).unref();
}
process.on("SIGTERM", onSignal);
process.on("SIGINT", onSignal);

// A reader that closed the pipe (`db-backup status | head -1`) is not an error of the action.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}

process.on("beforeExit", () => {
  if (settled) return;
  settled = true;
  process.stderr.write("error: the action stopped before it finished (nothing more was going to happen): treat this run as failed\n");
  process.exitCode = 1;
});

main(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr, signal: controller.signal }).then(
  (code) => {
    settled = true;
    process.exitCode = stopping && code !== 0 ? signalCode(stopping) : code;
  },
  (error: unknown) => {
    settled = true;
    process.stderr.write(`error: ${(error as Error)?.message ?? error}\n`);
    process.exitCode = stopping ? signalCode(stopping) : 1;
  },
);
