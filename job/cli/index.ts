// The command line: parses, builds the context, calls one action. Nothing else lives here.
import { Command, CommanderError, Option } from "commander";
import pkg from "../../package.json";
import { createBackup } from "../backup/create";
import { deleteAction } from "../retention/delete";
import { downloadAction } from "../inventory/download";
import { listAction } from "../report/list";
import { restoreAction } from "../restore/command";
import { statusAction } from "../report/status";
import { verifyAction } from "../verify/command";
import { BACKUP_TYPES, SUPABASE_MANAGED_SCHEMAS, type BackupType } from "../core/catalog";
import {
  ENV,
  backupName,
  backupPrefix,
  nonEmpty,
  optionalInt,
  postgresUrl,
  repositorySettings,
  retentionFromEnv,
  given,
  schemaList,
  type Env,
} from "../core/settings";
import { consoleLogger, type JobContext, type Logger } from "../core/context";
import { DbBackupError, oneLine } from "../core/errors";
import { natsPublisher, noEvents } from "../events/nats";
import { validateBackupId } from "../core/ids";
import { Redactor } from "../core/redact";
import { openRepository } from "../store";
import { supabaseSettings } from "../report/supabase-api";

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  clock?: () => Date;
}

const EXAMPLES = `
Examples (as the seed's /db:backup):
  db-backup list                                   # list all backups
  db-backup create                                 # create a manual backup
  db-backup status                                 # check backup status
  db-backup restore backup_20250607_120000 --target staging   # restore (staging only)
  db-backup verify                                 # prove the newest unverified backup by restoring it
  db-backup delete backup_20250501_020000          # delete an old backup (operators only)`;

interface GlobalOptions {
  env?: string;
  dbUrl?: string;
  endpoint?: string;
  bucket?: string;
  prefix?: string;
  backupDir?: string;
  natsUrl?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export async function main(argv: string[], env: Env = process.env, io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const redactor = new Redactor().add(env[ENV.secretKey], env[ENV.natsToken], env[ENV.supabaseAccessToken]);
  for (const [name, value] of Object.entries(env)) if (name.endsWith("_DB_URL")) redactor.addUrl(value);
  const log = consoleLogger(redactor, io.stdout as typeof process.stdout, io.stderr as typeof process.stderr);
  let exitCode = 0;

  const contextFor = async (command: Command, run: (ctx: JobContext) => Promise<unknown>) => {
    const globals = command.optsWithGlobals<GlobalOptions>();
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
    };
    try {
      await run(ctx);
    } finally {
      await events.close();
    }
  };

  const program = new Command("db-backup")
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

  program
    .command("create")
    .description("dump the database (pg_dump), gzip, checksum and upload it, with a manifest")
    .addOption(new Option("--type <type>", "backup type").choices([...BACKUP_TYPES]).default("manual"))
    .option("--tag <name>", "tag (required for pre_migration), e.g. before_v2_schema")
    .option("--schema <name>", `schema to include (repeatable; default ${ENV.schemas}, else all but Supabase's)`, collect)
    .option("--table <name>", "table to include (repeatable)", collect)
    .option("--schema-only", "dump the schema without data", false)
    .option("--data-only", "dump the data without schema", false)
    .option("--no-acl", "leave out grants (kept by default: Supabase's API depends on them)")
    .addOption(new Option("--format <format>", "plain SQL (gzip) or pg_dump custom format").choices(["plain", "custom"]).default("plain"))
    .option("--compression-level <n>", `gzip level 1-9 (${ENV.compressionLevel}, default 6)`)
    .option("--json", "print the manifest as JSON", false)
    .addHelpText(
      "after",
      `\nDefault scope: every schema except the ones Supabase's platform manages:\n  ${SUPABASE_MANAGED_SCHEMAS.join(", ")}\n\nExamples:\n  db-backup create\n  db-backup create --type pre_migration --tag before_v2_schema\n  db-backup create --table pmoves_core.content_items --table pmoves_core.embeddings --data-only\n  db-backup create --schema pmoves_core --schema-only`,
    )
    .action(async (opts, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const sourceUrl = postgresUrl(globals.dbUrl ?? env[ENV.sourceDbUrl], ENV.sourceDbUrl);
      await contextFor(command, (ctx) =>
        createBackup(ctx, {
          sourceUrl,
          type: opts.type as BackupType,
          tag: opts.tag,
          schemas: opts.schema ?? schemaList(env[ENV.schemas]),
          tables: opts.table ?? [],
          schemaOnly: opts.schemaOnly,
          dataOnly: opts.dataOnly,
          noAcl: opts.acl === false,
          format: opts.format,
          compressionLevel: opts.compressionLevel !== undefined
            ? (optionalInt({ "--compression-level": opts.compressionLevel }, "--compression-level", 1, 9) as number)
            : optionalInt(env, ENV.compressionLevel, 1, 9) ?? 6,
          backupName: backupName(env),
          lockSeconds: optionalInt(env, ENV.lockSeconds, 1, 3650 * 86400),
          json: opts.json,
        }),
      );
    });

