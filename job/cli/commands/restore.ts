// `db-backup restore <id> --target …`: flags → RestoreOptions, with the settings it reads from the
// environment resolved here, once.
import { Command } from "commander";
import { ENV, given, backupLockSeconds, backupName, compressionLevelSetting, lockTimeoutSetting, nonEmpty, optionalInt, targetUrlSettings } from "../../core/settings";
import { validateBackupId } from "../../core/ids";
import { restoreAction } from "../../restore";
import { withContext, type CommandDeps } from "../context";

export function restoreCommand(deps: CommandDeps): Command {
  const { env } = deps;
  return new Command("restore")
    .description("restore a backup into a target database, verifying checksum and row counts")
    .argument("<backup_id>", "backup id (or pre-migration tag) from `db-backup list`")
    .option("--target <url|env>", "postgres:// URL, or an environment name resolved through <NAME>_DB_URL (e.g. staging → STAGING_DB_URL)")
    .option("--target-env <name>", "the target's environment when --target is a URL (unknown counts as production)")
    .option("--approved-by <name>", "who approved a production restore (required for production)")
    .option("--confirm <backup_id>", "repeat the backup id (required for production)")
    .option("--reason <text>", "why: recorded in the events (required with --skip-safety-backup)")
    .option("--clean", "replace the schemas (tables) the dump brings back, in the restore's transaction; verified backups only", false)
    .option("--create-extensions", "make the extensions a Supabase backup needs where the target lacks them (CREATE EXTENSION, in the restore's transaction)", false)
    .option("--skip-safety-backup", "production: do not back up the target first (needs --reason)", false)
    .option("--request-id <id>", "a config-driven restore's id: recorded, and never run twice")
    .option("--dry-run", "print every check and what would happen; change nothing", false)
    .option("--jobs <n>", "parallel pg_restore jobs for custom-format backups (empty target only)")
    .option("--allow-unverified", "allow a legacy dump without manifest or checksum", false)
    .option("--dump-version <id>", "the dump version to read when a backup's keys hold versions its backup did not write (status names it)")
    .option("--json", "print JSON", false)
    .addHelpText(
      "after",
      `\nA production target (named prod/production, ${ENV.productionDbUrl}'s database, or unknown) needs --approved-by, --confirm <backup_id>, a verified backup, and gets a safety backup first.\nEmpty values (--approved-by "") count as not given.\n\nExamples:\n  db-backup restore backup_20250607_120000 --target staging\n  db-backup restore backup_20250607_120000 --target postgresql://postgres:postgres@localhost:54322/postgres --target-env local\n  db-backup restore backup_20250607_120000 --target production --approved-by alice --confirm backup_20250607_120000 --clean --dry-run`,
    )
    .action(async (id: string, opts, command: Command) => {
      validateBackupId(id);
      const jobs = opts.jobs !== undefined ? optionalInt({ "--jobs": opts.jobs }, "--jobs", 1, 64) : 1;
      const settings = {
        targetUrls: targetUrlSettings(env),
        productionId: nonEmpty(env, ENV.productionDbId),
        productionUrl: nonEmpty(env, ENV.productionDbUrl),
        sourceUrl: nonEmpty(env, ENV.sourceDbUrl),
        supabaseProjectId: nonEmpty(env, ENV.supabaseProjectId),
        safetyBackup: { backupName: backupName(env), compressionLevel: compressionLevelSetting(env), lockSeconds: backupLockSeconds(env, "pre_migration") },
        lockTimeoutSeconds: lockTimeoutSetting(env),
      };
      await withContext(deps, command, (ctx) =>
        restoreAction(ctx, {
          id,
          target: opts.target,
          settings,
          jobs,
          allowUnverified: opts.allowUnverified,
          dumpVersion: given(opts.dumpVersion),
          json: opts.json,
          targetEnv: opts.targetEnv,
          approvedBy: opts.approvedBy,
          confirm: opts.confirm,
          reason: opts.reason,
          requestId: opts.requestId,
          clean: opts.clean,
          createExtensions: opts.createExtensions,
          skipSafetyBackup: opts.skipSafetyBackup,
          dryRun: opts.dryRun,
        }),
      );
    });
}
