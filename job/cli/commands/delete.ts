// `db-backup delete <id>`: operators only.
import { Command } from "commander";
import { validateBackupId } from "../../core/ids";
import { deleteAction } from "../../retention";
import { withContext, type CommandDeps } from "../context";

export function deleteCommand(deps: CommandDeps): Command {
  return new Command("delete")
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
      await withContext(deps, command, (ctx) => deleteAction(ctx, { id, dryRun: opts.dryRun, json: opts.json }));
    });
}
