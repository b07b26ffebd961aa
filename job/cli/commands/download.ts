// `db-backup download <id> [file]`.
import { Command } from "commander";
import { validateBackupId } from "../../core/ids";
import { given } from "../../core/settings";
import { downloadAction } from "../../inventory";
import { withContext, type CommandDeps } from "../context";

export function downloadCommand(deps: CommandDeps): Command {
  return new Command("download")
    .description("download a backup's dump to a file (or stdout), verifying its SHA-256")
    .argument("<backup_id>", "backup id from `db-backup list`")
    .argument("[file]", "where to write it (default: stdout)")
    .option("--allow-unverified", "allow a legacy dump without checksum", false)
    .option("--dump-version <id>", "the dump version to read when a backup's keys hold versions its backup did not write (status names it)")
    .addHelpText("after", "\nExamples:\n  db-backup download backup_20250607_120000 backup.sql.gz\n  db-backup download backup_20250607_120000 | gunzip | less")
    .action(async (id: string, file: string | undefined, opts, command: Command) => {
      validateBackupId(id);
      await withContext(deps, command, (ctx) =>
        downloadAction(ctx, { id, file, allowUnverified: opts.allowUnverified, version: given(opts.dumpVersion), stdout: deps.io.stdout as NodeJS.WritableStream as never }),
      );
    });
}
