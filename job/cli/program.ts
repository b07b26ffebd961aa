// The root command: global flags, help, and how commander's own errors and output reach the
// caller's streams. The commands themselves live in commands/.
import { Command } from "commander";
import pkg from "../../package.json";
import { ENV } from "../core/settings";
import type { CliIo } from "./context";

const EXAMPLES = `
Examples (as the seed's /db:backup):
  db-backup list                                   # list all backups
  db-backup create                                 # create a manual backup
  db-backup status                                 # check backup status
  db-backup restore backup_20250607_120000 --target staging   # restore (staging only)
  db-backup verify                                 # prove the newest unverified backup by restoring it
  db-backup delete backup_20250501_020000          # delete an old backup (operators only)`;

export function rootCommand(): Command {
  return new Command("db-backup")
    .description("Create, list, or restore PostgreSQL (Supabase) database backups in MinIO/S3 or a local directory.")
    .version(pkg.version)
    .showSuggestionAfterError(true)
    .option("--env <name>", `the environment this run belongs to (${ENV.environment})`)
    .option("--db-url <url>", `source database (${ENV.sourceDbUrl})`)
    .option("--endpoint <url>", `S3/MinIO endpoint URL (${ENV.endpoint})`)
    .option("--bucket <name>", `bucket (${ENV.bucket}, default backups)`)
    .option("--prefix <path>", `prefix inside the bucket (${ENV.prefix}, default supabase)`)
    .option("--backup-dir <dir>", `local directory instead of S3 (${ENV.dir})`)
    .option("--nats-url <url>", `NATS server for events (${ENV.natsUrl})`)
    .addHelpText("after", EXAMPLES + `\n\nEnvironment: ${ENV.sourceDbUrl}, ${ENV.endpoint}, ${ENV.accessKey}, ${ENV.secretKey}, ${ENV.bucket}, ${ENV.prefix}, ${ENV.schemas}, ${ENV.natsUrl}, ${ENV.dir}.`);
}

/** Commander throws instead of exiting, writes to the caller's streams, and leaves its error
 * messages to the one-line report. */
export function routeOutput(program: Command, io: CliIo): void {
  const output = {
    writeOut: (s: string) => io.stdout.write(s),
    writeErr: (s: string) => io.stderr.write(s),
    outputError: () => undefined, // reported by the caller, on one line
  };
  program.exitOverride();
  program.configureOutput(output);
  for (const command of program.commands) {
    command.exitOverride();
    command.configureOutput(output);
    command.showSuggestionAfterError(true);
  }
}

/** `list` is the default action (as the seed's). Commander's default command would swallow an
 * unknown action as an argument of `list`, so the default is added only when no action is given;
 * a mistyped action then gets commander's "unknown command … Did you mean …?". */
export function withDefaultAction(argv: string[], program: Command): string[] {
  const valued = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (!arg.startsWith("-")) return argv; // an action (known or not) was given
    if (["-h", "--help", "-V", "--version"].includes(arg)) return argv;
    if (valued.has(arg)) i++; // skip the option's value
  }
  return [...argv, "list"];
}
