// `db-backup verify [id]`: the restore drill.
import { Command } from "commander";
import { validateBackupId } from "../../core/ids";
import { ENV, given, lockTimeoutSetting, restorePointHoldSetting, nonEmpty, postgresUrl } from "../../core/settings";
import { verifyAction } from "../../verify";
import { globalsOf, withContext, type CommandDeps } from "../context";

export function verifyCommand(deps: CommandDeps): Command {
  const { env } = deps;
  return new Command("verify")
    .description("prove a backup: restore it into a scratch database on VERIFY_DB_URL's server and compare row counts")
    .argument("[backup_id]", "backup id or tag (default: the newest full backup not verified yet)")
    .option("--verify-db-url <url>", `server for the scratch database (${ENV.verifyDbUrl})`)
    .option("--allow-source-server", "allow the scratch database on the source's own server", false)
    .option("--dump-version <id>", "the dump version to read when a backup's keys hold versions its backup did not write (status names it)")
    .option("--json", "print JSON", false)
    .addHelpText(
      "after",
      "\nThe scratch database is created for the run and always dropped. Roles the dump refers to that the server lacks are created (NOLOGIN).\nEach drill records its verdict in verifications/ and extends the lock of the newest 3 verified full backups (restore points) to 35 days from now.\n\nExamples:\n  db-backup verify\n  db-backup verify backup_20250607_120000 --json",
    )
    .action(async (id: string | undefined, opts, command: Command) => {
      if (id !== undefined) validateBackupId(id);
      const verifyDbUrl = postgresUrl(given(opts.verifyDbUrl) ?? env[ENV.verifyDbUrl], ENV.verifyDbUrl);
      await withContext(deps, command, (ctx) =>
        verifyAction(ctx, {
          id: given(id),
          verifyDbUrl,
          sourceUrl: globalsOf(command).dbUrl ?? nonEmpty(env, ENV.sourceDbUrl),
          allowSourceServer: opts.allowSourceServer,
          dumpVersion: given(opts.dumpVersion),
          restorePointHoldSeconds: restorePointHoldSetting(env),
          lockTimeoutSeconds: lockTimeoutSetting(env),
          json: opts.json,
        }),
      );
    });
}
