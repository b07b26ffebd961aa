// What every command is handed, and the one place a JobContext is built: settings resolved once
// from the global flags and the environment, the store, the event publisher (closed afterwards).
import type { Command } from "commander";
import pkg from "../../package.json";
import type { JobContext, Logger } from "../core/context";
import type { Redactor } from "../core/redact";
import { ENV, backupPrefix, nonEmpty, optionalInt, repositorySettings, type Env } from "../core/settings";
import { natsPublisher, noEvents } from "../events";
import { openRepository } from "../store";

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  clock?: () => Date;
  /** Aborted when the job is told to stop (SIGTERM, SIGINT). */
  signal?: AbortSignal;
}

/** The flags every command takes (they override the environment). */
export interface GlobalOptions {
  env?: string;
  dbUrl?: string;
  endpoint?: string;
  bucket?: string;
  prefix?: string;
  backupDir?: string;
  natsUrl?: string;
}

export interface CommandDeps {
  env: Env;
  io: CliIo;
  log: Logger;
  redactor: Redactor;
}

export const globalsOf = (command: Command) => command.optsWithGlobals<GlobalOptions>();

/** Builds the context for one action, runs it, and closes the event connection whatever happens. */
export async function withContext(deps: CommandDeps, command: Command, run: (ctx: JobContext) => Promise<unknown>): Promise<void> {
  const { env, io, log, redactor } = deps;
  const globals = globalsOf(command);
  const settings = repositorySettings(env, globals);
  const natsUrl = globals.natsUrl ?? nonEmpty(env, ENV.natsUrl);
  const events = natsUrl ? natsPublisher(natsUrl, { token: nonEmpty(env, ENV.natsToken), redactor }) : noEvents;
  const ctx: JobContext = {
    repo: openRepository(settings, { basePartSizeMb: optionalInt(env, ENV.partSizeMb, 5, 5120) }),
    prefix: backupPrefix(env, globals.prefix),
    events,
    clock: io.clock ?? (() => new Date()),
    log,
    redactor,
    environment: globals.env ?? nonEmpty(env, ENV.environment),
    toolVersion: pkg.version,
    signal: io.signal,
  };
  try {
    await run(ctx);
  } finally {
    await events.close();
  }
}

/** Repeatable flags (`--schema a --schema b`). */
export const collect = (value: string, previous: string[] = []) => [...previous, value];