  program
    .command("list")
    .description("list backups, newest first (the default action)")
    .option("--type <type>", "only this type (daily, manual, pre_migration, monthly, legacy, auto)")
    .option("--json", "print JSON", false)
    .addHelpText("after", `\nWith ${ENV.supabaseProjectId} and ${ENV.supabaseAccessToken}, Supabase's own backups are listed too, as type Auto.\n\nExamples:\n  db-backup list\n  db-backup list --type daily --json`)
    .action(async (opts, command: Command) =>
      contextFor(command, (ctx) => listAction(ctx, { ...opts, retention: retentionFromEnv(env), supabase: supabaseSettings(env) })),
    );

  program
    .command("status")
    .description("the Backup Status report: latest backups, storage summary, point-in-time recovery")
    .option("--json", "print JSON", false)
    .option("--max-age <type=age,...>", "exit 5 when the newest successful backup of a type is older, e.g. daily=26h,monthly=32d")
    .option("--html <file>", "also write the status page to <file>: one self-contained HTML file with trends and warnings")
    .addHelpText("after", "\nExit code 5 when there is no successful backup, or (--max-age) when backups of a type stopped.\n\nExamples:\n  db-backup status\n  db-backup status --json\n  db-backup status --max-age daily=26h,monthly=32d\n  db-backup status --html status.html")
    .action(async (opts, command: Command) =>
      contextFor(command, (ctx) => statusAction(ctx, { ...opts, retention: retentionFromEnv(env), supabase: supabaseSettings(env) })),
    );

  program
    .command("download")
    .description("download a backup's dump to a file (or stdout), verifying its SHA-256")
    .argument("<backup_id>", "backup id from `db-backup list`")
    .argument("[file]", "where to write it (default: stdout)")
    .option("--allow-unverified", "allow a legacy dump without checksum", false)
    .addHelpText("after", "\nExamples:\n  db-backup download backup_20250607_120000 backup.sql.gz\n  db-backup download backup_20250607_120000 | gunzip | less")
    .action(async (id: string, file: string | undefined, opts, command: Command) => {
      validateBackupId(id);
      await contextFor(command, (ctx) => downloadAction(ctx, { id, file, allowUnverified: opts.allowUnverified, stdout: io.stdout as NodeJS.WritableStream as never }));
    });

  program
    .command("restore")
    .description("restore a backup into a target database, verifying checksum and row counts")
    .argument("<backup_id>", "backup id (or pre-migration tag) from `db-backup list`")
    .option("--target <url|env>", "postgres:// URL, or an environment name resolved through <NAME>_DB_URL (e.g. staging → STAGING_DB_URL)")
    .option("--target-env <name>", "the target's environment when --target is a URL (unknown counts as production)")
    .option("--approved-by <name>", "who approved a production restore (required for production)")
    .option("--confirm <backup_id>", "repeat the backup id (required for production)")
    .option("--reason <text>", "why: recorded in the events (required with --skip-safety-backup)")
    .option("--clean", "replace the schemas (tables) the dump brings back, in the restore's transaction; verified backups only", false)
    .option("--skip-safety-backup", "production: do not back up the target first (needs --reason)", false)
    .option("--request-id <id>", "a config-driven restore's id: recorded, and never run twice")
    .option("--dry-run", "print every check and what would happen; change nothing", false)
    .option("--jobs <n>", "parallel pg_restore jobs for custom-format backups (empty target only)")
    .option("--allow-unverified", "allow a legacy dump without manifest or checksum", false)
    .option("--json", "print JSON", false)
    .addHelpText(
      "after",
      `\nA production target (named prod/production, ${ENV.productionDbUrl}'s database, or unknown) needs --approved-by, --confirm <backup_id>, a verified backup, and gets a safety backup first.\nEmpty values (--approved-by "") count as not given.\n\nExamples:\n  db-backup restore backup_20250607_120000 --target staging\n  db-backup restore backup_20250607_120000 --target postgresql://postgres:postgres@localhost:54322/postgres --target-env local\n  db-backup restore backup_20250607_120000 --target production --approved-by alice --confirm backup_20250607_120000 --clean --dry-run`,
    )
    .action(async (id: string, opts, command: Command) => {
      validateBackupId(id);
      const jobs = opts.jobs !== undefined ? optionalInt({ "--jobs": opts.jobs }, "--jobs", 1, 64) : 1;
      const safetyBackup = {
        backupName: backupName(env),
        compressionLevel: optionalInt(env, ENV.compressionLevel, 1, 9) ?? 6,
        lockSeconds: optionalInt(env, ENV.lockSeconds, 1, 3650 * 86400),
      };
      await contextFor(command, (ctx) =>
        restoreAction(ctx, {
          id,
          target: opts.target,
          env,
          jobs,
          allowUnverified: opts.allowUnverified,
          json: opts.json,
          targetEnv: opts.targetEnv,
          approvedBy: opts.approvedBy,
          confirm: opts.confirm,
          reason: opts.reason,
          requestId: opts.requestId,
          clean: opts.clean,
          skipSafetyBackup: opts.skipSafetyBackup,
          dryRun: opts.dryRun,
          safetyBackup,
        }),
      );
    });

