// What every action is handed: its clients, clock and logger, so tests can pass real ones.
import type { EventPublisher } from "./events";
import type { Redactor } from "./redact";
import type { BackupRepository } from "./repository";

export interface Logger {
  /** Progress and notes for humans: stderr. */
  info(line: string): void;
  warn(line: string): void;
  /** The command's result: stdout. */
  out(text: string): void;
  /** A transient progress line (only drawn on a terminal). */
  progress?(line: string): void;
}

export interface JobContext {
  repo: BackupRepository;
  prefix: string;
  events: EventPublisher;
  clock: () => Date;
  log: Logger;
  redactor: Redactor;
  /** The environment this run belongs to (BACKUP_ENV / --env). */
  environment?: string;
  toolVersion: string;
  /** Aborted when the job is told to stop (SIGTERM, SIGINT): long operations end, roll back and
   * clean up what they started. */
  signal?: AbortSignal;
}

export function consoleLogger(redactor: Redactor, stdout = process.stdout, stderr = process.stderr): Logger {
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) stderr.write("\r\x1b[K");
    progressShown = false;
  };
  return {
    info: (line) => (clearProgress(), stderr.write(redactor.redact(line) + "\n")),
    warn: (line) => (clearProgress(), stderr.write("warning: " + redactor.redact(line) + "\n")),
    out: (text) => (clearProgress(), stdout.write(redactor.redact(text.endsWith("\n") ? text : text + "\n"))),
    progress: stderr.isTTY
      ? (line) => {
          stderr.write("\r\x1b[K" + redactor.redact(line));
          progressShown = true;
        }
      : undefined,
  };
}
