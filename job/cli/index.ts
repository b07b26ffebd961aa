// The command line: parses, builds the context, calls one action. Nothing else lives here: each
// command's flags are in commands/, the context in context.ts, the root command in program.ts.
import { CommanderError } from "commander";
import { consoleLogger, type Logger } from "../core/context";
import { DbBackupError, oneLine } from "../core/errors";
import { Redactor } from "../core/redact";
import { ENV, type Env } from "../core/settings";
import { createCommand } from "./commands/create";
import { deleteCommand } from "./commands/delete";
import { downloadCommand } from "./commands/download";
import { listCommand } from "./commands/list";
import { restoreCommand } from "./commands/restore";
import { statusCommand } from "./commands/status";
import { verifyCommand } from "./commands/verify";
import type { CliIo, CommandDeps } from "./context";
import { rootCommand, routeOutput, withDefaultAction } from "./program";

export type { CliIo } from "./context";

const COMMANDS = [createCommand, listCommand, statusCommand, downloadCommand, restoreCommand, verifyCommand, deleteCommand];

export async function main(argv: string[], env: Env = process.env, io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const redactor = secretsOf(env);
  const log = consoleLogger(redactor, io.stdout as typeof process.stdout, io.stderr as typeof process.stderr);
  const deps: CommandDeps = { env, io, log, redactor };
  const program = rootCommand();
  for (const command of COMMANDS) program.addCommand(command(deps));
  routeOutput(program, io);
  try {
    await program.parseAsync(withDefaultAction(argv, program), { from: "user" });
    return 0;
  } catch (error) {
    return report(error, log);
  }
}

/** Every secret this run could print: keys, tokens and the passwords of every database URL. */
function secretsOf(env: Env): Redactor {
  const redactor = new Redactor().add(env[ENV.secretKey], env[ENV.natsToken], env[ENV.supabaseAccessToken]);
  for (const [name, value] of Object.entries(env)) if (name.endsWith("_DB_URL")) redactor.addUrl(value);
  // A NATS URL may carry a token as its user (nats://<token>@host) or a user and password.
  for (const part of (env[ENV.natsUrl] ?? "").split(",")) {
    const userinfo = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(.*)@/is.exec(part.trim())?.[1];
    if (userinfo) redactor.add(...userinfo.split(":").map((s) => decodeURIComponentSafe(s)), ...userinfo.split(":"));
  }
  return redactor;
}

/** One line on stderr, and the exit code of the error's kind. */
function report(error: unknown, log: Logger): number {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return 0; // --help, --version
    log.info(error.message.replace(/\s*\n\s*/g, " ").trim() + " (see --help)");
    return 2;
  }
  log.info(`error: ${oneLine(error)}`);
  return error instanceof DbBackupError ? error.exitCode : 1;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