  program
    .command("verify")
    .description("prove a backup: restore it into a scratch database on VERIFY_DB_URL's server and compare row counts")
    .argument("[backup_id]", "backup id or tag (default: the newest full backup not verified yet)")
    .option("--verify-db-url <url>", `server for the scratch database (${ENV.verifyDbUrl})`)
    .option("--allow-source-server", "allow the scratch database on the source's own server", false)
    .option("--json", "print JSON", false)
    .addHelpText(
      "after",
      "\nThe scratch database is created for the run and always dropped. Roles the dump refers to that the server lacks are created (NOLOGIN).\nThe newest 3 verified full backups are restore points: protected from lifecycle expiry and deletion.\n\nExamples:\n  db-backup verify\n  db-backup verify backup_20250607_120000 --json",
    )
    .action(async (id: string | undefined, opts, command: Command) => {
      if (id !== undefined) validateBackupId(id);
      const verifyDbUrl = postgresUrl(given(opts.verifyDbUrl) ?? env[ENV.verifyDbUrl], ENV.verifyDbUrl);
      await contextFor(command, (ctx) =>
        verifyAction(ctx, {
          id: given(id),
          verifyDbUrl,
          sourceUrl: command.optsWithGlobals<GlobalOptions>().dbUrl ?? nonEmpty(env, ENV.sourceDbUrl),
          allowSourceServer: opts.allowSourceServer,
          lockSeconds: optionalInt(env, ENV.lockSeconds, 1, 3650 * 86400),
          json: opts.json,
        }),
      );
    });

  program
    .command("delete")
    .description("delete a backup for good: every version of its dump and manifest (operators' credentials)")
    .argument("<backup_id>", "backup id or tag")
    .option("--dry-run", "print the checks; delete nothing", false)
    .option("--json", "print JSON", false)
    .addHelpText(
      "after",
      "\nRefused for a backup younger than 7 days, one of the protected restore points, one whose deletion would leave fewer than 3 verified restore points, and one under legal hold.\n\nExamples:\n  db-backup delete backup_20250501_020000 --dry-run\n  db-backup delete backup_20250501_020000",
    )
    .action(async (id: string, opts, command: Command) => {
      validateBackupId(id);
      await contextFor(command, (ctx) => deleteAction(ctx, { id, dryRun: opts.dryRun, json: opts.json }));
    });

  program.exitOverride();
  program.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    outputError: () => undefined, // reported below, on one line
  });
  for (const command of program.commands) {
    command.exitOverride();
    command.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: () => undefined });
    command.showSuggestionAfterError(true);
  }

  try {
    await program.parseAsync(withDefaultAction(argv, program), { from: "user" });
  } catch (error) {
    exitCode = report(error, log);
  }
  return exitCode;
}

/** `list` is the default action (as the seed's). Commander's default command would swallow an
 * unknown action as an argument of `list`, so the default is added only when no action is given;
 * a mistyped action then gets commander's "unknown command … Did you mean …?". */
function withDefaultAction(argv: string[], program: Command): string[] {
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

function report(error: unknown, log: Logger): number {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return 0; // --help, --version
    log.info(error.message.replace(/\s*\n\s*/g, " ").trim() + " (see --help)");
    return 2;
  }
  if (error instanceof DbBackupError) {
    log.info(`error: ${oneLine(error)}`);
    return error.exitCode;
  }
  log.info(`error: ${oneLine(error)}`);
  return 1;
}
